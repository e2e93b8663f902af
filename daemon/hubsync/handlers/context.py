"""What a handler needs: the portal's settings and directory, HubSpot reads, Simpli, the memo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from hubsync.clock import Clock
from hubsync.config import PortalConfig
from hubsync.hubspot.api import HubSpotAPI
from hubsync.hubspot.conversations import Conversations
from hubsync.hubspot.directory import Directory
from hubsync.ledger.records import Event
from hubsync.ledger.store import Ledger
from hubsync.simpli.services import QA, Reply, Sentiment, Triage

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Simpli:
    triage: Triage
    reply: Reply
    sentiment: Sentiment
    qa: QA


@dataclass
class HandlerContext:
    portal: PortalConfig
    directory: Directory
    ledger: Ledger
    api: HubSpotAPI
    conversations: Conversations
    simpli: Simpli
    clock: Clock
    escalation_threshold: float = 0.5
    known_contacts: set[str] = field(default_factory=set)

    def contact_exists(self, contact_id: str) -> bool:
        """Whether an id is a CRM contact; a yes is cached (contacts are not un-created,
        while a visitor id may become a contact later, so a no is asked again)."""
        if contact_id in self.known_contacts:
            return True
        exists = self.api.contact_exists(contact_id)
        if exists:
            self.known_contacts.add(contact_id)
        return exists

    def memoized(self, event: Event, kind: str, model: type[M], call: Callable[[], M]) -> M:
        """Ask once per (event, kind); a replay reuses the stored answer."""
        stored = self.ledger.memo(event.portal, event.dedupe_key, kind)
        if stored is not None:
            return model.model_validate(stored)
        answer = call()
        self.ledger.remember(event.portal, event.dedupe_key, kind, answer.model_dump())
        return answer


Handler = Callable[[HandlerContext, Event], list[Any]]

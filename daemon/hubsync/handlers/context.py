"""What a handler needs: the portal's settings and directory, Simpli clients, the memo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from hubsync.clock import Clock
from hubsync.config import PortalConfig
from hubsync.hubspot.directory import Directory
from hubsync.ledger.records import Event
from hubsync.ledger.store import Ledger
from hubsync.simpli.services import Reply, Triage

M = TypeVar("M", bound=BaseModel)


@dataclass
class HandlerContext:
    portal: PortalConfig
    directory: Directory
    ledger: Ledger
    triage: Triage
    reply: Reply
    clock: Clock

    def memoized(self, event: Event, kind: str, model: type[M], call: Callable[[], M]) -> M:
        """Ask Simpli once per (event, kind); a replay reuses the stored answer."""
        stored = self.ledger.memo(event.portal, event.dedupe_key, kind)
        if stored is not None:
            return model.model_validate(stored)
        answer = call()
        self.ledger.remember(event.portal, event.dedupe_key, kind, answer.model_dump())
        return answer


Handler = Callable[[HandlerContext, Event], list[Any]]

"""The Conversations inbox API: threads, their messages, and who sent them.

Facts it relies on (``hubspot-api.md`` §9): the thread list sorts by
``latestMessageTimestamp`` only together with ``latestMessageTimestampAfter`` (always send
both); paging ends only when ``paging.next`` is absent, and a page may repeat; messages come
newest first; long texts are truncated (``original-content`` has the rest); message ``type``
is one of MESSAGE, COMMENT, WELCOME_MESSAGE, ASSIGNMENT, THREAD_STATUS_CHANGE,
THREAD_INBOX_CHANGE; actor ids are ``A-`` user, ``V-`` visitor/contact, ``E-`` email (old
data), ``L-`` AI agent, ``I-`` integration, ``S-`` system.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubsync.clock import iso_ms, parse_iso
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.hubspot.records import BadRecord

BASE = "/conversations/v3/conversations"
CUSTOMER_PREFIXES = ("V-", "E-")


@dataclass(frozen=True)
class Thread:
    id: str
    latest_message_at: datetime
    contact_id: str | None           # may be a visitor id, not a CRM contact
    ticket_id: str | None
    channel_id: str | None
    status: str

    @classmethod
    def from_api(cls, raw: Any) -> Thread:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise BadRecord("thread has no id")
        latest = raw.get("latestMessageTimestamp") or raw.get("createdAt")
        if not latest:
            raise BadRecord("thread has no latestMessageTimestamp")
        try:
            latest_at = parse_iso(str(latest))
        except ValueError:
            raise BadRecord("thread latestMessageTimestamp is not a timestamp") from None
        assoc = raw.get("threadAssociations") or {}
        ticket = assoc.get("associatedTicketId") if isinstance(assoc, dict) else None
        contact = raw.get("associatedContactId")
        channel = raw.get("originalChannelId")
        return cls(str(raw["id"]), latest_at, str(contact) if contact else None,
                   str(ticket) if ticket else None, str(channel) if channel else None,
                   str(raw.get("status") or "OPEN"))


@dataclass(frozen=True)
class Message:
    id: str
    type: str
    thread_id: str
    created_at: datetime
    direction: str | None
    sender: str | None              # first sender's actor id
    text: str
    truncated: bool
    channel_id: str | None

    @classmethod
    def from_api(cls, raw: Any, thread_id: str) -> Message:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("type"):
            raise BadRecord("message has no id or type")
        try:
            created = parse_iso(str(raw.get("createdAt")))
        except ValueError:
            raise BadRecord("message createdAt is not a timestamp") from None
        senders = raw.get("senders") or []
        sender = senders[0].get("actorId") if senders and isinstance(senders[0], dict) else None
        return cls(str(raw["id"]), str(raw["type"]), thread_id, created,
                   raw.get("direction"), str(sender) if sender else None,
                   str(raw.get("text") or ""),
                   str(raw.get("truncationStatus") or "NOT_TRUNCATED") != "NOT_TRUNCATED",
                   str(raw["channelId"]) if raw.get("channelId") else None)

    @property
    def from_customer(self) -> bool:
        """A customer's own words: a MESSAGE, incoming, from a visitor/contact actor."""
        return (self.type == "MESSAGE" and self.direction == "INCOMING"
                and self.sender is not None and self.sender.startswith(CUSTOMER_PREFIXES))

    @property
    def role(self) -> str | None:
        """Simpli's role for a conversation turn; None for what is not a turn."""
        if self.type != "MESSAGE":
            return None
        if self.direction == "INCOMING":
            return "customer" if self.sender is None or self.sender.startswith(
                CUSTOMER_PREFIXES) else "system"
        return "agent"


class Conversations:
    def __init__(self, http: HubSpotHTTP) -> None:
        self.http = http

    def threads_since(self, since: datetime, *, limit: int = 100) -> Iterator[list[Thread]]:
        """Pages of threads whose latest message is after ``since``, oldest first."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {
                "sort": "latestMessageTimestamp", "latestMessageTimestampAfter": iso_ms(since),
                "association": "TICKET", "limit": limit}
            if after is not None:
                params["after"] = after
            raw = self.http.get(f"{BASE}/threads", params) or {}
            yield [Thread.from_api(t) for t in raw.get("results") or []]
            after = ((raw.get("paging") or {}).get("next") or {}).get("after")
            if after is None or after in seen:      # absent: done; repeated: the known quirk
                return
            seen.add(after)

    def ticket_threads(self, ticket_id: str) -> list[Thread]:
        raw = self.http.get(f"{BASE}/threads", {"associatedTicketId": ticket_id,
                                                "association": "TICKET", "limit": 100}) or {}
        return [Thread.from_api(t) for t in raw.get("results") or []]

    def messages(self, thread_id: str, *, newer_than: datetime | None = None
                 ) -> list[Message]:
        """A thread's messages, oldest first; stops paging once older than ``newer_than``."""
        out: list[Message] = []
        after: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"limit": 100}
            if after is not None:
                params["after"] = after
            raw = self.http.get(f"{BASE}/threads/{thread_id}/messages", params) or {}
            page = [Message.from_api(m, thread_id) for m in raw.get("results") or []]
            out.extend(page)
            after = ((raw.get("paging") or {}).get("next") or {}).get("after")
            if newer_than is not None and page and min(m.created_at for m in page) < newer_than:
                break
            if after is None or after in seen:
                break
            seen.add(after)
        unique = {m.id: m for m in out}
        return sorted(unique.values(), key=lambda m: (m.created_at, m.id))

    def full_text(self, message: Message) -> str:
        """The whole text of a message the list truncated."""
        if not message.truncated:
            return message.text
        raw = self.http.get(
            f"{BASE}/threads/{message.thread_id}/messages/{message.id}/original-content") or {}
        return str(raw.get("text") or message.text)

"""The messages stream: new customer messages in conversation threads.

Threads are listed by ``latestMessageTimestamp`` after the cursor minus an overlap window;
for each, the messages newer than the window are read and deduplicated by message id in the
events inbox. Only a customer's own words become events: type MESSAGE, direction INCOMING,
a visitor/contact sender. Comments (internal notes), welcome messages, assignments, status
and inbox changes, and agents' or bots' replies do not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from hubsync.clock import Clock, iso_ms, parse_iso
from hubsync.config import PollingConfig, PortalConfig
from hubsync.hubspot.conversations import Conversations, Message, Thread
from hubsync.hubspot.records import BadRecord
from hubsync.ledger.records import NewEvent
from hubsync.ledger.store import Ledger

log = structlog.get_logger(__name__)
STREAM, LANE = "messages", "fast"
THREAD_STREAM = "thread"        # one cursor lane per thread: its newest message already read
SETTLED = timedelta(seconds=2)


@dataclass(frozen=True)
class Position:
    watermark: datetime          # newest latestMessageTimestamp recorded
    origin: datetime             # where this ledger began reading messages

    def dump(self) -> str:
        return json.dumps({"watermark": iso_ms(self.watermark), "origin": iso_ms(self.origin)})

    @classmethod
    def load(cls, raw: str) -> Position:
        data = json.loads(raw)
        return cls(parse_iso(data["watermark"]), parse_iso(data["origin"]))


def message_event(thread: Thread, message: Message, text: str) -> NewEvent:
    return NewEvent(f"message:{message.id}", "message.received", message.id, {
        "thread_id": thread.id, "message_id": message.id, "text": text,
        "contact_id": thread.contact_id, "ticket_id": thread.ticket_id,
        "channel_id": message.channel_id or thread.channel_id, "sender": message.sender,
        "event_time": iso_ms(message.created_at),
    })


def already_read(raw: str | None, thread: Thread) -> bool:
    """True when this thread's newest message was read in full before.

    The overlap window lists recently active threads again on every poll; re-reading their
    messages would cost one call per thread per cycle. A thread is skipped only when its
    ``latestMessageTimestamp`` has not moved and the last read happened comfortably after it
    (so a second message in the same millisecond cannot have been missed).
    """
    if raw is None:
        return False
    data = json.loads(raw)
    latest, read_at = parse_iso(data["latest"]), parse_iso(data["read_at"])
    return thread.latest_message_at <= latest and read_at - latest >= SETTLED


@dataclass
class MessagePoll:
    unchanged: int = 0
    threads: int = 0
    messages: int = 0
    events: int = 0
    skipped: int = 0


class MessageStream:
    def __init__(self, portal: PortalConfig, conversations: Conversations, ledger: Ledger,
                 clock: Clock, cfg: PollingConfig) -> None:
        self.portal = portal
        self.conversations = conversations
        self.ledger = ledger
        self.clock = clock
        self.cfg = cfg

    def position(self) -> Position:
        raw = self.ledger.cursor(self.portal.id, STREAM, LANE)
        if raw is not None:
            return Position.load(raw)
        origin = self.clock.now() - timedelta(seconds=self.cfg.initial_lookback_s)
        return Position(origin, origin)

    def poll(self) -> MessagePoll:
        position = self.position()
        since = max(position.origin, position.watermark - timedelta(seconds=self.cfg.overlap_s))
        result = MessagePoll()
        for page in self.conversations.threads_since(since):
            events: list[NewEvent] = []
            read: list[tuple[str, str, str]] = []
            known = self.ledger.cursors(self.portal.id, THREAD_STREAM, [t.id for t in page])
            for thread in page:
                result.threads += 1
                if already_read(known.get(thread.id), thread):
                    result.unchanged += 1
                    continue
                events.extend(self._thread_events(thread, since, position.origin, result))
                read.append((THREAD_STREAM, thread.id, json.dumps({
                    "latest": iso_ms(thread.latest_message_at),
                    "read_at": iso_ms(self.clock.now())})))
            newest = max((t.latest_message_at for t in page), default=position.watermark)
            position = Position(max(position.watermark, newest), position.origin)
            result.events += self.ledger.record_page(self.portal.id, [], events,
                                                     (STREAM, LANE, position.dump()), read)
        return result

    def _thread_events(self, thread: Thread, since: datetime, origin: datetime,
                       result: MessagePoll) -> list[NewEvent]:
        events = []
        try:
            messages = self.conversations.messages(thread.id, newer_than=since)
        except BadRecord as exc:
            log.warning("record_invalid", stream=STREAM, record_id=thread.id, reason=str(exc))
            return []
        for message in messages:
            if message.created_at < since or message.created_at < origin:
                continue
            result.messages += 1
            if not message.from_customer:
                result.skipped += 1
                continue
            events.append(message_event(thread, message, self.conversations.full_text(message)))
        return events

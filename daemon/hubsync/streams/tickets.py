"""The tickets stream: one CRM search on ``hs_lastmodifieddate`` covers new and changed tickets.

Reads ascending by modification time, 200 a page, from the cursor minus an overlap window
(HubSpot's search index lags writes), and follows ``paging.next.after`` until it is absent.
Before the 10,000-result ceiling it restarts with a new ``GTE`` window at the newest time
seen. Each page's snapshots, events and the advanced cursor are committed together, so the
cursor never runs ahead of the ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from hubsync.clock import Clock, from_epoch_ms, to_epoch_ms
from hubsync.config import PollingConfig, PortalConfig
from hubsync.hubspot.api import HubSpotAPI
from hubsync.hubspot.directory import Directory
from hubsync.hubspot.records import Ticket
from hubsync.ledger.records import NewEvent, Snapshot
from hubsync.ledger.store import Ledger
from hubsync.streams import changes

log = structlog.get_logger(__name__)
STREAM, LANE = "tickets", "fast"


@dataclass(frozen=True)
class Position:
    """The stream's cursor: newest modification recorded, and where the ledger began."""

    watermark_ms: int
    origin_ms: int

    def dump(self) -> str:
        return json.dumps({"watermark_ms": self.watermark_ms, "origin_ms": self.origin_ms})

    @classmethod
    def load(cls, raw: str) -> Position:
        data = json.loads(raw)
        return cls(int(data["watermark_ms"]), int(data["origin_ms"]))


def window_start(position: Position, overlap_s: float) -> int:
    """Where the next search starts: the watermark minus the overlap, never before origin."""
    return max(position.origin_ms, position.watermark_ms - int(overlap_s * 1000))


@dataclass
class PollResult:
    pages: int = 0
    seen: int = 0
    events: int = 0
    bad: int = 0
    windows: int = 1
    watermark_ms: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


class TicketStream:
    def __init__(self, portal: PortalConfig, api: HubSpotAPI, ledger: Ledger, clock: Clock,
                 cfg: PollingConfig, directory: Directory) -> None:
        self.portal = portal
        self.directory = directory
        self.api = api
        self.ledger = ledger
        self.clock = clock
        self.cfg = cfg

    def position(self) -> Position:
        raw = self.ledger.cursor(self.portal.id, STREAM, LANE)
        if raw is not None:
            return Position.load(raw)
        origin = to_epoch_ms(self.clock.now() - timedelta(seconds=self.cfg.initial_lookback_s))
        return Position(origin, origin)

    def poll(self) -> PollResult:
        """Read every ticket modified since the window start into the ledger."""
        position = self.position()
        since = window_start(position, self.cfg.overlap_s)
        origin = from_epoch_ms(position.origin_ms)
        result = PollResult(watermark_ms=position.watermark_ms)
        after: str | None = None
        while True:
            page = self.api.search_tickets(since_ms=since, limit=self.cfg.page_size, after=after,
                                           pipelines=self.portal.pipelines)
            result.pages += 1
            snaps, events = self._classify_page(page.tickets, page.bad, since, origin, result)
            newest = max([to_epoch_ms(t.modified_at) for t in page.tickets
                          if to_epoch_ms(t.modified_at) >= since], default=0)
            position = Position(max(position.watermark_ms, newest), position.origin_ms)
            result.events += self.ledger.record_page(
                self.portal.id, snaps, events, (STREAM, LANE, position.dump()))
            result.watermark_ms = position.watermark_ms
            if page.next_after is None:
                return result
            offset = int(page.next_after)
            if offset + self.cfg.page_size > self.cfg.max_window_results:
                if position.watermark_ms <= since:
                    # More than a window's worth of rows share one millisecond: reading on
                    # would loop. Say so loudly; the next cycle tries again.
                    log.error("search_window_saturated", since_ms=since)
                    return result
                since, after = position.watermark_ms, None
                result.windows += 1
                continue
            after = page.next_after

    def _classify_page(self, tickets: list[Ticket], bad: list[tuple[str, str]], since: int,
                       origin: datetime, result: PollResult
                       ) -> tuple[list[Snapshot], list[NewEvent]]:
        previous = self.ledger.snapshots(self.portal.id, [t.id for t in tickets])
        snaps: list[Snapshot] = []
        events: list[NewEvent] = []
        for ticket in tickets:
            if to_epoch_ms(ticket.modified_at) < since:
                continue  # HubSpot sometimes returns rows outside the window: filter here
            result.seen += 1
            change = changes.classify(self.portal.id, ticket, previous.get(ticket.id), origin,
                                      self.directory.stage)
            if change.snapshot is not None:
                snaps.append(change.snapshot)
                previous[ticket.id] = change.snapshot
            for event in change.events:
                events.append(event)
                result.kinds[event.kind] = result.kinds.get(event.kind, 0) + 1
        for record_id, reason in bad:
            result.bad += 1
            log.warning("record_invalid", stream=STREAM, record_id=record_id, reason=reason)
            events.append(NewEvent(f"ticket:{record_id}:invalid:{reason[:60]}", "ticket.invalid",
                                   record_id if record_id.isdigit() else "0",
                                   {"reason": reason}))
        return snaps, events

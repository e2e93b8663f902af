"""The tickets stream: one CRM search on ``hs_lastmodifieddate`` covers new and changed tickets.

Reads ascending by modification time, 200 a page, from the cursor minus an overlap window
(HubSpot's search index lags writes), and follows ``paging.next.after`` until it is absent.
Before the 10,000-result ceiling it restarts with a new ``GTE`` window at the newest time
seen. Each page's snapshots, events and the advanced cursor are committed together, so the
cursor never runs ahead of the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
STREAM, LANE, SETTLED = "tickets", "fast", "settled"


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
        """Fast lane: every ticket modified since the cursor minus the overlap."""
        position = self.position()
        since = window_start(position, self.cfg.overlap_s)
        result = PollResult(watermark_ms=position.watermark_ms)

        def advance(newest: int) -> tuple[str, str, str]:
            nonlocal position
            position = Position(max(position.watermark_ms, newest), position.origin_ms)
            result.watermark_ms = position.watermark_ms
            return (STREAM, LANE, position.dump())

        self._read(since, None, from_epoch_ms(position.origin_ms), result, advance)
        return result

    def poll_settled(self) -> PollResult | None:
        """Settled lane: re-read an older window once HubSpot's index has surely caught up.

        Search can return a row minutes (reportedly up to an hour) after its modification,
        later than the fast lane's overlap. This lane walks behind ``now - settled_delay_s``
        in windows of ``settled_window_s``, at most every ``settled_interval_s``; anything
        the fast lane missed is classified like any other read (the snapshots make re-reads
        of known rows free of events). Returns None when it is not yet time.
        """
        now_ms = to_epoch_ms(self.clock.now())
        raw = self.ledger.cursor(self.portal.id, STREAM, SETTLED)
        origin_ms = self.position().origin_ms
        settled_ms, ran_ms = origin_ms, None
        if raw is not None:
            data = json.loads(raw)
            settled_ms, ran_ms = int(data["settled_ms"]), int(data["ran_ms"])
        if ran_ms is not None and now_ms - ran_ms < self.cfg.settled_interval_s * 1000:
            return None
        until = settled_ms + int(self.cfg.settled_window_s * 1000)
        if until > now_ms - int(self.cfg.settled_delay_s * 1000):
            return None         # the next window has not fully settled yet
        result = PollResult(watermark_ms=settled_ms)
        self._read(settled_ms, until, from_epoch_ms(origin_ms), result, lambda _newest: None)
        self.ledger.set_cursor(self.portal.id, STREAM, SETTLED,
                               json.dumps({"settled_ms": until, "ran_ms": now_ms}))
        result.watermark_ms = until
        return result

    def _read(self, since: int, until: int | None, origin: datetime, result: PollResult,
              cursor_for: Callable[[int], tuple[str, str, str] | None]) -> None:
        """Page through ``[since, until)``; each page is recorded with ``cursor_for(newest)``.

        Follows ``paging.next.after`` until it is absent and restarts the window at the
        newest time seen before HubSpot's 10,000-result ceiling.
        """
        after: str | None = None
        while True:
            page = self.api.search_tickets(since_ms=since, until_ms=until,
                                           limit=self.cfg.page_size, after=after,
                                           pipelines=self.portal.pipelines)
            result.pages += 1
            snaps, events = self._classify_page(page.tickets, page.bad, since, until, origin,
                                                result)
            in_window = [to_epoch_ms(t.modified_at) for t in page.tickets
                         if to_epoch_ms(t.modified_at) >= since
                         and (until is None or to_epoch_ms(t.modified_at) < until)]
            newest = max(in_window, default=since)
            result.events += self.ledger.record_page(self.portal.id, snaps, events,
                                                     cursor_for(newest))
            if page.next_after is None:
                return
            offset = int(page.next_after)
            if offset + self.cfg.page_size > self.cfg.max_window_results:
                if newest <= since:
                    # More than a window's worth of rows share one millisecond: reading on
                    # would loop. Say so loudly; the next cycle tries again.
                    log.error("search_window_saturated", since_ms=since)
                    return
                since, after = newest, None
                result.windows += 1
                continue
            after = page.next_after

    def _classify_page(self, tickets: list[Ticket], bad: list[tuple[str, str]], since: int,
                       until: int | None, origin: datetime, result: PollResult
                       ) -> tuple[list[Snapshot], list[NewEvent]]:
        previous = self.ledger.snapshots(self.portal.id, [t.id for t in tickets])
        snaps: list[Snapshot] = []
        events: list[NewEvent] = []
        for ticket in tickets:
            modified = to_epoch_ms(ticket.modified_at)
            if modified < since or (until is not None and modified >= until):
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

"""Ticket change classification and the stream's cursor arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.hubspot.records import Ticket
from hubsync.streams import changes
from hubsync.streams.tickets import Position, window_start

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ticket(*, created: datetime = T0, modified: datetime = T0, subject: str = "s",
           content: str = "c", stage: str = "1", owner: str | None = None) -> Ticket:
    return Ticket("42", subject, content, "0", stage, None, owner, "EMAIL", created, modified)


class TestClassify:
    def test_new_ticket_after_origin_is_created(self) -> None:
        change = changes.classify("p", ticket(), None, origin=T0 - timedelta(hours=1))
        assert change.event is not None and change.event.kind == "ticket.created"
        assert change.event.dedupe_key == "ticket:42:created"
        assert change.snapshot is not None and change.snapshot.stage == "1"

    def test_new_ticket_before_origin_is_only_a_baseline(self) -> None:
        change = changes.classify("p", ticket(created=T0 - timedelta(days=3)), None, origin=T0)
        assert change.event is None and change.snapshot is not None

    def test_overlap_reread_is_nothing(self) -> None:
        snap = changes.snapshot_of("p", ticket())
        change = changes.classify("p", ticket(), snap, origin=T0 - timedelta(hours=1))
        assert change == changes.Change(None, None)

    def test_own_write_echo_moves_snapshot_without_event(self) -> None:
        snap = changes.snapshot_of("p", ticket())
        later = ticket(modified=T0 + timedelta(seconds=5), owner="101")
        change = changes.classify("p", later, snap, origin=T0 - timedelta(hours=1))
        assert change.event is None
        assert change.snapshot is not None and change.snapshot.last_modified > snap.last_modified

    def test_created_payload_carries_event_time(self) -> None:
        change = changes.classify("p", ticket(modified=T0 + timedelta(milliseconds=5)), None,
                                  origin=T0 - timedelta(hours=1))
        assert change.event is not None
        assert change.event.payload["event_time"] == "2026-03-01T12:00:00.005Z"


class TestCursor:
    def test_window_starts_overlap_before_watermark(self) -> None:
        assert window_start(Position(1_000_000, 0), overlap_s=300) == 700_000

    def test_window_never_starts_before_origin(self) -> None:
        assert window_start(Position(1_000_000, 900_000), overlap_s=300) == 900_000

    def test_position_round_trips(self) -> None:
        pos = Position(1_700_000_000_123, 1_600_000_000_000)
        assert Position.load(pos.dump()) == pos

"""Ticket change classification and the stream's cursor arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.hubspot.records import Stage, Ticket
from hubsync.streams import changes
from hubsync.streams.tickets import Position, window_start

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ticket(*, created: datetime = T0, modified: datetime = T0, subject: str = "s",
           content: str = "c", stage: str = "1", owner: str | None = None) -> Ticket:
    return Ticket("42", subject, content, "0", stage, None, owner, "EMAIL", created, modified)


STAGES = {
    "1": Stage("1", "New", "0", closed=False),
    "2": Stage("2", "Waiting on contact", "0", closed=False),
    "3": Stage("3", "Waiting on us", "0", closed=False),
    "4": Stage("4", "Closed", "0", closed=True),
    "5": Stage("5", "Spam", "0", closed=True),
}
ORIGIN = T0 - timedelta(hours=1)


def classify(current: Ticket, previous: Ticket | None) -> changes.Change:
    snap = changes.snapshot_of("p", previous) if previous is not None else None
    return changes.classify("p", current, snap, ORIGIN, STAGES.get)


def kinds(change: changes.Change) -> list[str]:
    return [e.kind for e in change.events]


LATER = T0 + timedelta(minutes=5)


class TestClassify:
    def test_new_ticket_after_origin_is_created(self) -> None:
        change = classify(ticket(), None)
        assert kinds(change) == ["ticket.created"]
        assert change.events[0].dedupe_key == "ticket:42:created"
        assert change.snapshot is not None and change.snapshot.stage == "1"

    def test_new_ticket_before_origin_is_only_a_baseline(self) -> None:
        change = changes.classify("p", ticket(created=T0 - timedelta(days=3)), None,
                                  origin=T0, stage_of=STAGES.get)
        assert change.events == () and change.snapshot is not None

    def test_overlap_reread_is_nothing(self) -> None:
        assert classify(ticket(), ticket()) == changes.Change(None)

    def test_own_write_echo_moves_snapshot_without_event(self) -> None:
        change = classify(ticket(modified=LATER, owner="101"), ticket())
        assert change.events == ()
        assert change.snapshot is not None and change.snapshot.last_modified == LATER

    def test_hubspot_internal_change_is_nothing(self) -> None:
        """Same stage, subject and content, only hs_lastmodifieddate moved."""
        assert classify(ticket(modified=LATER), ticket()).events == ()

    def test_stage_change_names_from_and_to(self) -> None:
        change = classify(ticket(modified=LATER, stage="3"), ticket(stage="1"))
        assert kinds(change) == ["ticket.stage_changed"]
        payload = change.events[0].payload
        assert (payload["from_stage"], payload["to_stage"]) == ("1", "3")
        assert payload["to_stage_label"] == "Waiting on us"

    def test_stage_skip_straight_to_closed_is_closed(self) -> None:
        """New → (Waiting on us, unseen) → Closed between two polls: one closed event."""
        assert kinds(classify(ticket(modified=LATER, stage="4"), ticket(stage="1"))) == \
            ["ticket.closed"]

    def test_closed_to_another_closed_stage_is_a_stage_change(self) -> None:
        assert kinds(classify(ticket(modified=LATER, stage="5"), ticket(stage="4"))) == \
            ["ticket.stage_changed"]

    def test_reopen(self) -> None:
        change = classify(ticket(modified=LATER, stage="3"), ticket(stage="4"))
        assert kinds(change) == ["ticket.reopened"]

    def test_unknown_stage_is_treated_as_open(self) -> None:
        assert kinds(classify(ticket(modified=LATER, stage="99"), ticket(stage="1"))) == \
            ["ticket.stage_changed"]

    def test_content_edit(self) -> None:
        change = classify(ticket(modified=LATER, content="more detail"), ticket())
        assert kinds(change) == ["ticket.content_edited"]

    def test_stage_change_and_edit_together_are_two_events(self) -> None:
        change = classify(ticket(modified=LATER, stage="3", subject="new"), ticket())
        assert kinds(change) == ["ticket.stage_changed", "ticket.content_edited"]

    def test_each_transition_is_its_own_event(self) -> None:
        first = classify(ticket(modified=LATER, stage="4"), ticket())
        later = T0 + timedelta(hours=2)
        second = classify(ticket(modified=later, stage="4"), ticket(modified=LATER, stage="3"))
        assert first.events[0].dedupe_key != second.events[0].dedupe_key

    def test_created_payload_carries_event_time(self) -> None:
        change = classify(ticket(modified=T0 + timedelta(milliseconds=5)), None)
        assert change.events[0].payload["event_time"] == "2026-03-01T12:00:00.005Z"


class TestCursor:
    def test_window_starts_overlap_before_watermark(self) -> None:
        assert window_start(Position(1_000_000, 0), overlap_s=300) == 700_000

    def test_window_never_starts_before_origin(self) -> None:
        assert window_start(Position(1_000_000, 900_000), overlap_s=300) == 900_000

    def test_position_round_trips(self) -> None:
        pos = Position(1_700_000_000_123, 1_600_000_000_000)
        assert Position.load(pos.dump()) == pos

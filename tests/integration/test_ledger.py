"""The ledger on real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from hubsync import errors
from hubsync.clock import FakeClock
from hubsync.ledger.lock import InstanceLock
from hubsync.ledger.records import EventStatus, NewEvent, NewOp, OpState, Snapshot
from hubsync.ledger.store import Ledger

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snap(tid: str, modified: datetime = T0, stage: str = "1") -> Snapshot:
    return Snapshot("p", tid, "0", stage, "hash", None, modified)


def event(tid: str) -> NewEvent:
    return NewEvent(f"ticket:{tid}:created", "ticket.created", tid, {"subject": "s"})


class TestRecordPage:
    def test_events_dedupe_on_their_key(self, ledger: Ledger) -> None:
        assert ledger.record_page("p", [snap("1")], [event("1")], None) == 1
        assert ledger.record_page("p", [snap("1")], [event("1")], None) == 0
        assert len(ledger.events("p")) == 1

    def test_same_key_in_another_portal_is_another_event(self, ledger: Ledger) -> None:
        ledger.record_page("p", [], [event("1")], None)
        assert ledger.record_page("q", [], [event("1")], None) == 1

    def test_cursor_moves_with_the_page(self, ledger: Ledger) -> None:
        assert ledger.cursor("p", "tickets", "fast") is None
        ledger.record_page("p", [snap("1")], [event("1")], ("tickets", "fast", "pos-1"))
        assert ledger.cursor("p", "tickets", "fast") == "pos-1"
        ledger.record_page("p", [], [], ("tickets", "fast", "pos-2"))
        assert ledger.cursor("p", "tickets", "fast") == "pos-2"

    def test_snapshot_upsert_keeps_latest(self, ledger: Ledger) -> None:
        ledger.record_page("p", [snap("1")], [], None)
        ledger.record_page("p", [snap("1", T0 + timedelta(seconds=9), stage="4")], [], None)
        got = ledger.snapshots("p", ["1", "2"])
        assert list(got) == ["1"]
        assert got["1"].stage == "4" and got["1"].last_modified == T0 + timedelta(seconds=9)


class TestEvents:
    def test_claim_finish_records_ops_once(self, ledger: Ledger) -> None:
        ledger.record_page("p", [], [event("1"), event("2")], None)
        claimed = ledger.claim_events("p", 10)
        assert [e.object_id for e in claimed] == ["1", "2"]
        assert ledger.claim_events("p", 10) == []       # claimed events are not handed out twice
        op = NewOp("k1", "ticket_update", "1", {"object_type": "tickets", "properties": {}})
        ledger.finish_event(claimed[0], [op])
        ledger.finish_event(claimed[0], [op])           # a replay records nothing new
        assert ledger.op_counts("p") == {("ticket_update", OpState.PENDING): 1}
        assert ledger.event_counts("p") == {EventStatus.DONE: 1, EventStatus.PROCESSING: 1}

    def test_failure_with_retry_waits_for_its_time(self, ledger: Ledger,
                                                   clock: FakeClock) -> None:
        ledger.record_page("p", [], [event("1")], None)
        [claimed] = ledger.claim_events("p", 10)
        ledger.fail_event(claimed, "simpli down", retry_in=timedelta(seconds=60))
        assert ledger.claim_events("p", 10) == []
        clock.advance(61)
        [again] = ledger.claim_events("p", 10)
        assert again.attempts == 1 and again.last_error == "simpli down"

    def test_permanent_failure_keeps_the_reason(self, ledger: Ledger) -> None:
        ledger.record_page("p", [], [event("1")], None)
        [claimed] = ledger.claim_events("p", 10)
        ledger.fail_event(claimed, "triage answer: urgency: bad", retry_in=None)
        [failed] = ledger.events("p", EventStatus.FAILED)
        assert failed.last_error == "triage answer: urgency: bad"

    def test_release_claims_after_a_crash(self, ledger: Ledger) -> None:
        ledger.record_page("p", [], [event("1")], None)
        ledger.claim_events("p", 10)
        assert ledger.release_claims("p") == 1
        assert len(ledger.claim_events("p", 10)) == 1

    def test_memo_returns_first_answer(self, ledger: Ledger) -> None:
        ledger.remember("p", "ticket:1:created", "classify", {"category": "billing"})
        ledger.remember("p", "ticket:1:created", "classify", {"category": "other"})
        assert ledger.memo("p", "ticket:1:created", "classify") == {"category": "billing"}
        assert ledger.memo("p", "ticket:1:created", "route") is None


class TestOutbox:
    def test_intent_lifecycle(self, ledger: Ledger, clock: FakeClock) -> None:
        ledger.record_page("p", [], [event("1")], None)
        [claimed] = ledger.claim_events("p", 1)
        ledger.finish_event(claimed, [NewOp("n1", "note_create", "1", {"properties": {}})])
        [op] = ledger.ops("p", "note_create", (OpState.PENDING,))
        ledger.start_ops([op.op_key])
        assert ledger.stuck_in_flight("p") == 1              # a crash leaves it unknown
        [unknown] = ledger.ops("p", "note_create", (OpState.UNKNOWN,))
        assert unknown.attempts == 1 and unknown.last_attempt_at == clock.now()
        ledger.settle_ops(["n1"], OpState.DONE, remote_ids={"n1": "9001"})
        done = ledger.op("n1")
        assert done is not None and done.state == OpState.DONE and done.remote_id == "9001"

    def test_retry_in_hides_op_until_due(self, ledger: Ledger, clock: FakeClock) -> None:
        ledger.record_page("p", [], [event("1")], None)
        [claimed] = ledger.claim_events("p", 1)
        ledger.finish_event(claimed, [NewOp("n1", "note_create", "1", {})])
        ledger.settle_ops(["n1"], OpState.PENDING, retry_in=timedelta(seconds=30))
        assert ledger.ops("p", "note_create", (OpState.PENDING,)) == []
        clock.advance(31)
        assert len(ledger.ops("p", "note_create", (OpState.PENDING,))) == 1


def test_concurrent_writers_never_see_database_locked(sqlite_url: str) -> None:
    """BEGIN IMMEDIATE + busy timeout: 4 threads × 150 write transactions, no SQLITE_BUSY."""
    from hubsync.ledger import migrate
    migrate.upgrade(sqlite_url)
    ledger = Ledger.open(sqlite_url, FakeClock())
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(150):
                ledger.record_page("p", [snap(f"{n}{i}")], [event(f"{n}-{i}")],
                                   ("tickets", "fast", f"{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert len(ledger.events("p")) == 600
    ledger.close()


def test_instance_lock_is_exclusive(ledger_url: str, tmp_path: object) -> None:
    first = InstanceLock(ledger_url)
    first.acquire()
    try:
        second = InstanceLock(ledger_url)
        with pytest.raises(errors.LedgerLocked):
            second.acquire()
    finally:
        first.release()
    again = InstanceLock(ledger_url)
    again.acquire()
    again.release()

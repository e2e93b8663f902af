"""New tickets are triaged, routed and drafted end to end — and only once."""

from __future__ import annotations

import html
from collections.abc import Callable

from hubsync import sync, wiring
from hubsync.demo import count_writes
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger.records import EventStatus, OpState

from .conftest import seed

Make = Callable[..., wiring.Runtime]


def run_until_settled(rt: wiring.Runtime, cycles: int = 10) -> sync.CycleReport:
    report = sync.run_once(rt)
    for _ in range(cycles - 1):
        events = rt.ledger.event_counts()
        ops = rt.ledger.op_counts()
        if events.get(EventStatus.PENDING, 0) == 0 and all(
                state in OpState.SETTLED for _, state in ops):
            break
        report = sync.run_once(rt)
    return report


class TestFirstFlow:
    def test_every_new_ticket_is_triaged_routed_and_drafted(
            self, hubspot: HubSpotEmulator, make_runtime: Make, ledger_url: str) -> None:
        ids = seed(hubspot, 40)
        rt = make_runtime(ledger_url)
        report = sync.run_once(rt)
        assert report.ok
        for tid in ids:
            props = hubspot.ticket(tid)
            assert props["ai_category"] in {"billing", "technical", "account",
                                            "feature_request", "general"}
            assert props["ai_urgency"] in {"low", "medium", "high", "critical"}
            assert 0 <= int(props["ai_confidence"] or "x") <= 100
            assert props["hs_ticket_priority"] in {"LOW", "MEDIUM", "HIGH", "URGENT"}
            [note] = hubspot.notes_for_ticket(tid)
            assert "AI draft reply" in note["properties"]["hs_note_body"]
        urgent = [t for t in ids if hubspot.ticket(t)["ai_urgency"] == "critical"]
        assert urgent and all(hubspot.ticket(t)["hs_ticket_priority"] == "URGENT"
                              for t in urgent)
        # The floor of the cost model: 1 search page, 1 batch update, 1 batch note create.
        assert hubspot.count("POST", "/crm/v3/objects/tickets/search") == 1
        assert hubspot.count("POST", "/crm/v3/objects/tickets/batch/update") == 1
        assert hubspot.count("POST", "/crm/v3/objects/notes/batch/create") == 1

    def test_second_run_writes_nothing(self, hubspot: HubSpotEmulator, make_runtime: Make,
                                       ledger_url: str) -> None:
        seed(hubspot, 30)
        rt = make_runtime(ledger_url)
        sync.run_once(rt)
        writes_after_first = count_writes(hubspot)
        assert writes_after_first > 0
        report = sync.run_once(rt)
        assert count_writes(hubspot) == writes_after_first
        assert report.counts["events_recorded"] == 0
        assert report.counts["tickets_seen"] == 30      # the echoes were read, and ignored

    def test_owner_set_only_through_the_map_and_only_for_active_owners(
            self, hubspot: HubSpotEmulator, make_runtime: Make, ledger_url: str) -> None:
        billing = hubspot.seed_ticket({"subject": "Charged twice", "content": "refund please",
                                       "hs_pipeline": "0", "hs_pipeline_stage": "1"})
        general = hubspot.seed_ticket({"subject": "Hello", "content": "a note",
                                       "hs_pipeline": "0", "hs_pipeline_stage": "1"})
        tech = hubspot.seed_ticket({"subject": "App crash", "content": "error on start",
                                    "hs_pipeline": "0", "hs_pipeline_stage": "1"})
        owned = hubspot.seed_ticket({"subject": "Invoice wrong", "content": "billing issue",
                                     "hs_pipeline": "0", "hs_pipeline_stage": "1",
                                     "hubspot_owner_id": "104"})
        # A-021 (technical) is mapped to the archived owner 105: never written.
        rt = make_runtime(ledger_url, portals=[{
            "id": "main", "base_url": hubspot.base_url,
            "token": rt_token(), "owners": {"A-012": "101", "A-021": "105"}}])
        sync.run_once(rt)
        assert hubspot.ticket(billing)["hubspot_owner_id"] == "101"
        assert not hubspot.ticket(general)["hubspot_owner_id"]      # A-050 unmapped
        assert not hubspot.ticket(tech)["hubspot_owner_id"]         # archived owner
        assert hubspot.ticket(owned)["hubspot_owner_id"] == "104"   # an owner is kept
        assert hubspot.ticket(tech)["ai_category"] == "technical"   # the rest still written

    def test_script_and_ampersand_are_stored_only_escaped(
            self, hubspot: HubSpotEmulator, make_runtime: Make, ledger_url: str) -> None:
        tid = hubspot.seed_ticket({
            "subject": "Help <script>alert(1)</script> & more",
            "content": "Body <script>alert(1)</script> & Tom & Jerry",
            "hs_pipeline": "0", "hs_pipeline_stage": "1"})
        rt = make_runtime(ledger_url)
        sync.run_once(rt)
        [note] = hubspot.notes_for_ticket(tid)
        body = note["properties"]["hs_note_body"]
        assert "<script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body     # the draft quotes the subject
        assert " & " not in body and "&amp;" in body
        assert "<script>alert(1)</script>" in html.unescape(body)

    def test_tickets_older_than_the_ledger_are_a_baseline_not_triaged(
            self, hubspot: HubSpotEmulator, make_runtime: Make, ledger_url: str) -> None:
        from datetime import UTC, datetime, timedelta
        old = hubspot.seed_ticket({"subject": "Old", "content": "from last week",
                                   "hs_pipeline": "0", "hs_pipeline_stage": "1"},
                                  created_at=datetime.now(UTC) - timedelta(days=7))
        hubspot.touch_ticket(old, {"content": "edited today"})
        new = seed(hubspot, 1)[0]
        rt = make_runtime(ledger_url)
        sync.run_once(rt)
        assert hubspot.ticket(new)["ai_category"]
        assert not hubspot.ticket(old)["ai_category"]
        assert hubspot.notes_for_ticket(old) == []
        assert rt.ledger.snapshots("main", [old])          # but it is known now

    def test_hubspot_internal_change_triggers_nothing(
            self, hubspot: HubSpotEmulator, make_runtime: Make, ledger_url: str) -> None:
        [tid] = seed(hubspot, 1)
        rt = make_runtime(ledger_url)
        sync.run_once(rt)
        writes = count_writes(hubspot)
        hubspot.touch_ticket(tid, {"hs_num_associated_conversations": "1"})
        report = sync.run_once(rt)
        assert report.counts["events_recorded"] == 0
        assert count_writes(hubspot) == writes


def rt_token() -> str:
    from .conftest import TOKEN
    return TOKEN


class TestBadInput:
    def test_bad_ai_answer_fails_that_event_only(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, make_runtime: Make,
            sqlite_url: str) -> None:
        ids = seed(hubspot, 5)
        simpli.triage.override("/classify", {"category": "billing", "urgency": "extreme",
                                             "sentiment": "neutral", "confidence": 1.5})
        rt = make_runtime(sqlite_url, simpli={"concurrency": 1})
        sync.run_once(rt)
        failed = rt.ledger.events("main", EventStatus.FAILED)
        assert len(failed) == 1
        assert "triage answer" in (failed[0].last_error or "")
        assert hubspot.notes_for_ticket(failed[0].object_id) == []
        assert not hubspot.ticket(failed[0].object_id)["ai_category"]
        done = [t for t in ids if hubspot.ticket(t)["ai_category"]]
        assert len(done) == 4

    def test_simpli_outage_writes_nothing_then_recovers(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, make_runtime: Make,
            sqlite_url: str) -> None:
        ids = seed(hubspot, 3)
        # 3 events × 3 attempts each (SimpliHTTP's own retries): the whole first cycle fails.
        simpli.triage.inject("/classify", 503, times=9)
        rt = make_runtime(sqlite_url)
        sync.run_once(rt)
        assert count_writes(hubspot) == 0
        assert all(e.status == EventStatus.PENDING and e.last_error
                   for e in rt.ledger.events("main"))
        import time
        time.sleep(1.2)                       # retry_base_s is 1 s in these tests
        run_until_settled(rt)
        assert all(hubspot.ticket(t)["ai_category"] for t in ids)

    def test_missing_custom_properties_stop_writes_and_name_them(
            self, simpli: SimpliStandIns, sqlite_url: str) -> None:
        from hubsync import config as config_mod
        from hubsync.clock import SystemClock
        from hubsync.ledger import migrate
        from hubsync.ledger.store import Ledger

        from .conftest import TOKEN, config_dict
        with HubSpotEmulator(token=TOKEN, custom_properties=False) as bare:
            seed(bare, 1)
            cfg = config_mod.Config.model_validate(config_dict(bare, simpli, sqlite_url))
            migrate.upgrade(sqlite_url)
            rt = wiring.build(cfg, Ledger.open(sqlite_url, SystemClock()), SystemClock())
            try:
                report = sync.run_once(rt)
                assert not report.ok
                [reason] = report.failures.values()
                assert "tickets.ai_category" in reason and "contacts.sentiment_score" in reason
                assert "hubsync setup" in reason
                assert count_writes(bare) == 0
                assert bare.count("POST", "/crm/v3/objects/tickets/search") == 0
            finally:
                rt.close()


class TestSettledLane:
    def test_a_row_the_index_returned_too_late_is_caught_by_the_settled_lane(
            self, hubspot: HubSpotEmulator, make_runtime: Make, sqlite_url: str) -> None:
        """Search shows a row whose hs_lastmodifieddate is older than the fast lane's window.

        That is what out-of-order indexing looks like from the client (estuary/connectors
        #1861): the fast lane's cursor is already past it, and only a re-read of the older,
        settled window finds it.
        """
        from datetime import UTC, datetime, timedelta
        rt = make_runtime(sqlite_url, polling={
            "overlap_s": 1, "initial_lookback_s": 40, "settled_delay_s": 5,
            "settled_window_s": 10, "settled_interval_s": 0})
        [first] = seed(hubspot, 1)
        sync.run_once(rt)                                   # settled lane: [origin, +10 s)
        assert hubspot.ticket(first)["ai_category"]
        late = hubspot.seed_ticket(
            {"subject": "Charged twice", "content": "refund please", "hs_pipeline_stage": "1"},
            created_at=datetime.now(UTC) - timedelta(seconds=29))   # in [origin+10, +20)
        report = sync.run_once(rt)
        assert report.counts["settled_pages"] == 1
        assert report.counts["settled_events"] == 1         # found by the settled lane
        assert hubspot.ticket(late)["ai_category"]
        assert len(hubspot.notes_for_ticket(late)) == 1
        assert len(hubspot.notes_for_ticket(first)) == 1
        assert sync.run_once(rt).counts["settled_events"] == 0


class TestFailurePaths:
    def test_an_unreadable_record_fails_as_one_event_with_its_reason(
            self, make_runtime: Make, sqlite_url: str) -> None:
        """What the tickets stream records for a row it cannot parse, handled end to end."""
        from hubsync.ledger.records import NewEvent
        rt = make_runtime(sqlite_url)
        rt.ledger.record_page("main", [], [NewEvent(
            "ticket:77:invalid:property hs_lastmodifieddate is missing", "ticket.invalid",
            "77", {"reason": "property hs_lastmodifieddate is missing"})], None)
        report = sync.run_once(rt)
        assert report.ok
        [failed] = rt.ledger.events("main", EventStatus.FAILED)
        assert failed.last_error == "property hs_lastmodifieddate is missing"

    def test_simpli_422_fails_the_event_without_retrying(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, make_runtime: Make,
            sqlite_url: str) -> None:
        [tid] = seed(hubspot, 1)
        simpli.triage.inject("/classify", 422)
        rt = make_runtime(sqlite_url)
        sync.run_once(rt)
        [failed] = rt.ledger.events("main", EventStatus.FAILED)
        assert "422" in (failed.last_error or "") and failed.attempts == 1
        assert simpli.triage.count("/classify") == 1         # a 4xx is not retried
        assert not hubspot.ticket(tid)["ai_category"]

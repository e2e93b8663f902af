"""Every flow: stage changes, closing, reopening, edits, customer messages, sentiment, QA."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubsync import sync, wiring
from hubsync.demo import count_writes
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger.records import EventStatus

from .conftest import seed

Make = Callable[..., wiring.Runtime]


def settled(rt: wiring.Runtime, cycles: int = 3) -> None:
    for _ in range(cycles):
        sync.run_once(rt)


def kinds(rt: wiring.Runtime) -> list[str]:
    return sorted(e.kind for e in rt.ledger.events("main"))


def note_bodies(hubspot: HubSpotEmulator, ticket_id: str) -> list[str]:
    return [n["properties"]["hs_note_body"] for n in hubspot.notes_for_ticket(ticket_id)]


@pytest.fixture
def rt(make_runtime: Make, ledger_url: str) -> wiring.Runtime:
    """Every flow runs on a SQLite ledger and on a PostgreSQL one."""
    return make_runtime(ledger_url)


class TestTicketChanges:
    def test_entering_waiting_on_us_drafts_a_reply(self, hubspot: HubSpotEmulator,
                                                   rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "3"})
        sync.run_once(rt)
        assert kinds(rt) == ["ticket.created", "ticket.stage_changed"]
        bodies = note_bodies(hubspot, tid)
        assert len(bodies) == 2 and sum("Stage: Waiting on us" in b for b in bodies) == 1

    def test_other_stage_changes_are_recorded_but_do_nothing(
            self, hubspot: HubSpotEmulator, rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        writes = count_writes(hubspot)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "2"})
        sync.run_once(rt)
        assert "ticket.stage_changed" in kinds(rt)
        assert count_writes(hubspot) == writes

    def test_closing_scores_the_conversation(self, hubspot: HubSpotEmulator,
                                             simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        contact = hubspot.seed_contact({"email": "ann@example.com", "firstname": "Ann"})
        thread = hubspot.seed_thread(contact_id=contact, ticket_id=tid)
        hubspot.add_message(thread, type="WELCOME_MESSAGE", text="Hi! How can we help?")
        hubspot.add_message(thread, text="I was charged twice", direction="INCOMING")
        hubspot.add_message(thread, type="COMMENT", text="internal: VIP customer",
                            sender="A-9102")
        hubspot.add_message(thread, text="Sorry! Refund issued, it is fixed.",
                            direction="OUTGOING", sender="A-9101")
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "4"})
        sync.run_once(rt)
        assert "ticket.closed" in kinds(rt)
        assert 0 <= int(hubspot.ticket(tid)["qa_score"] or "x") <= 100
        [qa_call] = [c for c in simpli.qa.calls if c.path == "/evaluate"]
        turns = qa_call.body["messages"]
        assert [t["role"] for t in turns] == ["customer", "agent"]   # no comment, no welcome
        assert qa_call.body["agent_id"] == "A-9101"
        assert any("QA score:" in b for b in note_bodies(hubspot, tid))

    def test_closing_a_ticket_without_threads_uses_its_text(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "4"})
        sync.run_once(rt)
        [qa_call] = [c for c in simpli.qa.calls if c.path == "/evaluate"]
        assert [t["role"] for t in qa_call.body["messages"]] == ["customer"]
        assert hubspot.ticket(tid)["subject"] in qa_call.body["messages"][0]["content"]
        assert hubspot.ticket(tid)["qa_score"]

    def test_stage_skip_straight_to_closed_scores_once(self, hubspot: HubSpotEmulator,
                                                        simpli: SimpliStandIns,
                                                        rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "3"})
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "4"})      # both between two polls
        settled(rt)
        assert kinds(rt) == ["ticket.closed", "ticket.created"]
        assert simpli.qa.count("/evaluate") == 1

    def test_reopen_then_close_again_is_scored_again(self, hubspot: HubSpotEmulator,
                                                     simpli: SimpliStandIns,
                                                     rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "4"})
        sync.run_once(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "1"})
        sync.run_once(rt)
        assert "ticket.reopened" in kinds(rt)
        hubspot.touch_ticket(tid, {"hs_pipeline_stage": "4"})
        sync.run_once(rt)
        assert kinds(rt).count("ticket.closed") == 2
        assert simpli.qa.count("/evaluate") == 2

    def test_content_edit_is_recorded(self, hubspot: HubSpotEmulator,
                                      rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        sync.run_once(rt)
        writes = count_writes(hubspot)
        hubspot.touch_ticket(tid, {"content": "Update: it happened again today."})
        sync.run_once(rt)
        assert "ticket.content_edited" in kinds(rt)
        assert count_writes(hubspot) == writes          # no action by default

    def test_everything_twice_second_run_writes_nothing(
            self, hubspot: HubSpotEmulator, rt: wiring.Runtime) -> None:
        ids = seed(hubspot, 6)
        contact = hubspot.seed_contact({"email": "bo@example.com"})
        thread = hubspot.seed_thread(contact_id=contact, ticket_id=ids[0])
        hubspot.add_message(thread, text="This is unacceptable, I want a refund and a manager",
                            direction="INCOMING")
        sync.run_once(rt)
        hubspot.touch_ticket(ids[1], {"hs_pipeline_stage": "3"})
        hubspot.touch_ticket(ids[2], {"hs_pipeline_stage": "4"})
        settled(rt)
        writes = count_writes(hubspot)
        sync.run_once(rt)
        assert count_writes(hubspot) == writes


class TestMessages:
    def test_only_customer_messages_become_events(self, hubspot: HubSpotEmulator,
                                                  simpli: SimpliStandIns,
                                                  rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        contact = hubspot.seed_contact({"email": "cy@example.com"})
        thread = hubspot.seed_thread(contact_id=contact, ticket_id=tid)
        hubspot.add_message(thread, type="WELCOME_MESSAGE", text="Welcome!")
        customer = hubspot.add_message(thread, text="Thanks, great help", direction="INCOMING")
        hubspot.add_message(thread, text="Glad to help", direction="OUTGOING", sender="A-9101")
        hubspot.add_message(thread, type="COMMENT", text="note to self", sender="A-9101")
        hubspot.add_message(thread, text="AI agent here", direction="OUTGOING", sender="L-1")
        hubspot.add_message(thread, text="integration ping", direction="INCOMING",
                            sender="I-777")
        hubspot.add_message(thread, type="ASSIGNMENT", assignedTo="A-9102")
        hubspot.add_message(thread, type="THREAD_INBOX_CHANGE", fromInboxId="1", toInboxId="2")
        hubspot.add_message(thread, type="THREAD_STATUS_CHANGE", newStatus="CLOSED")
        sync.run_once(rt)
        messages = [e for e in rt.ledger.events("main") if e.kind == "message.received"]
        assert [e.object_id for e in messages] == [customer]
        assert simpli.sentiment.count("/analyze") == 1
        assert hubspot.contact(contact)["sentiment_score"] == "positive"
        assert hubspot.contact(contact)["escalation_risk"] == "0"

    def test_message_seen_twice_is_analyzed_once(self, hubspot: HubSpotEmulator,
                                                 simpli: SimpliStandIns,
                                                 rt: wiring.Runtime) -> None:
        contact = hubspot.seed_contact({"email": "di@example.com"})
        thread = hubspot.seed_thread(contact_id=contact)
        hubspot.add_message(thread, text="hello?", direction="INCOMING")
        hubspot.thread_page_repeat = 2
        settled(rt)
        assert simpli.sentiment.count("/analyze") == 1

    def test_visitor_id_is_not_written_as_a_contact(self, hubspot: HubSpotEmulator,
                                                    simpli: SimpliStandIns,
                                                    rt: wiring.Runtime) -> None:
        [tid] = seed(hubspot, 1)
        thread = hubspot.seed_thread(visitor_id="555001", ticket_id=tid)
        hubspot.add_message(thread, text="I will cancel, this is unacceptable, manager now",
                            direction="INCOMING")
        sync.run_once(rt)
        assert simpli.sentiment.count("/analyze") == 1
        assert hubspot.count("POST", "/crm/v3/objects/contacts/batch/update") == 0
        assert hubspot.count("PATCH", "/crm/v3/objects/contacts") == 0
        assert hubspot.ticket(tid)["hs_ticket_priority"] in ("HIGH", "URGENT")

    def test_escalation_raises_priority_but_never_lowers_urgent(
            self, hubspot: HubSpotEmulator, rt: wiring.Runtime) -> None:
        low = hubspot.seed_ticket({"subject": "Question", "content": "just wondering",
                                   "hs_pipeline_stage": "1"})
        urgent = hubspot.seed_ticket({"subject": "Outage", "content": "down for everyone",
                                      "hs_pipeline_stage": "1"})
        sync.run_once(rt)
        assert hubspot.ticket(low)["hs_ticket_priority"] == "LOW"
        assert hubspot.ticket(urgent)["hs_ticket_priority"] == "URGENT"
        for tid in (low, urgent):
            contact = hubspot.seed_contact({"email": f"e{tid}@example.com"})
            thread = hubspot.seed_thread(contact_id=contact, ticket_id=tid)
            hubspot.add_message(thread, direction="INCOMING",
                                text="Unacceptable. Refund now or my lawyer calls your manager.")
        sync.run_once(rt)
        assert hubspot.ticket(low)["hs_ticket_priority"] == "HIGH"
        assert hubspot.ticket(urgent)["hs_ticket_priority"] == "URGENT"

    def test_raise_decided_at_write_time_never_lowers_triage_urgent(
            self, hubspot: HubSpotEmulator, rt: wiring.Runtime) -> None:
        """Triage's URGENT and sentiment's HIGH for a brand-new ticket land in one drain."""
        tid = hubspot.seed_ticket({"subject": "Outage", "content": "down for everyone",
                                   "hs_pipeline_stage": "1"})
        contact = hubspot.seed_contact({"email": "ur@example.com"})
        thread = hubspot.seed_thread(contact_id=contact, ticket_id=tid)
        hubspot.add_message(thread, direction="INCOMING",
                            text="Unacceptable outage. Refund or my lawyer calls your manager.")
        report = sync.run_once(rt)
        assert report.counts["raises_unneeded"] == 1
        assert hubspot.ticket(tid)["hs_ticket_priority"] == "URGENT"

    def test_long_message_is_cut_to_what_sentiment_accepts(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        contact = hubspot.seed_contact({"email": "fa@example.com"})
        thread = hubspot.seed_thread(contact_id=contact, channel_id="1002")
        hubspot.add_message(thread, text="word " * 4000, direction="INCOMING")   # 20,000 chars
        sync.run_once(rt)
        [call] = [c for c in simpli.sentiment.calls if c.path == "/analyze"]
        assert call.status == 200
        assert len(call.body["text"]) == 10_000           # full text fetched, then cut
        assert call.body["channel"] == "email"
        assert hubspot.contact(contact)["sentiment_score"]

    def test_unknown_channel_is_left_out(self, hubspot: HubSpotEmulator,
                                         simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        """A channel hubsync cannot map (WhatsApp, a new one…) is not sent as a wrong value.

        The emulator only knows HubSpot's documented channel ids, so the event is recorded
        as the messages stream would record one from an undocumented channel.
        """
        from hubsync.ledger.records import NewEvent
        contact = hubspot.seed_contact({"email": "gu@example.com"})
        rt.ledger.record_page("main", [], [NewEvent("message:m-1", "message.received", "m-1", {
            "thread_id": "t-1", "message_id": "m-1", "text": "hi there", "contact_id": contact,
            "ticket_id": None, "channel_id": "1007", "sender": f"V-{contact}",
            "event_time": "2026-12-04T10:00:00.000Z"})], None)
        sync.run_once(rt)
        [call] = [c for c in simpli.sentiment.calls if c.path == "/analyze"]
        assert call.status == 200 and "channel" not in call.body
        assert hubspot.contact(contact)["sentiment_score"] == "neutral"

    def test_messages_from_before_the_ledger_are_ignored(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        from datetime import UTC, datetime, timedelta
        contact = hubspot.seed_contact({"email": "ho@example.com"})
        old = datetime.now(UTC) - timedelta(days=2)
        thread = hubspot.seed_thread(contact_id=contact, created_at=old)
        hubspot.add_message(thread, text="old message", direction="INCOMING", created_at=old)
        sync.run_once(rt)
        assert simpli.sentiment.count("/analyze") == 0

    def test_bad_sentiment_answer_fails_that_message_only(
            self, hubspot: HubSpotEmulator, simpli: SimpliStandIns, rt: wiring.Runtime) -> None:
        contact = hubspot.seed_contact({"email": "iv@example.com"})
        thread = hubspot.seed_thread(contact_id=contact)
        hubspot.add_message(thread, text="first", direction="INCOMING")
        simpli.sentiment.override("/analyze", {"score": 3, "label": "furious",
                                               "escalation_risk": 2})
        sync.run_once(rt)
        [failed] = rt.ledger.events("main", EventStatus.FAILED)
        assert "sentiment answer" in (failed.last_error or "")
        assert not hubspot.contact(contact).get("sentiment_score")
        hubspot.add_message(thread, text="second, thanks", direction="INCOMING")
        sync.run_once(rt)
        assert hubspot.contact(contact)["sentiment_score"]

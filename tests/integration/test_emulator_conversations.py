"""The HubSpot emulator's conversations, ticket-closing and knowledge-base surfaces, over real HTTP.

Everything runs on a ``FakeClock`` so timestamps move only when a test says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from hubsync import clock as clocks
from hubsync.emulators.hubspot import HubSpotEmulator

TOKEN = "pat-na1-emulator"
CONV = "/conversations/v3/conversations"
THREADS = f"{CONV}/threads"
KB = "/cms/knowledge-base/2027-03-beta"
SEARCH = "/cms/v3/site-search/search"
INDEXED = "/cms/v3/site-search/indexed-data"
TICKETS = "/crm/v3/objects/tickets"


class Api:
    """A thin authenticated client for one emulator."""

    def __init__(self, emu: HubSpotEmulator, token: str | None = TOKEN) -> None:
        self.emu = emu
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, params: Any = None) -> requests.Response:
        return self.session.get(self.emu.base_url + path, params=params, timeout=5)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.emu.base_url + path, json=body, timeout=5)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.session.patch(self.emu.base_url + path, json=body, timeout=5)

    def ok(self, path: str, params: Any = None) -> dict[str, Any]:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def emu(clock: clocks.FakeClock) -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(clock=clock, search_rate_per_s=None) as emulator:
        yield emulator


@pytest.fixture
def api(emu: HubSpotEmulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.session.close()


def assert_error(response: requests.Response, status: int, category: str) -> None:
    body = response.json()
    assert response.status_code == status, body
    assert body["status"] == "error" and body["category"] == category and body["message"]
    uuid.UUID(body["correlationId"])


def ids(body: dict[str, Any]) -> list[str]:
    return [row["id"] for row in body["results"]]


def contact(emu: HubSpotEmulator, name: str = "ann") -> str:
    return emu.seed_contact({"email": f"{name}@example.com", "firstname": name.title()})


def thread_with_message(
    emu: HubSpotEmulator, clock: clocks.FakeClock, at_s: float, **seed: Any
) -> str:
    """A thread whose only message arrives ``at_s`` seconds after the clock's current time."""
    thread_id = emu.seed_thread(**seed) if seed else emu.seed_thread(contact_id=contact(emu))
    moment = clock.now() + timedelta(seconds=at_s)
    emu.add_message(thread_id, text="hi", direction="INCOMING", created_at=moment)
    return thread_id


class TestThreadsList:
    def test_latest_sort_needs_after_and_after_needs_the_sort(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """sort=latestMessageTimestamp alone is 400; the After bound alone is silently ignored."""
        first = thread_with_message(emu, clock, 10)
        second = thread_with_message(emu, clock, 20, visitor_id="555")
        missing = api.get(THREADS, {"sort": "latestMessageTimestamp"})
        assert_error(missing, 400, "VALIDATION_ERROR")
        future = clocks.iso_ms(clock.now() + timedelta(days=1))
        ignored = api.ok(THREADS, {"latestMessageTimestampAfter": future})
        assert ids(ignored) == [first, second]

    def test_after_is_exclusive_and_results_ascend(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Threads with a latest message strictly after the bound, oldest latest first."""
        late = thread_with_message(emu, clock, 30)
        early = thread_with_message(emu, clock, 10, contact_id=contact(emu, "bob"))
        middle = thread_with_message(emu, clock, 20, visitor_id="777")
        bound = clocks.iso_ms(clock.now() + timedelta(seconds=10))
        body = api.ok(THREADS, {"sort": "latestMessageTimestamp",
                                "latestMessageTimestampAfter": bound})  # fmt: skip
        assert ids(body) == [middle, late]
        everything = api.ok(
            THREADS,
            {
                "sort": "latestMessageTimestamp",
                "latestMessageTimestampAfter": "2000-01-01T00:00:00Z",
            },
        )
        assert ids(everything) == [early, middle, late]
        assert ids(api.ok(THREADS)) == [late, early, middle]  # by id

    @pytest.mark.parametrize(
        "query",
        [
            {"sort": "-latestMessageTimestamp", "latestMessageTimestampAfter": "2026-01-01T00:00Z"},
            {"sort": "-id"},
            {"sort": "createdAt"},
            {"limit": "501"},
            {"latestMessageTimestampAfter": "2026-01-01T00:00:00"},  # no zone
            {"associatedContactId": "1"},  # needs threadStatus
            {"associatedContactId": "1", "threadStatus": "OPEN", "inboxId": "147959634"},
            {"associatedTicketId": "T-1"},
            {"threadStatus": "open"},
            {"association": "CONTACT"},
            {"after": "not-a-cursor"},
            {"assocation": "TICKET"},  # misspelt parameters fail loudly
        ],
    )  # fmt: skip
    def test_invalid_queries_are_400(self, api: Api, query: dict[str, str]) -> None:
        """Descending sorts (without a contact), bad ids, enums, bounds and cursors are 400."""
        assert_error(api.get(THREADS, query), 400, "VALIDATION_ERROR")

    def test_descending_with_contact_filter(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Filtering by contact allows -id and needs threadStatus."""
        person = contact(emu)
        older = emu.seed_thread(contact_id=person)
        newer = emu.seed_thread(contact_id=person)
        emu.seed_thread(contact_id=contact(emu, "bob"))
        query = {"associatedContactId": person, "threadStatus": "OPEN", "sort": "-id"}
        assert ids(api.ok(THREADS, query)) == [newer, older]

    def test_association_ticket_adds_thread_associations(
        self, api: Api, emu: HubSpotEmulator
    ) -> None:
        """threadAssociations appears only with association=TICKET, and only for linked threads."""
        ticket_id = emu.seed_ticket({"subject": "Help"})
        linked = emu.seed_thread(contact_id=contact(emu), ticket_id=ticket_id)
        loose = emu.seed_thread(visitor_id="4242")
        plain = api.ok(THREADS)["results"]
        assert all("threadAssociations" not in row for row in plain)
        rows = {r["id"]: r for r in api.ok(THREADS, {"association": "TICKET"})["results"]}
        assert rows[linked]["threadAssociations"] == {"associatedTicketId": ticket_id}
        assert "threadAssociations" not in rows[loose]
        by_ticket = api.ok(THREADS, {"associatedTicketId": ticket_id, "association": "TICKET"})
        assert ids(by_ticket) == [linked]
        single = api.ok(f"{THREADS}/{linked}", {"association": "TICKET"})
        assert single["threadAssociations"]["associatedTicketId"] == ticket_id
        assert "threadAssociations" not in api.ok(f"{THREADS}/{linked}")

    def test_opaque_cursor_paging(self, api: Api, emu: HubSpotEmulator) -> None:
        """Cursors are opaque; a full page carries paging even when nothing follows it."""
        made = [emu.seed_thread(visitor_id=str(900 + i)) for i in range(4)]
        first = api.ok(THREADS, {"limit": 2})
        cursor = first["paging"]["next"]["after"]
        assert not cursor.isdigit()
        second = api.ok(THREADS, {"limit": 2, "after": cursor})
        third = api.ok(THREADS, {"limit": 2, "after": second["paging"]["next"]["after"]})
        assert ids(first) + ids(second) == made
        assert third == {"results": []}
        latest_cursor = api.get(
            THREADS, {"sort": "latestMessageTimestamp", "after": cursor,
                      "latestMessageTimestampAfter": "2000-01-01T00:00:00Z"},
        )  # fmt: skip
        assert_error(latest_cursor, 400, "VALIDATION_ERROR")  # a cursor of another sort

    def test_page_repeat_knob(self, api: Api, emu: HubSpotEmulator) -> None:
        """thread_page_repeat = n: the next n list calls repeat the last page, paging and all."""
        made = [emu.seed_thread(visitor_id=str(900 + i)) for i in range(3)]
        first = api.ok(THREADS, {"limit": 2})
        emu.thread_page_repeat = 1
        repeated = api.ok(THREADS, {"limit": 2, "after": first["paging"]["next"]["after"]})
        assert repeated == first
        assert emu.thread_page_repeat == 0
        onward = api.ok(THREADS, {"limit": 2, "after": first["paging"]["next"]["after"]})
        assert ids(onward) == made[2:] and "paging" not in onward

    def test_empty_page_knob(self, api: Api, emu: HubSpotEmulator) -> None:
        """thread_empty_pages = n: empty results that still carry paging.next."""
        made = emu.seed_thread(visitor_id="901")
        emu.thread_empty_pages = 1
        empty = api.ok(THREADS)
        assert empty["results"] == [] and empty["paging"]["next"]["after"]
        resumed = api.ok(THREADS, {"after": empty["paging"]["next"]["after"]})
        assert ids(resumed) == [made]

    def test_filters_status_inbox_archived(self, api: Api, emu: HubSpotEmulator) -> None:
        """threadStatus, inboxId and archived (default false) narrow the list."""
        open_ = emu.seed_thread(visitor_id="1001")
        closed = emu.seed_thread(visitor_id="1002", status="CLOSED", inbox_id="555")
        gone = emu.seed_thread(visitor_id="1003")
        emu.archive_thread(gone)
        assert ids(api.ok(THREADS)) == [open_, closed]
        assert ids(api.ok(THREADS, {"threadStatus": "CLOSED"})) == [closed]
        assert ids(api.ok(THREADS, [("inboxId", "555"), ("inboxId", "1")])) == [closed]
        assert ids(api.ok(THREADS, {"archived": "true"})) == [gone]
        assert_error(api.get(f"{THREADS}/{gone}"), 404, "OBJECT_NOT_FOUND")
        assert api.ok(f"{THREADS}/{gone}", {"archived": "true"})["archived"] is True

    def test_visitor_and_contact_threads(self, api: Api, emu: HubSpotEmulator) -> None:
        """associatedContactId is a contact id, or a visitor id that names no contact."""
        person = contact(emu)
        known = emu.seed_thread(contact_id=person, channel_id="1002", assigned_to="A-9102")
        anonymous = emu.seed_thread(visitor_id="31337")
        rows = {r["id"]: r for r in api.ok(THREADS)["results"]}
        assert rows[known]["associatedContactId"] == person
        assert rows[anonymous]["associatedContactId"] == "31337"
        assert api.get("/crm/v3/objects/contacts/31337").status_code == 404
        shape = rows[known]
        assert shape["originalChannelId"] == "1002" and shape["assignedTo"] == "A-9102"
        assert shape["status"] == "OPEN" and shape["spam"] is False and "closedAt" not in shape
        assert shape["createdAt"].endswith("Z") and shape["inboxId"] == "147959634"
        assert "latestMessageTimestamp" not in shape
        with pytest.raises(ValueError):
            emu.seed_thread(contact_id=person, visitor_id="1")
        with pytest.raises(ValueError):
            emu.seed_thread(visitor_id=person)  # a contact's id is not a visitor id
        with pytest.raises(ValueError):
            emu.seed_thread(contact_id="99999999")

    def test_unknown_thread_and_auth(self, emu: HubSpotEmulator, api: Api) -> None:
        """Unknown threads are 404, non-numeric ids 400, and every new route needs the token."""
        assert_error(api.get(f"{THREADS}/123"), 404, "OBJECT_NOT_FOUND")
        assert_error(api.get(f"{THREADS}/abc"), 400, "VALIDATION_ERROR")
        anonymous = Api(emu, token=None)
        for path in (THREADS, f"{CONV}/actors/A-9101", f"{KB}/articles", SEARCH, f"{INDEXED}/1"):
            assert_error(anonymous.get(path, {"q": "x"}), 401, "INVALID_AUTHENTICATION")
        anonymous.session.close()

    def test_conversations_count_in_burst(self, clock: clocks.FakeClock) -> None:
        """Conversations calls use the ten-second burst bucket and carry its headers."""
        with HubSpotEmulator(clock=clock, burst_limit=2, search_rate_per_s=None) as emu:
            api = Api(emu)
            answers = [api.get(THREADS) for _ in range(3)]
            assert [a.status_code for a in answers] == [200, 200, 429]
            assert answers[0].headers["X-HubSpot-RateLimit-Remaining"] == "1"
            api.session.close()


class TestMessages:
    def test_newest_first_by_default(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Default order is newest first; sort=createdAt is oldest first; paging is by cursor."""
        thread_id = emu.seed_thread(contact_id=contact(emu))
        made = []
        for i in range(3):
            clock.advance(1)
            made.append(emu.add_message(thread_id, text=f"m{i}", direction="INCOMING"))
        path = f"{THREADS}/{thread_id}/messages"
        assert ids(api.ok(path)) == made[::-1]
        assert ids(api.ok(path, {"sort": "createdAt"})) == made
        first = api.ok(path, {"limit": 2})
        rest = api.ok(path, {"limit": 2, "after": first["paging"]["next"]["after"]})
        assert ids(first) + ids(rest) == made[::-1] and "paging" not in rest
        assert_error(api.get(path, {"sort": "id"}), 400, "VALIDATION_ERROR")
        assert_error(api.get(f"{THREADS}/999/messages"), 404, "OBJECT_NOT_FOUND")

    def test_message_timestamps_move_the_thread(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Incoming moves latestMessageReceivedTimestamp, outgoing the Sent one."""
        thread_id = emu.seed_thread(contact_id=contact(emu))
        clock.advance(5)
        emu.add_message(thread_id, text="help", direction="INCOMING")
        received = clocks.iso_ms(clock.now())
        clock.advance(5)
        emu.add_message(thread_id, text="on it", direction="OUTGOING")
        sent = clocks.iso_ms(clock.now())
        shape = api.ok(f"{THREADS}/{thread_id}")
        assert shape["latestMessageReceivedTimestamp"] == received
        assert shape["latestMessageSentTimestamp"] == sent == shape["latestMessageTimestamp"]

    def test_each_kind_has_its_shape(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """MESSAGE, COMMENT, WELCOME_MESSAGE, ASSIGNMENT, status and inbox changes."""
        person = contact(emu)
        thread_id = emu.seed_thread(contact_id=person, channel_id="1002")
        made = {
            "WELCOME_MESSAGE": emu.add_message(thread_id, type="WELCOME_MESSAGE", text="Hi!"),
            "MESSAGE": emu.add_message(thread_id, text="Bill <wrong>", direction="INCOMING",
                                       subject="Invoice"),
            "COMMENT": emu.add_message(thread_id, type="COMMENT", text="VIP customer"),
            "ASSIGNMENT": emu.add_message(thread_id, type="ASSIGNMENT", assignedTo="A-9102"),
            "THREAD_INBOX_CHANGE": emu.add_message(thread_id, type="THREAD_INBOX_CHANGE",
                                                   toInboxId="777"),
            "THREAD_STATUS_CHANGE": emu.add_message(thread_id, type="THREAD_STATUS_CHANGE",
                                                    newStatus="CLOSED"),
        }  # fmt: skip
        rows = {r["type"]: r for r in api.ok(f"{THREADS}/{thread_id}/messages")["results"]}
        assert {t: rows[t]["id"] for t in rows} == made
        common = {"id", "type", "conversationsThreadId", "createdAt", "createdBy", "client",
                  "senders", "recipients", "archived"}  # fmt: skip
        assert all(common <= set(row) for row in rows.values())
        message = rows["MESSAGE"]
        assert message["direction"] == "INCOMING" and message["status"]["statusType"] == "RECEIVED"
        assert message["richText"] == "<div>Bill &lt;wrong&gt;</div>"
        assert message["subject"] == "Invoice" and message["truncationStatus"] == "NOT_TRUNCATED"
        assert message["channelId"] == "1002" and message["createdBy"] == f"V-{person}"
        sender = message["senders"][0]
        assert sender["actorId"] == f"V-{person}" and sender["senderField"] == "FROM"
        assert sender["deliveryIdentifier"] == {"type": "HS_EMAIL_ADDRESS",
                                                "value": "ann@example.com"}  # fmt: skip
        comment = rows["COMMENT"]
        assert "direction" not in comment and comment["text"] == "VIP customer"
        assert comment["senders"][0]["actorId"] == "A-9101"
        welcome = rows["WELCOME_MESSAGE"]
        assert welcome["senders"][0]["actorId"] == "S-hubspot" and "direction" not in welcome
        assert rows["ASSIGNMENT"]["assignedTo"] == "A-9102"
        assert "assignedFrom" not in rows["ASSIGNMENT"]
        assert rows["THREAD_INBOX_CHANGE"]["fromInboxId"] == "147959634"
        assert rows["THREAD_INBOX_CHANGE"]["toInboxId"] == "777"
        assert rows["THREAD_STATUS_CHANGE"]["newStatus"] == "CLOSED"
        thread = api.ok(f"{THREADS}/{thread_id}")
        assert thread["status"] == "CLOSED" and thread["closedAt"] == clocks.iso_ms(clock.now())
        assert thread["assignedTo"] == "A-9102" and thread["inboxId"] == "777"
        assert [m["type"] for m in emu.messages(thread_id)][0] == "WELCOME_MESSAGE"
        with pytest.raises(ValueError):
            emu.add_message(thread_id, text="no direction")
        with pytest.raises(ValueError):
            emu.add_message(thread_id, type="COMMENT", text="x", direction="INCOMING")
        with pytest.raises(ValueError):
            emu.add_message(thread_id, type="ASSIGNMENT", assignedTo="102")  # an owner id

    def test_truncation_and_original_content(self, api: Api, emu: HubSpotEmulator) -> None:
        """Text over 2,000 characters is cut in the list; original-content has all of it."""
        thread_id = emu.seed_thread(contact_id=contact(emu))
        long_text = "a" * 1990 + " & more " + "b" * 500
        message_id = emu.add_message(thread_id, text=long_text, direction="INCOMING")
        listed = api.ok(f"{THREADS}/{thread_id}/messages")["results"][0]
        assert listed["truncationStatus"] == "TRUNCATED" and listed["text"] == long_text[:2000]
        single = api.ok(f"{THREADS}/{thread_id}/messages/{message_id}")
        assert single["text"] == long_text[:2000]
        original = api.ok(f"{THREADS}/{thread_id}/messages/{message_id}/original-content")
        assert original == {
            "text": long_text,
            "richText": f"<div>{'a' * 1990} &amp; more {'b' * 500}</div>",
        }
        missing = api.get(f"{THREADS}/{thread_id}/messages/nope/original-content")
        assert_error(missing, 404, "OBJECT_NOT_FOUND")


class TestActors:
    def test_single_actor(self, api: Api, emu: HubSpotEmulator) -> None:
        """Agents resolve by userId; visitors by contact or visitor id; unknown ids are 404."""
        agent = api.ok(f"{CONV}/actors/A-9102")
        assert agent == {"id": "A-9102", "type": "AGENT", "name": "Ben Tech",
                         "email": "ben.tech@example.com"}  # fmt: skip
        person = contact(emu)
        assert api.ok(f"{CONV}/actors/V-{person}")["email"] == "ann@example.com"
        emu.seed_thread(visitor_id="4711")
        assert api.ok(f"{CONV}/actors/V-4711") == {"id": "V-4711", "type": "VISITOR"}
        assert api.ok(f"{CONV}/actors/S-hubspot")["type"] == "SYSTEM"
        assert api.ok(f"{CONV}/actors/L-3")["type"] == "LLM"
        assert api.ok(f"{CONV}/actors/I-1234")["type"] == "INTEGRATOR"
        for unknown in ("A-102", "V-4712", "agent-1"):
            assert_error(api.get(f"{CONV}/actors/{unknown}"), 404, "OBJECT_NOT_FOUND")

    def test_batch_read(self, api: Api) -> None:
        """All found: 200; some unknown: 207 with one error per unknown id."""
        found = api.post(f"{CONV}/actors/batch/read", {"inputs": ["A-9101", "S-hubspot"]})
        assert found.status_code == 200
        assert [a["id"] for a in found.json()["results"]] == ["A-9101", "S-hubspot"]
        partial = api.post(f"{CONV}/actors/batch/read", {"inputs": ["A-9101", "A-1", "V-9"]})
        body = partial.json()
        assert partial.status_code == 207 and body["numErrors"] == 2
        assert [e["context"]["ids"] for e in body["errors"]] == [["A-1"], ["V-9"]]
        bad = api.post(f"{CONV}/actors/batch/read", {"inputs": "A-9101"})
        assert_error(bad, 400, "VALIDATION_ERROR")


class TestTicketLinks:
    def test_seeding_a_thread_marks_the_ticket(
        self, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """The first linked thread becomes the originating one and bumps hs_lastmodifieddate."""
        ticket_id = emu.seed_ticket({"subject": "Help"})
        clock.advance(5)
        first = emu.seed_thread(contact_id=contact(emu), ticket_id=ticket_id)
        after_first = emu.ticket(ticket_id)
        assert after_first["hs_conversations_originating_thread_id"] == first
        assert after_first["hs_lastmodifieddate"] == clocks.iso_ms(clock.now())
        clock.advance(5)
        emu.seed_thread(visitor_id="12", ticket_id=ticket_id)
        assert emu.ticket(ticket_id) == after_first
        assert emu.thread(first)["threadAssociations"] == {"associatedTicketId": ticket_id}
        with pytest.raises(ValueError):
            emu.seed_thread(visitor_id="13", ticket_id="424242")


class TestTicketClosing:
    def test_close_and_reopen_via_patch(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Closing stamps closed_date and hs_last_closed_date; reopening hs_ticket_reopened_at."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        clock.advance(60)
        closed_at = clocks.iso_ms(clock.now())
        api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"hs_pipeline_stage": "4"}})
        ticket = emu.ticket(ticket_id)
        assert ticket["closed_date"] == ticket["hs_last_closed_date"] == closed_at
        assert ticket["hs_ticket_reopened_at"] is None
        clock.advance(60)
        api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"hs_pipeline_stage": "2"}})
        reopened = emu.ticket(ticket_id)
        assert reopened["hs_ticket_reopened_at"] == clocks.iso_ms(clock.now())
        assert reopened["closed_date"] == closed_at
        clock.advance(60)
        api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"hs_pipeline_stage": "4"}})
        assert emu.ticket(ticket_id)["hs_last_closed_date"] == clocks.iso_ms(clock.now())
        denied = api.patch(
            f"{TICKETS}/{ticket_id}",
            {"properties": {"hs_ticket_reopened_at": "2026-01-01T00:00:00Z"}},
        )
        assert_error(denied, 400, "VALIDATION_ERROR")

    def test_batch_touch_and_seed_close(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Batch update, touch_ticket and seeding in a closed stage all stamp closed_date."""
        seeded = emu.seed_ticket({"subject": "Done", "hs_pipeline_stage": "4"})
        assert emu.ticket(seeded)["closed_date"] == clocks.iso_ms(clock.now())
        batched, touched = emu.seed_ticket({"subject": "a"}), emu.seed_ticket({"subject": "b"})
        clock.advance(1)
        inputs = [{"id": batched, "properties": {"hs_pipeline_stage": "4"}}]
        assert api.post(f"{TICKETS}/batch/update", {"inputs": inputs}).status_code == 200
        emu.touch_ticket(touched, {"hs_pipeline_stage": "4"})
        for ticket_id in (batched, touched):
            assert emu.ticket(ticket_id)["hs_last_closed_date"] == clocks.iso_ms(clock.now())
        clock.advance(1)
        api.patch(f"{TICKETS}/{seeded}", {"properties": {"subject": "still closed"}})
        assert emu.ticket(seeded)["hs_last_closed_date"] != clocks.iso_ms(clock.now())


class TestKnowledgeBaseApi:
    def test_knowledge_bases(self, api: Api) -> None:
        """One Help Center knowledge base, with the spec's required fields."""
        body = api.ok(f"{KB}/knowledge-bases")
        assert "paging" not in body
        [kb] = body["results"]
        assert kb["id"] == "4213091" and kb["name"] == "Help Center"
        assert {"domain", "language", "url", "path", "createdAt", "updatedAt"} <= set(kb)

    def test_articles_body_paging_and_filters(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Body unless includeBody=false; newest first; cursor paging; state and time filters."""
        made = []
        for i in range(3):
            clock.advance(1)
            made.append(emu.seed_kb_article(f"Article {i}", f"<p>Body {i}</p>",
                                            tags=["billing"], category="Payments"))  # fmt: skip
        draft = emu.seed_kb_article("Draft", "<p>wip</p>", state="DRAFT")
        listed = api.ok(f"{KB}/articles", {"state": "PUBLISHED"})
        assert ids(listed) == made[::-1]
        article = listed["results"][0]
        assert article["body"] == "<p>Body 2</p>" and article["state"] == "PUBLISHED"
        assert article["tagIds"] and article["categoryId"] and "tags" not in article
        assert {"title", "language", "knowledgeBaseId", "url", "createdAt", "updatedAt",
                "publishedAt"} <= set(article)  # fmt: skip
        bare = api.ok(f"{KB}/articles", {"includeBody": "false"})["results"]
        assert all("body" not in row for row in bare)
        first = api.ok(f"{KB}/articles", {"limit": 2, "sort": "createdAt"})
        rest = api.ok(
            f"{KB}/articles",
            {"limit": 2, "sort": "createdAt", "after": first["paging"]["next"]["after"]},
        )
        assert ids(first) + ids(rest) == [*made, draft] and "paging" not in rest
        since = clocks.iso_ms(clock.now())
        clock.advance(5)
        emu.update_kb_article(made[0], body_html="<p>New</p>")
        changed = api.ok(f"{KB}/articles", {"updatedAfter": since})
        assert ids(changed) == [made[0]]
        assert changed["results"][0]["publishedAt"] == clocks.iso_ms(clock.now())
        tags = api.ok(f"{KB}/tags")["results"]
        assert [t["name"] for t in tags] == ["billing"] and tags[0]["id"] == article["tagIds"][0]
        assert api.ok(f"{KB}/categories")["results"][0]["name"] == "Payments"
        emu.update_kb_article(made[1], archived=True)
        assert made[1] not in ids(api.ok(f"{KB}/articles"))
        assert_error(api.get(f"{KB}/articles/{made[1]}"), 404, "OBJECT_NOT_FOUND")

    @pytest.mark.parametrize(
        "query",
        [{"limit": "101"}, {"state": "LIVE"}, {"sort": "title"}, {"updatedAfter": "yesterday"},
         {"after": "garbage"}, {"includeBody": "yes"}, {"knowledgeBase": "4213091"}],
    )  # fmt: skip
    def test_invalid_article_queries(self, api: Api, query: dict[str, str]) -> None:
        assert_error(api.get(f"{KB}/articles", query), 400, "VALIDATION_ERROR")

    def test_disabled_beta_is_403(self, clock: clocks.FakeClock) -> None:
        """kb_api=False: every KB API path is 403 MISSING_SCOPES; site search still works."""
        with HubSpotEmulator(clock=clock, search_rate_per_s=None, kb_api=False) as emu:
            api = Api(emu)
            emu.seed_kb_article("Refunds", "<p>How refunds work</p>")
            for path in (f"{KB}/articles", f"{KB}/knowledge-bases", f"{KB}/anything/else"):
                assert_error(api.get(path), 403, "MISSING_SCOPES")
            assert api.ok(SEARCH, {"q": "refunds"})["total"] == 1
            api.session.close()


class TestSiteSearch:
    def test_finds_published_not_drafts(self, api: Api, emu: HubSpotEmulator) -> None:
        """Only published articles match; the result carries the spec's fields."""
        published = emu.seed_kb_article(
            "Reset your password", "<p>Open <b>Settings</b> then Security.</p>", category="Login"
        )
        emu.seed_kb_article("Password draft", "<p>password ideas</p>", state="DRAFT")
        body = api.ok(SEARCH, {"q": "PASSWORD", "type": "KNOWLEDGE_ARTICLE"})
        assert body["total"] == 1 and body["searchTerm"] == "PASSWORD"
        assert (body["offset"], body["limit"], body["page"]) == (0, 10, 0)
        [hit] = body["results"]
        assert hit["id"] == int(published) and hit["type"] == "KNOWLEDGE_ARTICLE"
        assert hit["title"] == "Reset your password" and hit["category"] == "Login"
        assert hit["description"] == "Open Settings then Security."
        assert isinstance(hit["publishedDate"], int) and hit["score"] > 0
        assert api.ok(SEARCH, {"q": "password", "type": "BLOG_POST"})["total"] == 0
        assert api.ok(SEARCH, {"q": "password", "language": "de"})["total"] == 0
        assert_error(api.get(SEARCH, {"q": " "}), 400, "VALIDATION_ERROR")
        assert_error(api.get(SEARCH), 400, "VALIDATION_ERROR")
        assert_error(api.get(SEARCH, {"q": "x", "type": "ARTICLE"}), 400, "VALIDATION_ERROR")

    def test_indexed_data(self, api: Api, emu: HubSpotEmulator) -> None:
        """Indexed fields of a published article; drafts and untyped lookups are 404."""
        published = emu.seed_kb_article("Refunds", "<h1>Refunds</h1><p>Within 30 days.</p>")
        draft = emu.seed_kb_article("Draft", "<p>wip</p>", state="DRAFT")
        body = api.ok(f"{INDEXED}/{published}", {"type": "KNOWLEDGE_ARTICLE"})
        assert body["id"] == published and body["type"] == "KNOWLEDGE_ARTICLE"
        assert body["fields"]["title"]["value"] == "Refunds"
        assert body["fields"]["html_other"]["value"] == "Refunds Within 30 days."
        missing = [(draft, {"type": "KNOWLEDGE_ARTICLE"}), (published, None)]
        for content_id, query in missing:
            assert_error(api.get(f"{INDEXED}/{content_id}", query), 404, "OBJECT_NOT_FOUND")

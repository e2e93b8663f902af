"""The HubSpot emulator, exercised through real HTTP with ``requests``.

Most tests run on a ``FakeClock`` so that timestamps, index lag and rate-limit windows move only
when the test says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubsync import clock as clocks
from hubsync.emulators.hubspot import HubSpotEmulator, RecordedRequest

TOKEN = "pat-na1-emulator"
TICKETS = "/crm/v3/objects/tickets"
NOTES = "/crm/v3/objects/notes"
HAS_SUBJECT = {"propertyName": "subject", "operator": "HAS_PROPERTY"}


class Api:
    """A thin authenticated client for one emulator."""

    def __init__(self, emu: HubSpotEmulator, token: str | None = TOKEN) -> None:
        self.emu = emu
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.emu.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, json=body, **kwargs)

    def search(self, object_type: str = "tickets", **body: Any) -> requests.Response:
        return self.post(f"/crm/v3/objects/{object_type}/search", body)


@pytest.fixture
def emu(clock: clocks.FakeClock) -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(clock=clock, search_rate_per_s=None) as emulator:
        yield emulator


@pytest.fixture
def api(emu: HubSpotEmulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.session.close()


def ms(moment: str) -> str:
    """Epoch milliseconds (as a string) of an ISO timestamp."""
    return str(clocks.to_epoch_ms(clocks.parse_iso(moment)))


def error_codes(response: requests.Response) -> list[str]:
    return [entry["code"] for entry in response.json().get("errors", [])]


def assert_hubspot_error(response: requests.Response, status: int, category: str) -> None:
    body = response.json()
    assert response.status_code == status, body
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["message"]
    uuid.UUID(body["correlationId"])
    assert response.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]


def note_body(ticket_id: str, text: str = "<p>summary</p>", **extra: Any) -> dict[str, Any]:
    return {
        "properties": {"hs_timestamp": "2026-01-05T09:00:00.000Z", "hs_note_body": text, **extra},
        "associations": [
            {
                "to": {"id": ticket_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}],
            }
        ],
    }


class TestAuthAndRouting:
    def test_missing_token_is_401(self, emu: HubSpotEmulator) -> None:
        """Without a bearer token every request gets a HubSpot-shaped 401, and is recorded."""
        anonymous = Api(emu, token=None)
        response = anonymous.get(f"{TICKETS}/1")
        anonymous.session.close()
        assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")
        assert response.json()["message"].startswith("Authentication credentials not found")
        assert emu.requests[-1].status == 401

    def test_wrong_token_is_401(self, emu: HubSpotEmulator) -> None:
        """A bearer token other than the emulator's is refused."""
        stranger = Api(emu, token="pat-na1-someone-else")
        response = stranger.get("/crm/v3/owners")
        stranger.session.close()
        assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")

    def test_unknown_route_wrong_method_and_bad_json(self, api: Api) -> None:
        """Unknown paths are 404, known paths with the wrong method 405, bad JSON 400."""
        assert_hubspot_error(api.get("/crm/v3/nothing/here"), 404, "OBJECT_NOT_FOUND")
        assert api.call("DELETE", "/crm/v3/owners").status_code == 405
        bad = api.call(
            "POST", TICKETS, data=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_hubspot_error(bad, 400, "VALIDATION_ERROR")


class TestTickets:
    def test_create_get_patch_and_modified_time(self, api: Api, clock: clocks.FakeClock) -> None:
        """Every write moves hs_lastmodifieddate, even one that changes no value."""
        created = api.post(
            TICKETS, {"properties": {"subject": "Printer", "hs_pipeline_stage": "1"}}
        )
        assert created.status_code == 201
        ticket = created.json()
        assert ticket["properties"]["hs_pipeline"] == "0"
        assert ticket["createdAt"] == ticket["updatedAt"] == clocks.iso_ms(clock.now())
        path = f"{TICKETS}/{ticket['id']}"
        stamps = [ticket["properties"]["hs_lastmodifieddate"]]
        for _ in range(2):  # the second PATCH writes the same value again
            clock.advance(1.5)
            patched = api.patch(path, {"properties": {"hs_ticket_priority": "HIGH"}})
            assert patched.status_code == 200
            stamps.append(patched.json()["properties"]["hs_lastmodifieddate"])
        assert len(set(stamps)) == 3
        fetched = api.get(path).json()
        assert fetched["properties"]["hs_lastmodifieddate"] == stamps[-1]
        assert fetched["properties"]["createdate"] == ticket["properties"]["createdate"]
        assert fetched["updatedAt"] == stamps[-1]

    def test_default_and_requested_properties(self, api: Api, emu: HubSpotEmulator) -> None:
        """GET returns the default set unless properties are named; always-on ones come too."""
        ticket_id = emu.seed_ticket({"subject": "Hello", "hubspot_owner_id": "101"})
        default = api.get(f"{TICKETS}/{ticket_id}").json()["properties"]
        assert set(default) == {
            "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
            "hs_ticket_priority", "subject", "createdate", "hs_lastmodifieddate", "hs_object_id",
        }  # fmt: skip
        assert default["content"] is None
        named = api.get(
            f"{TICKETS}/{ticket_id}", params={"properties": "hubspot_owner_id,ai_category,nope"}
        ).json()["properties"]
        assert named["hubspot_owner_id"] == "101"
        assert named["ai_category"] is None
        assert "subject" not in named and "nope" not in named
        assert {"createdate", "hs_lastmodifieddate", "hs_object_id"} <= set(named)

    @pytest.mark.parametrize(
        ("properties", "code"),
        [
            ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
            ({"hs_lastmodifieddate": "2026-01-01T00:00:00Z"}, "READ_ONLY_VALUE"),
            ({"hs_num_associated_conversations": "2"}, "READ_ONLY_VALUE"),
            ({"ai_category": "Billing"}, "INVALID_OPTION"),
            ({"ai_confidence": "very"}, "INVALID_INTEGER"),
            ({"hubspot_owner_id": "105"}, "INVALID_OWNER_ID"),  # archived
            ({"hubspot_owner_id": "9102"}, "INVALID_OWNER_ID"),  # a userId, not an owner id
            ({"hs_pipeline_stage": "7"}, "INVALID_OPTION"),
            ({"subject": None}, "INVALID_VALUE"),
        ],
    )
    def test_patch_validation(
        self, api: Api, emu: HubSpotEmulator, properties: dict[str, Any], code: str
    ) -> None:
        """Invalid writes are 400 VALIDATION_ERROR with a specific code, and change nothing."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        before = emu.ticket(ticket_id)
        response = api.patch(f"{TICKETS}/{ticket_id}", {"properties": properties})
        assert_hubspot_error(response, 400, "VALIDATION_ERROR")
        assert code in error_codes(response)
        [name] = properties
        assert response.json()["errors"][0]["context"] == {"propertyName": [name]}
        assert emu.ticket(ticket_id) == before

    def test_valid_owner_numbers_and_clearing(self, api: Api, emu: HubSpotEmulator) -> None:
        """Active owner ids, numbers (stringified) and "" (clear) are accepted."""
        ticket_id = emu.seed_ticket({"subject": "Hello", "ai_category": "billing"})
        response = api.patch(
            f"{TICKETS}/{ticket_id}",
            {"properties": {"hubspot_owner_id": "102", "ai_confidence": 0.75, "ai_category": ""}},
        )
        assert response.status_code == 200, response.json()
        stored = emu.ticket(ticket_id)
        assert (stored["hubspot_owner_id"], stored["ai_confidence"]) == ("102", "0.75")
        assert stored["ai_category"] is None

    def test_create_requires_subject_and_stage(self, api: Api) -> None:
        """Ticket create without subject or hs_pipeline_stage is 400."""
        response = api.post(TICKETS, {"properties": {"content": "no subject"}})
        assert_hubspot_error(response, 400, "VALIDATION_ERROR")
        assert error_codes(response).count("REQUIRED_FIELD") == 2

    def test_unknown_ticket_is_404(self, api: Api) -> None:
        """GET and PATCH of an id that does not exist are 404 OBJECT_NOT_FOUND."""
        assert_hubspot_error(api.get(f"{TICKETS}/424242"), 404, "OBJECT_NOT_FOUND")
        missing = api.patch(f"{TICKETS}/424242", {"properties": {"subject": "x"}})
        assert_hubspot_error(missing, 404, "OBJECT_NOT_FOUND")

    def test_closing_sets_closed_date(self, api: Api, emu: HubSpotEmulator) -> None:
        """Moving into a CLOSED stage sets closed_date."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"hs_pipeline_stage": "4"}})
        assert emu.ticket(ticket_id)["closed_date"] is not None

    def test_touch_ticket_bumps_modified(
        self, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """A HubSpot-side change may set internal properties and bumps hs_lastmodifieddate."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        before = emu.ticket(ticket_id)["hs_lastmodifieddate"]
        clock.advance(5)
        emu.touch_ticket(ticket_id, {"hs_num_associated_conversations": "1"})
        after = emu.ticket(ticket_id)
        assert after["hs_num_associated_conversations"] == "1"
        assert after["hs_lastmodifieddate"] == clocks.iso_ms(clock.now()) != before
        with pytest.raises(ValueError, match="does not exist"):
            emu.touch_ticket(ticket_id, {"bogus": "1"})


class TestBatch:
    def test_batch_read_reports_missing_ids_with_207(self, api: Api, emu: HubSpotEmulator) -> None:
        """Found objects come back in results and missing ids in errors."""
        first, second = emu.seed_ticket({"subject": "a"}), emu.seed_ticket({"subject": "b"})
        inputs = [{"id": first}, {"id": "999"}, {"id": second}]
        response = api.post(f"{TICKETS}/batch/read", {"inputs": inputs, "properties": ["subject"]})
        assert response.status_code == 207
        body = response.json()
        assert sorted(r["id"] for r in body["results"]) == sorted([first, second])
        assert body["errors"][0]["context"]["ids"] == ["999"]

    def test_batch_update_applies_all(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """A valid batch updates every input and bumps every modified time."""
        ids = [emu.seed_ticket({"subject": str(n)}) for n in range(3)]
        clock.advance(2)
        inputs = [{"id": i, "properties": {"ai_urgency": "high"}} for i in ids]
        response = api.post(f"{TICKETS}/batch/update", {"inputs": inputs})
        assert response.status_code == 200
        assert response.json()["status"] == "COMPLETE"
        now = clocks.iso_ms(clock.now())
        assert all(emu.ticket(i)["hs_lastmodifieddate"] == now for i in ids)

    @pytest.mark.parametrize(
        ("bad_input", "status"),
        [
            ({"id": "31337", "properties": {"ai_urgency": "low"}}, 404),
            ({"id": "FIRST", "properties": {"ai_urgency": "low"}}, 400),  # duplicate id
            ({"id": "SECOND", "properties": {"ai_urgency": "LOW"}}, 400),  # bad enum value
        ],
    )
    def test_batch_update_is_atomic(
        self, api: Api, emu: HubSpotEmulator, bad_input: dict[str, Any], status: int
    ) -> None:
        """One bad input rejects the whole batch and nothing is written."""
        first, second = emu.seed_ticket({"subject": "a"}), emu.seed_ticket({"subject": "b"})
        bad_input = {
            **bad_input,
            "id": {"FIRST": first, "SECOND": second}.get(bad_input["id"], bad_input["id"]),
        }
        inputs = [{"id": first, "properties": {"ai_urgency": "medium"}}, bad_input]
        before = (emu.ticket(first), emu.ticket(second))
        response = api.post(f"{TICKETS}/batch/update", {"inputs": inputs})
        assert response.status_code == status
        assert response.json()["status"] == "error"
        assert (emu.ticket(first), emu.ticket(second)) == before

    def test_batch_update_limit(self, api: Api, emu: HubSpotEmulator) -> None:
        """More than 100 inputs is 400."""
        ticket_id = emu.seed_ticket({"subject": "a"})
        inputs = [{"id": ticket_id, "properties": {}}] * 101
        assert_hubspot_error(
            api.post(f"{TICKETS}/batch/update", {"inputs": inputs}), 400, "VALIDATION_ERROR"
        )


class TestSearch:
    def test_paging_total_and_last_page(self, api: Api, emu: HubSpotEmulator) -> None:
        """paging.next.after is an offset; paging is absent on the last page."""
        for n in range(25):
            emu.seed_ticket({"subject": f"t{n}"})
        seen, after, pages = [], None, 0
        while True:
            body = {"limit": 10, **({"after": after} if after else {})}
            page = api.search("tickets", **body).json()
            pages += 1
            assert page["total"] == 25
            seen += [r["id"] for r in page["results"]]
            if "paging" not in page:
                break
            after = page["paging"]["next"]["after"]
            assert after == str(len(seen))
        assert pages == 3 and len(set(seen)) == 25
        assert seen == sorted(seen, key=int)  # default order: creation

    def test_sort_ascending_with_gte_filter(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """GTE on an epoch-ms string filters by time; the first sort orders the results."""
        ids = [emu.seed_ticket({"subject": f"t{n}"}) for n in range(4)]
        clock.advance(60)
        since = clocks.to_epoch_ms(clock.now())
        for ticket_id in (ids[2], ids[0], ids[3]):
            clock.advance(1)
            emu.touch_ticket(ticket_id, {"hs_ticket_priority": "LOW"})
        response = api.search(
            filterGroups=[{"filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since)}
            ]}],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"},
                   {"propertyName": "subject", "direction": "DESCENDING"}],
            properties=["hs_lastmodifieddate"],
        ).json()  # fmt: skip
        assert [r["id"] for r in response["results"]] == [ids[2], ids[0], ids[3]]
        assert response["total"] == 3
        assert set(response["results"][0]["properties"]) == {
            "hs_lastmodifieddate",
            "createdate",
            "hs_object_id",
        }

    def test_between_and_in(self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock) -> None:
        """BETWEEN is inclusive on epoch ms; IN on enumerations is case-sensitive."""
        early = emu.seed_ticket({"subject": "a", "hs_ticket_priority": "HIGH"})
        clock.advance(10)
        middle = emu.seed_ticket({"subject": "b", "hs_ticket_priority": "LOW"})
        clock.advance(10)
        emu.seed_ticket({"subject": "c", "hs_ticket_priority": "HIGH"})
        low = ms(emu.ticket(early)["createdate"] or "")
        high = ms(emu.ticket(middle)["createdate"] or "")
        between = {
            "propertyName": "createdate",
            "operator": "BETWEEN",
            "value": low,
            "highValue": high,
        }
        found = api.search(filterGroups=[{"filters": [between]}]).json()
        assert [r["id"] for r in found["results"]] == [early, middle]

        def priority_in(*values: str) -> list[str]:
            flt = {"propertyName": "hs_ticket_priority", "operator": "IN", "values": list(values)}
            return [
                r["id"]
                for r in api.search(filterGroups=[{"filters": [flt, between]}]).json()["results"]
            ]

        assert priority_in("HIGH") == [early]
        assert priority_in("high") == []

    def test_in_on_strings_needs_lowercase(self, api: Api, emu: HubSpotEmulator) -> None:
        """String IN values match only when given in lowercase; EQ ignores case."""
        contact_id = emu.seed_contact({"email": "Ana@Example.com", "firstname": "Ana"})

        def found(**flt: Any) -> list[str]:
            body = {"filterGroups": [{"filters": [{"propertyName": "email", **flt}]}]}
            return [r["id"] for r in api.search("contacts", **body).json()["results"]]

        assert found(operator="IN", values=["ana@example.com"]) == [contact_id]
        assert found(operator="IN", values=["Ana@Example.com"]) == []
        assert found(operator="EQ", value="ANA@example.COM") == [contact_id]

    @pytest.mark.parametrize(
        "body",
        [
            {"limit": 201},
            {"limit": 100, "after": "9950"},
            {"filterGroups": [{"filters": [HAS_SUBJECT]}] * 6},
            {"filterGroups": [{"filters": [HAS_SUBJECT] * 7}]},
            {"filterGroups": [{"filters": [HAS_SUBJECT] * 6}] * 3 + [{"filters": [HAS_SUBJECT]}]},
            {"filterGroups": [{"filters": [
                {"propertyName": "createdate", "operator": "GTE", "value": "2026-01-01T00:00:00Z"}
            ]}]},
            {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "HAS_PROPERTY"}]}]},
            {"filterGroups": [{"filters": []}]},
            {"sorts": ["hs_lastmodifieddate"]},
            {"filter": []},
        ],
    )  # fmt: skip
    def test_invalid_requests_are_400(self, api: Api, body: dict[str, Any]) -> None:
        """Limits (200 per page, 10,000 results, 5 groups, 6 per group, 18 total) and bad shapes."""
        assert_hubspot_error(api.search(**body), 400, "VALIDATION_ERROR")

    def test_index_lag_hides_fresh_writes(self, clock: clocks.FakeClock) -> None:
        """Search serves objects as they were search_lag_s ago; GET is always current."""
        with HubSpotEmulator(clock=clock, search_rate_per_s=None, search_lag_s=30) as emu:
            api = Api(emu)
            old = emu.seed_ticket({"subject": "old", "hs_ticket_priority": "LOW"})
            clock.advance(31)
            fresh = emu.seed_ticket({"subject": "fresh"})
            emu.touch_ticket(old, {"hs_ticket_priority": "HIGH"})
            results = api.search(properties=["hs_ticket_priority"]).json()["results"]
            assert [(r["id"], r["properties"]["hs_ticket_priority"]) for r in results] == [
                (old, "LOW")
            ]
            assert api.get(f"{TICKETS}/{fresh}").status_code == 200
            clock.advance(30)
            results = api.search(properties=["hs_ticket_priority"]).json()["results"]
            assert [(r["id"], r["properties"]["hs_ticket_priority"]) for r in results] == [
                (old, "HIGH"),
                (fresh, None),
            ]
            api.session.close()

    def test_search_rate_limit_has_no_headers(self, clock: clocks.FakeClock) -> None:
        """The sixth search within a second is 429 SECONDLY, with no rate-limit headers."""
        with HubSpotEmulator(clock=clock, search_rate_per_s=5) as emu:
            api = Api(emu)
            answers = [api.search() for _ in range(6)]
            assert [a.status_code for a in answers] == [200] * 5 + [429]
            assert answers[-1].json()["policyName"] == "SECONDLY"
            assert not [
                h for a in answers for h in a.headers if h.lower().startswith("x-hubspot-ratelimit")
            ]
            clock.advance(1)
            assert api.search().status_code == 200
            api.session.close()


class TestRateLimit:
    def test_burst_limit(self, clock: clocks.FakeClock) -> None:
        """Over burst_limit in the window is 429 TEN_SECONDLY_ROLLING; search does not count."""
        with HubSpotEmulator(clock=clock, burst_limit=3, search_rate_per_s=None) as emu:
            api = Api(emu)
            answers = [api.get("/crm/v3/owners") for _ in range(3)]
            assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
            assert api.search().status_code == 200
            limited = api.get("/crm/v3/owners")
            assert limited.status_code == 429
            body = limited.json()
            assert body["errorType"] == "RATE_LIMIT"
            assert body["policyName"] == "TEN_SECONDLY_ROLLING"
            assert body["message"] == "You have reached your ten_secondly_rolling limit."
            assert {"correlationId", "requestId"} <= set(body)
            assert limited.headers["X-HubSpot-RateLimit-Max"] == "3"
            assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            assert "X-HubSpot-RateLimit-Daily-Remaining" in limited.headers
            assert emu.requests[-1].status == 429
            clock.advance(10)
            assert api.get("/crm/v3/owners").status_code == 200
            api.session.close()


class TestNotes:
    def test_create_with_associations(self, api: Api, emu: HubSpotEmulator) -> None:
        """A note is created with inline associations to a ticket and a contact."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        contact_id = emu.seed_contact({"email": "a@b.c"})
        body = note_body(ticket_id)
        body["associations"].append(
            {"to": {"id": contact_id},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}
        )  # fmt: skip
        response = api.post(NOTES, body)
        assert response.status_code == 201
        note_id = response.json()["id"]
        assert [n["id"] for n in emu.notes_for_ticket(ticket_id)] == [note_id]
        assert emu.notes_for_ticket(ticket_id)[0]["properties"]["hs_note_body"] == "<p>summary</p>"
        from_contact = api.get(f"/crm/v4/objects/contacts/{contact_id}/associations/notes").json()
        assert from_contact["results"][0]["associationTypes"][0]["typeId"] == 201

    def test_body_only_when_asked(self, api: Api, emu: HubSpotEmulator) -> None:
        """Reads of notes leave out hs_note_body unless it is named."""
        note_id = api.post(NOTES, note_body(emu.seed_ticket({"subject": "x"}))).json()["id"]
        plain = api.get(f"{NOTES}/{note_id}").json()["properties"]
        assert set(plain) == {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
        named = api.get(f"{NOTES}/{note_id}", params={"properties": "hs_note_body"}).json()
        assert named["properties"]["hs_note_body"] == "<p>summary</p>"
        batch = api.post(f"{NOTES}/batch/read", {"inputs": [{"id": note_id}]}).json()
        assert "hs_note_body" not in batch["results"][0]["properties"]

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"properties": {"hs_note_body": "x"}}, "REQUIRED_FIELD"),  # no hs_timestamp
            ({"properties": {"hs_timestamp": "0", "hs_note_body": "x" * 65_537}}, "VALUE_TOO_LONG"),
            ({"associations": [{"to": {"id": "404404"}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}]}, None),
            ({"associations": [{"to": {"id": "TICKET"}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 999}]}]}, None),
            ({"associations": [{"to": {"id": "TICKET"}, "types": [
                {"associationCategory": "USER_DEFINED", "associationTypeId": 228}]}]}, None),
        ],
    )  # fmt: skip
    def test_invalid_note_creates_nothing(
        self, api: Api, emu: HubSpotEmulator, change: dict[str, Any], code: str | None
    ) -> None:
        """Missing hs_timestamp, an over-long body or a bad association: 400, no note."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        body = {**note_body(ticket_id), **change}
        for association in body["associations"]:
            if association["to"]["id"] == "TICKET":
                association["to"]["id"] = ticket_id
        response = api.post(NOTES, body)
        assert_hubspot_error(response, 400, "VALIDATION_ERROR")
        if code is not None:
            assert code in error_codes(response)
        assert emu.all_notes() == []

    def test_body_limit_is_inclusive(self, api: Api, emu: HubSpotEmulator) -> None:
        """A body of exactly 65,536 characters is accepted."""
        response = api.post(NOTES, note_body(emu.seed_ticket({"subject": "x"}), "y" * 65_536))
        assert response.status_code == 201

    def test_batch_create_with_trace_ids_is_207(self, api: Api, emu: HubSpotEmulator) -> None:
        """With unique objectWriteTraceIds, bad inputs fail alone and good ones are created."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        good = {**note_body(ticket_id, "good"), "objectWriteTraceId": "t-1"}
        bad = {**note_body("777777", "bad"), "objectWriteTraceId": "t-2"}
        response = api.post(f"{NOTES}/batch/create", {"inputs": [good, bad]})
        assert response.status_code == 207
        body = response.json()
        assert body["numErrors"] == 1
        assert body["errors"][0]["context"]["objectWriteTraceId"] == ["t-2"]
        assert body["errors"][0]["category"] == "VALIDATION_ERROR"
        assert [r["properties"]["hs_note_body"] for r in body["results"]] == ["good"]
        assert [n["properties"]["hs_note_body"] for n in emu.all_notes()] == ["good"]

    def test_batch_create_without_trace_ids_is_atomic(self, api: Api, emu: HubSpotEmulator) -> None:
        """Without trace ids one bad input rejects the batch; all good gives 201 in order."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        inputs = [note_body(ticket_id, "one"), note_body("777777", "two")]
        assert api.post(f"{NOTES}/batch/create", {"inputs": inputs}).status_code == 400
        assert emu.all_notes() == []
        inputs = [note_body(ticket_id, "one"), note_body(ticket_id, "two")]
        created = api.post(f"{NOTES}/batch/create", {"inputs": inputs})
        assert created.status_code == 201
        assert [r["properties"]["hs_note_body"] for r in created.json()["results"]] == [
            "one",
            "two",
        ]
        assert {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"} <= set(
            created.json()["results"][0]["properties"]
        )

    def test_associations_do_not_bump_ticket(
        self, api: Api, emu: HubSpotEmulator, clock: clocks.FakeClock
    ) -> None:
        """Inline and v4 PUT associations leave the ticket's hs_lastmodifieddate alone."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        before = emu.ticket(ticket_id)["hs_lastmodifieddate"]
        clock.advance(30)
        inline_id = api.post(NOTES, note_body(ticket_id)).json()["id"]
        loose = {k: v for k, v in note_body(ticket_id).items() if k != "associations"}
        loose_id = api.post(NOTES, loose).json()["id"]
        put = api.call(
            "PUT", f"/crm/v4/objects/notes/{loose_id}/associations/default/tickets/{ticket_id}"
        )
        assert put.status_code == 200
        assert emu.ticket(ticket_id)["hs_lastmodifieddate"] == before
        read = api.get(f"/crm/v4/objects/tickets/{ticket_id}/associations/notes").json()
        assert read["results"] == [
            {"toObjectId": int(note_id),
             "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 227, "label": None}]}
            for note_id in sorted([inline_id, loose_id], key=int)
        ]  # fmt: skip
        assert "paging" not in read
        assert api.get("/crm/v4/objects/tickets/5/associations/notes").status_code == 404


class TestProperties:
    def test_create_then_conflict(self, api: Api) -> None:
        """Creating a property is 201; creating it again is 409 CONFLICT."""
        definition = {
            "name": "ai_triage", "label": "AI triage", "type": "enumeration",
            "fieldType": "select", "groupName": "simpli_ai",
            "options": [{"label": "Yes", "value": "yes", "hidden": False}],
        }  # fmt: skip
        created = api.post("/crm/v3/properties/tickets", definition)
        assert created.status_code == 201
        assert created.json()["options"][0]["value"] == "yes"
        assert_hubspot_error(api.post("/crm/v3/properties/tickets", definition), 409, "CONFLICT")
        assert api.get("/crm/v3/properties/tickets/ai_triage").json()["groupName"] == "simpli_ai"

    @pytest.mark.parametrize(
        "change",
        [{"fieldType": "text"}, {"options": []}, {"groupName": "missing"}, {"name": "Bad Name"}],
    )
    def test_invalid_definitions(self, api: Api, change: dict[str, Any]) -> None:
        """Bad type/fieldType pairs, enumerations without options, unknown groups: 400."""
        definition = {
            "name": "ai_other", "label": "Other", "type": "enumeration", "fieldType": "select",
            "groupName": "simpli_ai", "options": [{"label": "A", "value": "a", "hidden": False}],
            **change,
        }  # fmt: skip
        assert_hubspot_error(
            api.post("/crm/v3/properties/tickets", definition), 400, "VALIDATION_ERROR"
        )

    def test_without_custom_properties(self, clock: clocks.FakeClock) -> None:
        """custom_properties=False leaves out the simpli_ai group and its properties."""
        with HubSpotEmulator(clock=clock, custom_properties=False) as emu:
            api = Api(emu)
            assert api.get("/crm/v3/properties/tickets/ai_category").status_code == 404
            assert api.get("/crm/v3/properties/tickets/groups/simpli_ai").status_code == 404
            group = {"name": "simpli_ai", "label": "Simpli AI"}
            assert api.post("/crm/v3/properties/tickets/groups", group).status_code == 201
            assert api.post("/crm/v3/properties/tickets/groups", group).status_code == 409
            api.session.close()


class TestPipelinesAndOwners:
    def test_pipeline_stages(self, api: Api) -> None:
        """The support pipeline's stages carry ticketState; unknown pipelines are 404."""
        stages = api.get("/crm/v3/pipelines/tickets/0/stages").json()["results"]
        assert [(s["id"], s["metadata"]["ticketState"]) for s in stages] == [
            ("1", "OPEN"),
            ("2", "OPEN"),
            ("3", "OPEN"),
            ("4", "CLOSED"),
        ]
        assert (
            api.get("/crm/v3/pipelines/tickets").json()["results"][0]["label"] == "Support Pipeline"
        )
        assert_hubspot_error(api.get("/crm/v3/pipelines/tickets/9"), 404, "OBJECT_NOT_FOUND")

    def test_owners(self, api: Api, emu: HubSpotEmulator) -> None:
        """Owners list pages active owners; archived=true lists archived ones; userId lookup."""
        first = api.get("/crm/v3/owners", params={"limit": 3}).json()
        rest = api.get(
            "/crm/v3/owners", params={"limit": 3, "after": first["paging"]["next"]["after"]}
        ).json()
        assert [o["id"] for o in first["results"] + rest["results"]] == ["101", "102", "103", "104"]
        assert "paging" not in rest
        archived = api.get("/crm/v3/owners", params={"archived": "true"}).json()["results"]
        assert [(o["id"], o["userId"], o["userIdIncludingInactive"]) for o in archived] == [
            ("105", None, 9105)
        ]
        by_user = api.get("/crm/v3/owners/9102", params={"idProperty": "userId"}).json()
        assert by_user["id"] == "102"
        assert api.get("/crm/v3/owners/105").status_code == 404
        emu.add_owner(
            "106", email="eve@example.com", first_name="Eve", last_name="New", user_id=9106
        )
        ticket_id = emu.seed_ticket({"subject": "x"})
        assert api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"hubspot_owner_id": "106"}}).ok


class TestFaults:
    def test_dropped_connection_after_commit(self, api: Api, emu: HubSpotEmulator) -> None:
        """after_commit with no status: the note is created but no answer arrives."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        emu.inject("POST", r"^/crm/v3/objects/notes$", after_commit=True)
        with pytest.raises(requests.ConnectionError):
            api.post(NOTES, note_body(ticket_id))
        assert len(emu.notes_for_ticket(ticket_id)) == 1
        assert emu.requests[-1].status == 0
        assert api.post(NOTES, note_body(ticket_id)).status_code == 201  # only once

    def test_status_before_commit(self, api: Api, emu: HubSpotEmulator) -> None:
        """A fault with a status answers it without executing, with the given headers."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        emu.inject("PATCH", "/tickets/", status=503, times=2, headers={"Retry-After": "2"})
        for _ in range(2):
            response = api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"subject": "new"}})
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "2"
            assert response.json()["status"] == "error"
        assert emu.ticket(ticket_id)["subject"] == "Hello"
        assert api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"subject": "new"}}).ok

    def test_status_after_commit(self, api: Api, emu: HubSpotEmulator) -> None:
        """after_commit with a status: the write persists, the client sees the error."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        emu.inject("PATCH", "/tickets/", status=502, after_commit=True, body={"oops": True})
        response = api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"subject": "new"}})
        assert (response.status_code, response.json()) == (502, {"oops": True})
        assert emu.ticket(ticket_id)["subject"] == "new"

    def test_delay_trips_read_timeout_then_executes(self, api: Api, emu: HubSpotEmulator) -> None:
        """A delay without a status still executes the request after the client gave up."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        emu.inject("PATCH", "/tickets/", delay_s=0.4)
        with pytest.raises(requests.ReadTimeout):
            api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"subject": "late"}}, timeout=0.1)
        for _ in range(50):
            if emu.count("PATCH"):
                break
            clocks.SystemClock().sleep(0.02)
        assert emu.ticket(ticket_id)["subject"] == "late"


class TestRecord:
    def test_record_contents(self, api: Api, emu: HubSpotEmulator) -> None:
        """Each request is recorded with method, path, parsed query and body, and status."""
        ticket_id = emu.seed_ticket({"subject": "Hello"})
        assert emu.requests == []  # seeding is not recorded
        api.get(f"{TICKETS}/{ticket_id}", params={"properties": "subject,content"})
        api.patch(f"{TICKETS}/{ticket_id}", {"properties": {"subject": "Hi"}})
        api.get(f"{TICKETS}/999")
        first, second, third = emu.requests
        assert isinstance(first, RecordedRequest)
        assert (first.method, first.path, first.query, first.body, first.status) == (
            "GET",
            f"{TICKETS}/{ticket_id}",
            {"properties": ["subject,content"]},
            None,
            200,
        )
        assert (second.method, second.body, second.status) == (
            "PATCH",
            {"properties": {"subject": "Hi"}},
            200,
        )
        assert third.status == 404
        assert first.at <= second.at <= third.at
        assert emu.count("GET", TICKETS) == 2
        assert emu.count("patch") == 1
        emu.reset_requests()
        assert emu.requests == [] and emu.count("GET") == 0

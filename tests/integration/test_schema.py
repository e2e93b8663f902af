"""Custom-property setup and verification against a real HubSpot emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from structlog.testing import capture_logs

from hubsync.clock import SystemClock
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.hubspot import schema
from hubsync.hubspot.budget import RateBudget
from hubsync.hubspot.http import HubSpotHTTP

PROPS = "/crm/v3/properties"
ALL_KEYS = sorted(spec.key for spec in schema.PROPERTIES)


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    """A portal without hubsync's group or properties."""
    with HubSpotEmulator(custom_properties=False) as emulator:
        yield emulator


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def client(emu: HubSpotEmulator, session: requests.Session) -> HubSpotHTTP:
    clock = SystemClock()
    return HubSpotHTTP(session=session, base_url=emu.base_url, token="pat-na1-emulator",
                       budget=RateBudget(clock=clock), clock=clock, max_attempts=2,
                       backoff_base_s=0.01)


@pytest.fixture
def http(emu: HubSpotEmulator, session: requests.Session) -> HubSpotHTTP:
    return client(emu, session)


def writes(emu: HubSpotEmulator) -> list[str]:
    """``"METHOD path"`` of every recorded POST/PATCH/PUT/DELETE."""
    return [f"{r.method} {r.path}" for r in emu.requests if r.method != "GET"]


def option_pairs(definition: dict[str, Any]) -> list[tuple[str, str]]:
    return [(o["value"], o["label"]) for o in definition["options"]]


def seed_group_and_property(http: HubSpotHTTP, object_type: str, **body: Any) -> None:
    """Create hubsync's group and one property directly, as an operator might have."""
    http.post(f"{PROPS}/{object_type}/groups", {"name": "simpli_ai", "label": "Simpli AI"},
              idempotent=True)
    http.post(f"{PROPS}/{object_type}", {"groupName": "simpli_ai", "label": "Seeded", **body},
              idempotent=True)


class TestSpecification:
    def test_every_pair_is_valid_and_named_once(self) -> None:
        """Each property uses a valid type/fieldType pair and appears once."""
        valid = {("enumeration", "select"), ("number", "number")}
        assert {(s.type, s.field_type) for s in schema.PROPERTIES} <= valid
        assert len(ALL_KEYS) == len(set(ALL_KEYS)) == 6
        assert all(bool(s.options) == (s.type == "enumeration") for s in schema.PROPERTIES)


class TestEnsure:
    def test_creates_groups_and_properties_on_a_bare_portal(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """A bare portal gets both groups and all six properties with the specified shape."""
        with capture_logs() as logs:
            report = schema.ensure(http)

        assert report.ok()
        assert sorted(report.groups_created) == ["contacts.simpli_ai", "tickets.simpli_ai"]
        assert sorted(report.created) == ALL_KEYS
        assert report.existing == report.options_added == report.conflicts == []
        events = [entry["event"] for entry in logs]
        assert events.count("property_created") == 6
        assert events.count("property_group_created") == 2
        for spec in schema.PROPERTIES:
            definition = http.get(f"{PROPS}/{spec.object_type}/{spec.name}")
            assert (definition["type"], definition["fieldType"]) == (spec.type, spec.field_type)
            assert definition["groupName"] == "simpli_ai"
            assert definition["label"] == spec.label
            assert definition["description"] == spec.description
            assert option_pairs(definition) == list(spec.options)
        category = http.get(f"{PROPS}/tickets/ai_category")
        assert option_pairs(category)[3] == ("feature_request", "Feature request")
        assert "created tickets.ai_category" in report.lines()

    def test_second_run_writes_nothing(self, emu: HubSpotEmulator, http: HubSpotHTTP) -> None:
        """Running ensure again on a set-up portal only reads."""
        schema.ensure(http)
        emu.reset_requests()

        report = schema.ensure(http)

        assert writes(emu) == []
        assert report.ok()
        assert sorted(report.existing) == ALL_KEYS
        assert report.created == report.groups_created == report.options_added == []
        assert len(emu.requests) == 6  # one GET per property; no group needed

    def test_check_only_plans_without_writing(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """check_only on a bare portal makes only GETs and plans every creation."""
        report = schema.ensure(http, check_only=True)

        assert writes(emu) == []
        assert not report.ok()
        assert sorted(p for p in report.planned if not p.startswith("create group")) == [
            f"create {key}" for key in ALL_KEYS
        ]
        assert sorted(p for p in report.planned if p.startswith("create group")) == [
            "create group contacts.simpli_ai", "create group tickets.simpli_ai"
        ]
        assert report.created == report.groups_created == []
        assert "would create contacts.escalation_risk" in report.lines()
        assert schema.verify(http) == ALL_KEYS

    def test_adds_missing_options_and_keeps_the_portals_own(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """Missing options are appended; existing labels and extra options stay as they were."""
        seed_group_and_property(
            http, "tickets", name="ai_category", type="enumeration", fieldType="select",
            options=[
                {"label": "Billing & invoices", "value": "billing", "hidden": False},
                {"label": "Technical", "value": "technical", "hidden": False},
                {"label": "Account", "value": "account", "hidden": False},
                {"label": "Legacy", "value": "legacy", "hidden": True},
            ],
        )

        planned = schema.ensure(http, check_only=True)
        with capture_logs() as logs:
            report = schema.ensure(http)

        added = ["tickets.ai_category: feature_request", "tickets.ai_category: general"]
        assert [p for p in planned.planned if p.startswith("add option")] == [
            f"add option {entry}" for entry in added
        ]
        assert report.options_added == added
        assert "tickets.ai_category" in report.existing
        assert report.ok()
        assert option_pairs(http.get(f"{PROPS}/tickets/ai_category")) == [
            ("billing", "Billing & invoices"), ("technical", "Technical"), ("account", "Account"),
            ("legacy", "Legacy"), ("feature_request", "Feature request"), ("general", "General"),
        ]
        assert [e["values"] for e in logs if e["event"] == "property_options_added"] == [
            ["feature_request", "general"]
        ]
        assert "added option tickets.ai_category: general" in report.lines()

    def test_reports_a_type_conflict_and_leaves_it_alone(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """A property of another type is reported, never changed; the rest is still set up."""
        seed_group_and_property(http, "tickets", name="qa_score", type="string",
                                fieldType="text")
        emu.reset_requests()

        with capture_logs() as logs:
            report = schema.ensure(http)

        assert not report.ok()
        assert len(report.conflicts) == 1
        assert report.conflicts[0].startswith("tickets.qa_score: type is string/text")
        assert "tickets.qa_score" not in report.created + report.existing
        assert sorted(report.created) == [k for k in ALL_KEYS if k != "tickets.qa_score"]
        assert not [w for w in writes(emu) if w.endswith("/qa_score")]
        assert http.get(f"{PROPS}/tickets/qa_score")["type"] == "string"
        conflict_logs = [e for e in logs if e["event"] == "property_conflict"]
        assert [(e["object_type"], e["name"]) for e in conflict_logs] == [("tickets", "qa_score")]
        assert report.lines()[-1].startswith("CONFLICT tickets.qa_score")

    def test_check_only_reports_a_type_conflict(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """A check finds the conflict too, still without writing."""
        seed_group_and_property(http, "contacts", name="sentiment_score", type="number",
                                fieldType="number")
        emu.reset_requests()

        report = schema.ensure(http, check_only=True)

        assert writes(emu) == []
        assert [c.split(":")[0] for c in report.conflicts] == ["contacts.sentiment_score"]

    def test_a_409_on_create_counts_as_existing(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """When the GET says 404 but the POST says 409, the property is re-read and kept."""
        schema.ensure(http)
        emu.inject("GET", r"/properties/tickets/ai_urgency$", status=404, body={
            "status": "error", "message": "Unable to find property ai_urgency",
            "correlationId": "00000000-0000-0000-0000-000000000409",
            "category": "OBJECT_NOT_FOUND",
        })
        emu.reset_requests()

        report = schema.ensure(http)

        assert report.ok()
        assert report.created == []
        assert sorted(report.existing) == ALL_KEYS
        urgency = [(r.method, r.status) for r in emu.requests
                   if r.path.endswith("/tickets/ai_urgency") or r.path == f"{PROPS}/tickets"]
        assert urgency == [("GET", 404), ("POST", 409), ("GET", 200)]

    def test_a_409_for_an_unreadable_property_is_a_conflict(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """A name HubSpot calls taken but cannot show (archived) is left to the operator."""
        schema.ensure(http)
        not_found = {"status": "error", "message": "Unable to find property qa_score",
                     "category": "OBJECT_NOT_FOUND"}
        emu.inject("GET", r"/properties/tickets/qa_score$", status=404, body=not_found, times=2)

        report = schema.ensure(http)

        assert [c.split(":")[0] for c in report.conflicts] == ["tickets.qa_score"]
        assert "archived" in report.conflicts[0]


class TestVerify:
    def test_lists_everything_on_a_bare_portal_with_one_get_per_type(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """A bare portal lacks all six, found with exactly two list GETs."""
        assert schema.verify(http) == ALL_KEYS
        assert [(r.method, r.path) for r in emu.requests] == [
            ("GET", f"{PROPS}/tickets"), ("GET", f"{PROPS}/contacts")
        ]

    def test_lists_nothing_on_a_full_portal(self, session: requests.Session) -> None:
        """A portal that already carries hubsync's properties lacks none."""
        with HubSpotEmulator() as full:
            assert schema.verify(client(full, session)) == []
            assert len(full.requests) == 2

    def test_checks_only_the_pairs_asked_for(
        self, emu: HubSpotEmulator, http: HubSpotHTTP
    ) -> None:
        """``needed`` narrows the check, sorted, and skips object types not asked about."""
        needed = [("tickets", "qa_score"), ("tickets", "subject"), ("tickets", "ai_category")]

        assert schema.verify(http, needed) == ["tickets.ai_category", "tickets.qa_score"]
        assert len(emu.requests) == 1

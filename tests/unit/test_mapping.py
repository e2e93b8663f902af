"""Pure mappings from Simpli answers to HubSpot values (table-driven)."""

from __future__ import annotations

import pytest

from hubsync import mapping

DEFAULT_MAP = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "critical": "URGENT"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("billing", "billing"), ("Technical", "technical"), (" account ", "account"),
    ("feature_request", "feature_request"), ("shipping", "general"), ("", "general"),
])
def test_category_unknown_becomes_general(raw: str, expected: str) -> None:
    assert mapping.category(raw) == expected


@pytest.mark.parametrize(("confidence", "expected"), [
    (0.0, "0"), (0.87, "87"), (0.875, "88"), (1.0, "100"), (0.004, "0")])
def test_confidence_percent(confidence: float, expected: str) -> None:
    assert mapping.confidence_percent(confidence) == expected


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 87.0])
def test_confidence_out_of_range_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError):
        mapping.confidence_percent(confidence)


@pytest.mark.parametrize(("urgency", "options", "expected"), [
    ("low", {"LOW", "MEDIUM", "HIGH", "URGENT"}, "LOW"),
    ("critical", {"LOW", "MEDIUM", "HIGH", "URGENT"}, "URGENT"),
    ("critical", {"LOW", "MEDIUM", "HIGH"}, "HIGH"),        # older portal without URGENT
    ("high", {"LOW", "MEDIUM"}, "MEDIUM"),                 # edited options: best available
    ("medium", set(), "MEDIUM"),                           # options unknown: trust the map
    ("unheard-of", {"LOW", "MEDIUM", "HIGH"}, "MEDIUM"),
])
def test_priority(urgency: str, options: set[str], expected: str) -> None:
    assert mapping.priority(urgency, DEFAULT_MAP, options) == expected


@pytest.mark.parametrize(("agent", "expected"), [
    ("A-012", "101"),      # mapped and active
    ("A-099", None),       # not in the map
    ("A-005", None),       # mapped to an archived owner
    (None, None), ("", None),
])
def test_owner_for(agent: str | None, expected: str | None) -> None:
    owners = {"A-012": "101", "A-005": "105"}
    assert mapping.owner_for(agent, owners, {"101", "102"}) == expected


def test_content_hash_separates_subject_from_content() -> None:
    assert mapping.content_hash("ab", "c") != mapping.content_hash("a", "bc")
    assert mapping.content_hash("a", "b") == mapping.content_hash("a", "b")


def test_op_key_is_deterministic_and_distinct() -> None:
    a = mapping.op_key("main", "1", "ticket:1:created", "reply_note")
    assert a == mapping.op_key("main", "1", "ticket:1:created", "reply_note")
    assert a != mapping.op_key("main", "1", "ticket:1:created", "triage")
    assert a != mapping.op_key("other", "1", "ticket:1:created", "reply_note")
    assert len(a) == 32


@pytest.mark.parametrize(("channel_id", "source_type", "expected"), [
    ("1000", None, "chat"), ("1001", None, "social"), ("1002", None, "email"),
    ("1007", None, None), (None, "FORM", "web"), (None, "PHONE", "phone"),
    (None, "email", "email"), (None, "SMS", None), (None, None, None),
])
def test_channel_mapping(channel_id: str | None, source_type: str | None,
                         expected: str | None) -> None:
    from hubsync.simpli.services import channel_for
    assert channel_for(channel_id, source_type) == expected

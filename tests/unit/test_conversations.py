"""Which conversation messages are a customer's own words, and their roles (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.hubspot.conversations import Message, Thread
from hubsync.hubspot.records import BadRecord


def message(**fields: Any) -> Message:
    raw = {"id": "m1", "type": "MESSAGE", "createdAt": "2026-03-01T12:00:00.000Z",
           "direction": "INCOMING", "senders": [{"actorId": "V-42"}], "text": "hi",
           "truncationStatus": "NOT_TRUNCATED", **fields}
    return Message.from_api(raw, "t1")


@pytest.mark.parametrize(("fields", "customer", "role"), [
    ({}, True, "customer"),                                              # visitor/contact
    ({"senders": [{"actorId": "E-ann@example.com"}]}, True, "customer"), # old email actor
    ({"senders": [{"actorId": "I-123"}]}, False, "system"),              # an integration
    ({"senders": [{"actorId": "S-hubspot"}]}, False, "system"),          # HubSpot itself
    ({"direction": "OUTGOING", "senders": [{"actorId": "A-9101"}]}, False, "agent"),
    ({"direction": "OUTGOING", "senders": [{"actorId": "L-7"}]}, False, "agent"),  # AI agent
    ({"type": "COMMENT", "direction": None, "senders": [{"actorId": "A-1"}]}, False, None),
    ({"type": "WELCOME_MESSAGE", "direction": None, "senders": [{"actorId": "B-1"}]},
     False, None),
    ({"type": "ASSIGNMENT", "direction": None, "senders": []}, False, None),
    ({"type": "THREAD_STATUS_CHANGE", "direction": None}, False, None),
    ({"type": "THREAD_INBOX_CHANGE", "direction": None}, False, None),
])
def test_customer_words_and_roles(fields: dict[str, Any], customer: bool,
                                  role: str | None) -> None:
    m = message(**fields)
    assert m.from_customer is customer
    assert m.role == role


def test_truncated_flag() -> None:
    assert message(truncationStatus="TRUNCATED").truncated
    assert not message().truncated


def test_thread_reads_ticket_association_and_visitor_contact() -> None:
    thread = Thread.from_api({"id": "7", "latestMessageTimestamp": "2026-03-01T12:00:00Z",
                              "associatedContactId": "880003", "originalChannelId": "1000",
                              "threadAssociations": {"associatedTicketId": "10000001"}})
    assert (thread.ticket_id, thread.contact_id, thread.channel_id) == \
        ("10000001", "880003", "1000")


@pytest.mark.parametrize("raw", [{}, {"id": "7"}, {"id": "7", "latestMessageTimestamp": "x"}])
def test_bad_thread_is_refused_with_a_reason(raw: dict[str, Any]) -> None:
    with pytest.raises(BadRecord):
        Thread.from_api(raw)

"""Sentiment: a customer's message → the contact's health, and the ticket's priority.

The contact's ``sentiment_score`` (label) and ``escalation_risk`` (0–100) are written only
when the thread's ``associatedContactId`` is a real CRM contact — HubSpot gives a visitor id
until the visitor becomes a contact. When the risk reaches the threshold, the ticket goes to
HIGH (never down: an URGENT ticket stays URGENT).
"""

from __future__ import annotations

import structlog
from pydantic import BaseModel

from hubsync import errors, mapping
from hubsync.handlers.context import HandlerContext
from hubsync.ledger.records import Event, NewOp
from hubsync.simpli.records import SentimentResult
from hubsync.simpli.services import CUSTOMER_ID, MESSAGE_MAX, channel_for

log = structlog.get_logger(__name__)


class ContactCheck(BaseModel):
    exists: bool


def _customer_id(payload: dict[str, object]) -> str:
    contact = payload.get("contact_id") or str(payload.get("sender") or "").removeprefix("V-")
    customer = str(contact or "")
    if not CUSTOMER_ID.match(customer):
        raise errors.Permanent("message has no usable customer id")
    return customer


def handle(ctx: HandlerContext, event: Event) -> list[NewOp]:
    p = event.payload
    text = str(p.get("text") or "").strip()
    if not text:
        raise errors.Permanent("message has no text")
    if len(text) > MESSAGE_MAX:
        log.info("text_truncated", message_id=event.object_id, length=len(text),
                 limit=MESSAGE_MAX)
    channel = channel_for(str(p["channel_id"]) if p.get("channel_id") else None)
    if channel is None:
        log.info("channel_unknown", message_id=event.object_id, channel_id=p.get("channel_id"))
    customer = _customer_id(p)
    result = ctx.memoized(event, "sentiment", SentimentResult,
                          lambda: ctx.simpli.sentiment.analyze(customer, text, channel))
    ops: list[NewOp] = []
    contact = str(p.get("contact_id") or "")
    check = ctx.memoized(event, "contact_check", ContactCheck,
                         lambda: ContactCheck(exists=ctx.contact_exists(contact)))
    if check.exists:
        ops.append(NewOp(
            op_key=mapping.op_key(event.portal, contact, event.dedupe_key, "sentiment"),
            kind="contact_update", target_id=contact,
            payload={"object_type": "contacts", "properties": {
                "sentiment_score": result.label,
                "escalation_risk": str(round(result.escalation_risk * 100))}}))
    else:
        log.info("contact_not_found", message_id=event.object_id, contact_id=contact,
                 reason="a visitor id, not a CRM contact")
    ticket_id = p.get("ticket_id")
    if ticket_id and result.escalation_risk >= ctx.escalation_threshold:
        ops.extend(_raise_priority(ctx, event, str(ticket_id)))
    return ops


def _raise_priority(ctx: HandlerContext, event: Event, ticket_id: str) -> list[NewOp]:
    """Ask for HIGH; the write-back checks the ticket's priority at write time."""
    options = ctx.directory.priority_options()
    if options and "HIGH" not in options:
        return []
    return [NewOp(
        op_key=mapping.op_key(event.portal, ticket_id, event.dedupe_key, "escalate"),
        kind="ticket_update", target_id=ticket_id,
        payload={"object_type": "tickets", "properties": {"hs_ticket_priority": "HIGH"},
                 "raise_priority": "HIGH", "reason": "escalation"})]

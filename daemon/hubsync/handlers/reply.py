"""Reply: draft an answer with Simpli Reply and post it to the ticket as a note."""

from __future__ import annotations

from hubsync import mapping
from hubsync.handlers import triage
from hubsync.handlers.context import HandlerContext
from hubsync.hubspot.api import NOTE_TO_TICKET
from hubsync.ledger.records import Event, NewOp
from hubsync.simpli.records import Draft
from hubsync.simpli.services import Message
from hubsync.writeback import notes


def conversation(event: Event) -> list[Message]:
    """The customer's words: the ticket's subject and description."""
    p = event.payload
    text = "\n\n".join(part for part in (p.get("subject", ""), p.get("content", "")) if part)
    return [Message("customer", text or "(empty ticket)")]


def handle(ctx: HandlerContext, event: Event) -> list[NewOp]:
    ticket_id = event.object_id
    c = triage.classify(ctx, event)
    draft = ctx.memoized(event, "draft", Draft,
                         lambda: ctx.reply.draft(ticket_id, conversation(event)))
    key = mapping.op_key(event.portal, ticket_id, event.dedupe_key, "reply_note")
    body = notes.draft_note(draft.draft, draft.confidence, key,
                            category=mapping.category(c.category), urgency=c.urgency)
    return [NewOp(op_key=key, kind="note_create", target_id=ticket_id, payload={
        "properties": {"hs_timestamp": event.payload["event_time"], "hs_note_body": body},
        "associations": [{"to": {"id": ticket_id}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_TICKET}]}],
    })]

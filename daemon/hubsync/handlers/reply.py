"""Reply: draft an answer with Simpli Reply and post it to the ticket as a note."""

from __future__ import annotations

from collections.abc import Callable

from hubsync import mapping
from hubsync.handlers import conversation
from hubsync.handlers.context import HandlerContext
from hubsync.hubspot.api import NOTE_TO_TICKET
from hubsync.ledger.records import Event, NewOp
from hubsync.simpli.records import Classification, Draft
from hubsync.writeback import notes


def note_op(event: Event, ticket_id: str, kind: str,
            body_for_key: Callable[[str], str]) -> NewOp:
    """A note intent on the ticket; ``body_for_key(op_key)`` renders the marked body."""
    key = mapping.op_key(event.portal, ticket_id, event.dedupe_key, kind)
    body = body_for_key(key)
    return NewOp(op_key=key, kind="note_create", target_id=ticket_id, payload={
        "properties": {"hs_timestamp": event.payload["event_time"], "hs_note_body": body},
        "associations": [{"to": {"id": ticket_id}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_TICKET}]}],
    })


def handle(ctx: HandlerContext, event: Event) -> list[NewOp]:
    ticket_id = event.object_id
    build = conversation.for_new_ticket if event.kind == "ticket.created" \
        else conversation.for_ticket

    def ask() -> Draft:
        turns = build(ctx, ticket_id, event.payload).turns
        return ctx.simpli.reply.draft(ticket_id, turns)

    draft = ctx.memoized(event, "draft", Draft, ask)
    c = ctx.ledger.memo(event.portal, event.dedupe_key, "classify")
    classification = Classification.model_validate(c) if c else None
    details = [f"Category: {mapping.category(classification.category)}",
               f"Urgency: {classification.urgency}"] if classification else []
    if event.payload.get("to_stage_label"):
        details.append(f"Stage: {event.payload['to_stage_label']}")
    return [note_op(event, ticket_id, "reply_note", lambda key: notes.draft_note(
        draft.draft, draft.confidence, key, details=details))]

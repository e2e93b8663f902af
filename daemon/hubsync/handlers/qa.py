"""QA on close: score the ticket's conversation, write ``qa_score`` and a QA note."""

from __future__ import annotations

from hubsync import mapping
from hubsync.handlers import conversation
from hubsync.handlers.context import HandlerContext
from hubsync.handlers.reply import note_op
from hubsync.ledger.records import Event, NewOp
from hubsync.simpli.records import QAResult
from hubsync.writeback import notes


def handle(ctx: HandlerContext, event: Event) -> list[NewOp]:
    ticket_id = event.object_id

    def ask() -> QAResult:
        conv = conversation.for_ticket(ctx, ticket_id, event.payload)
        return ctx.simpli.qa.evaluate(conv.thread_id or ticket_id, conv.agent_id, conv.turns)

    result = ctx.memoized(event, "qa", QAResult, ask)
    score = mapping.confidence_percent(result.overall_score)
    return [
        NewOp(op_key=mapping.op_key(event.portal, ticket_id, event.dedupe_key, "qa_score"),
              kind="ticket_update", target_id=ticket_id,
              payload={"object_type": "tickets", "properties": {"qa_score": score}}),
        note_op(event, ticket_id, "qa_note", lambda key: notes.qa_note(
            result.overall_score, result.dimensions, result.coaching_notes, key)),
    ]

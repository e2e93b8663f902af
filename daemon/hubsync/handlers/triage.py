"""Triage: classify and route a new ticket, then set its AI properties, priority and owner."""

from __future__ import annotations

import structlog

from hubsync import mapping
from hubsync.handlers.context import HandlerContext
from hubsync.ledger.records import Event, NewOp
from hubsync.simpli.records import Classification, Route

log = structlog.get_logger(__name__)


def classify(ctx: HandlerContext, event: Event) -> Classification:
    p = event.payload
    return ctx.memoized(event, "classify", Classification,
                        lambda: ctx.simpli.triage.classify(p["subject"], p["content"]))


def handle(ctx: HandlerContext, event: Event) -> list[NewOp]:
    p = event.payload
    ticket_id = event.object_id
    c = classify(ctx, event)
    category = mapping.category(c.category)
    if category != c.category:
        log.warning("category_unknown", ticket_id=ticket_id, category=c.category[:64])
    route = ctx.memoized(event, "route", Route,
                         lambda: ctx.simpli.triage.route(ticket_id, category, c))
    properties = {
        "ai_category": category,
        "ai_urgency": c.urgency,
        "ai_confidence": mapping.confidence_percent(c.confidence),
        "hs_ticket_priority": mapping.priority(c.urgency, ctx.portal.priority_map,
                                               ctx.directory.priority_options()),
    }
    owner = mapping.owner_for(route.agent, ctx.portal.owners, ctx.directory.active_owner_ids())
    if p.get("owner_id"):
        log.info("owner_kept", ticket_id=ticket_id, agent=route.agent)
    elif owner is None:
        log.info("owner_unmapped", ticket_id=ticket_id, agent=route.agent)
    else:
        properties["hubspot_owner_id"] = owner
    return [NewOp(
        op_key=mapping.op_key(event.portal, ticket_id, event.dedupe_key, "triage"),
        kind="ticket_update", target_id=ticket_id,
        payload={"object_type": "tickets", "properties": properties},
    )]

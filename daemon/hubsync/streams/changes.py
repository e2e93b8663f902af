"""Classify a polled ticket against its ledger snapshot. Pure: no I/O.

An echo of hubsync's own write, or a HubSpot-internal property change, bumps
``hs_lastmodifieddate`` but changes neither the stage nor the subject/description, so it
classifies as nothing: that is what prevents feedback loops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hubsync import mapping
from hubsync.clock import iso_ms
from hubsync.hubspot.records import Stage, Ticket
from hubsync.ledger.records import NewEvent, Snapshot


@dataclass(frozen=True)
class Change:
    """What a polled ticket means: a new snapshot to store (None for a stale re-read) and the
    events to record."""

    snapshot: Snapshot | None
    events: tuple[NewEvent, ...] = ()


StageLookup = Callable[[str | None], Stage | None]


def snapshot_of(portal: str, ticket: Ticket) -> Snapshot:
    return Snapshot(portal, ticket.id, ticket.pipeline, ticket.stage,
                    mapping.content_hash(ticket.subject, ticket.content), ticket.owner_id,
                    ticket.modified_at)


def ticket_payload(ticket: Ticket) -> dict[str, str | None]:
    return {
        "subject": ticket.subject, "content": ticket.content, "pipeline": ticket.pipeline,
        "stage": ticket.stage, "owner_id": ticket.owner_id, "priority": ticket.priority,
        "source_type": ticket.source_type, "created_at": iso_ms(ticket.created_at),
        "event_time": iso_ms(ticket.modified_at), "thread_id": ticket.thread_id,
    }


def _closed(stage_of: StageLookup, stage_id: str | None) -> bool:
    stage = stage_of(stage_id)
    return stage is not None and stage.closed


def _stage_event(ticket: Ticket, previous: Snapshot, stage_of: StageLookup) -> NewEvent:
    was_closed, is_closed = _closed(stage_of, previous.stage), _closed(stage_of, ticket.stage)
    if is_closed and not was_closed:
        kind = "ticket.closed"
    elif was_closed and not is_closed:
        kind = "ticket.reopened"
    else:
        kind = "ticket.stage_changed"
    entered = stage_of(ticket.stage)
    payload = {**ticket_payload(ticket), "from_stage": previous.stage,
               "to_stage": ticket.stage, "to_stage_label": entered.label if entered else None}
    key = f"ticket:{ticket.id}:{kind.removeprefix('ticket.')}:{ticket.stage}:" \
          f"{int(ticket.modified_at.timestamp() * 1000)}"
    return NewEvent(key, kind, ticket.id, payload)


def classify(portal: str, ticket: Ticket, previous: Snapshot | None, origin: datetime,
             stage_of: StageLookup) -> Change:
    """Compare ``ticket`` with what the ledger last saw of it.

    - never seen, created at or after the stream's origin → ``ticket.created``;
    - never seen, created before the origin → baseline only (a fresh install does not
      triage the whole back catalogue);
    - seen, and this read is not newer → nothing (an overlap re-read);
    - seen and newer: a new stage → ``ticket.closed`` (the new stage's ``ticketState`` is
      CLOSED and the old one's was not), ``ticket.reopened`` (the reverse), else
      ``ticket.stage_changed``; a new subject/description → ``ticket.content_edited``;
      neither → nothing (our own write's echo, or HubSpot-internal churn). Stages skipped
      between two polls are never seen: the event names the stage the ticket is in now.
    """
    current = snapshot_of(portal, ticket)
    if previous is None:
        if ticket.created_at >= origin:
            return Change(current, (NewEvent(f"ticket:{ticket.id}:created", "ticket.created",
                                             ticket.id, ticket_payload(ticket)),))
        return Change(current)
    if ticket.modified_at <= previous.last_modified:
        return Change(None)
    events: list[NewEvent] = []
    if ticket.stage != previous.stage:
        events.append(_stage_event(ticket, previous, stage_of))
    if current.content_hash != previous.content_hash:
        events.append(NewEvent(f"ticket:{ticket.id}:content_edited:{current.content_hash[:16]}",
                               "ticket.content_edited", ticket.id, ticket_payload(ticket)))
    return Change(current, tuple(events))

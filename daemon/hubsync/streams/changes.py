"""Classify a polled ticket against its ledger snapshot. Pure: no I/O.

An echo of hubsync's own write, or a HubSpot-internal property change, bumps
``hs_lastmodifieddate`` but changes neither the stage nor the subject/description, so it
classifies as nothing: that is what prevents feedback loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hubsync import mapping
from hubsync.clock import iso_ms
from hubsync.hubspot.records import Ticket
from hubsync.ledger.records import NewEvent, Snapshot


@dataclass(frozen=True)
class Change:
    """What a polled ticket means: a new snapshot to store, maybe an event to record."""

    snapshot: Snapshot | None          # None: a stale re-read, nothing to store
    event: NewEvent | None


def snapshot_of(portal: str, ticket: Ticket) -> Snapshot:
    return Snapshot(portal, ticket.id, ticket.pipeline, ticket.stage,
                    mapping.content_hash(ticket.subject, ticket.content), ticket.owner_id,
                    ticket.modified_at)


def ticket_payload(ticket: Ticket) -> dict[str, str | None]:
    return {
        "subject": ticket.subject, "content": ticket.content, "pipeline": ticket.pipeline,
        "stage": ticket.stage, "owner_id": ticket.owner_id, "priority": ticket.priority,
        "source_type": ticket.source_type, "created_at": iso_ms(ticket.created_at),
        "event_time": iso_ms(ticket.modified_at),
    }


def classify(portal: str, ticket: Ticket, previous: Snapshot | None,
             origin: datetime) -> Change:
    """Compare ``ticket`` with what the ledger last saw of it.

    - never seen, created at or after the stream's origin → ``ticket.created``;
    - never seen, created before the origin → baseline only (a fresh install does not
      triage the whole back catalogue);
    - seen, and this read is not newer → nothing (an overlap re-read);
    - seen and newer → the snapshot moves on; no event (stage and content changes are
      classified by the stage rules, which read the same snapshot).
    """
    current = snapshot_of(portal, ticket)
    if previous is None:
        if ticket.created_at >= origin:
            return Change(current, NewEvent(f"ticket:{ticket.id}:created", "ticket.created",
                                            ticket.id, ticket_payload(ticket)))
        return Change(current, None)
    if ticket.modified_at <= previous.last_modified:
        return Change(None, None)
    return Change(current, None)

"""Typed rows of the ledger, built in one place (``from_row``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; the ledger stores UTC only."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class EventStatus:
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"      # permanently: bad input or a bad AI answer; reason recorded
    DEAD = "dead"          # transient failures exhausted the attempts


class OpState:
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    UNKNOWN = "unknown"    # sent, outcome not known: reconcile before any retry
    DONE = "done"
    SKIPPED = "skipped"    # found unneeded at write time (a priority raise already met)
    DEAD = "dead"
    SETTLED = (DONE, SKIPPED, DEAD)


@dataclass(frozen=True)
class Snapshot:
    portal: str
    ticket_id: str
    pipeline: str | None
    stage: str | None
    content_hash: str
    owner_id: str | None
    last_modified: datetime

    @classmethod
    def from_row(cls, row: Any) -> Snapshot:
        return cls(row.portal, row.ticket_id, row.pipeline, row.stage, row.content_hash,
                   row.owner_id, aware(row.last_modified))


@dataclass(frozen=True)
class NewEvent:
    """An event a stream wants recorded; its dedupe key makes recording idempotent."""

    dedupe_key: str
    kind: str
    object_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Event:
    id: int
    portal: str
    dedupe_key: str
    kind: str
    object_id: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls(row.id, row.portal, row.dedupe_key, row.kind, row.object_id,
                   json.loads(row.payload), row.status, row.attempts, row.last_error)


@dataclass(frozen=True)
class NewOp:
    """A HubSpot write to make; ``op_key`` is deterministic so a replay finds the same row."""

    op_key: str
    kind: str
    target_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Op:
    op_key: str
    portal: str
    kind: str
    target_id: str
    payload: dict[str, Any]
    state: str
    attempts: int
    remote_id: str | None
    last_error: str | None
    last_attempt_at: datetime | None
    event_id: int | None

    @classmethod
    def from_row(cls, row: Any) -> Op:
        return cls(row.op_key, row.portal, row.kind, row.target_id, json.loads(row.payload),
                   row.state, row.attempts, row.remote_id, row.last_error,
                   aware(row.last_attempt_at) if row.last_attempt_at else None, row.event_id)

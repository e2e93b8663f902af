"""The ledger: cursors, snapshots, the events inbox, the AI memo and the write outbox.

Every method is one short transaction; none spans an HTTP call. Idempotence comes from the
unique keys: recording an event or an intent twice is a no-op, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hubsync import errors
from hubsync.clock import Clock
from hubsync.ledger import db, migrate
from hubsync.ledger import tables as t
from hubsync.ledger.records import (
    Event,
    EventStatus,
    NewEvent,
    NewOp,
    Op,
    OpState,
    Snapshot,
)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Ledger:
    """hubsync's durable state, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(cls, url: str, clock: Clock) -> Ledger:
        """Open a migrated ledger; refuses one whose schema is behind the code."""
        engine = db.create_engine(url)
        try:
            current = migrate.is_current(engine, url)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise errors.HubsyncError(f"ledger unreachable: {type(exc).__name__}") from None
        if not current:
            engine.dispose()
            raise errors.HubsyncError("ledger schema is not at the newest migration; "
                                      "run `hubsync migrate`")
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    # --- helpers ---------------------------------------------------------------------------

    def _insert_ignore(self, table: sa.Table, index: Sequence[str]) -> Any:
        """INSERT … ON CONFLICT DO NOTHING for either dialect."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index))
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index))

    def _upsert(self, table: sa.Table, index: Sequence[str], row: dict[str, Any]) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).values(**row)
        updates = {k: stmt.excluded[k] for k in row if k not in index}
        return stmt.on_conflict_do_update(index_elements=list(index), set_=updates)

    # --- cursors ---------------------------------------------------------------------------

    def cursor(self, portal: str, stream: str, lane: str) -> str | None:
        with self.engine.begin() as conn:
            return conn.execute(
                sa.select(t.cursors.c.position).where(
                    t.cursors.c.portal == portal, t.cursors.c.stream == stream,
                    t.cursors.c.lane == lane)).scalar_one_or_none()

    def cursors(self, portal: str, stream: str, lanes: Sequence[str]) -> dict[str, str]:
        """Positions of many lanes of one stream (e.g. one per conversation thread)."""
        if not lanes:
            return {}
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t.cursors.c.lane, t.cursors.c.position).where(
                t.cursors.c.portal == portal, t.cursors.c.stream == stream,
                t.cursors.c.lane.in_(list(lanes)))).all()
        return {lane: position for lane, position in rows}

    def _set_cursor(self, conn: sa.Connection, portal: str, stream: str, lane: str,
                    position: str) -> None:
        conn.execute(self._upsert(t.cursors, ("portal", "stream", "lane"), {
            "portal": portal, "stream": stream, "lane": lane, "position": position,
            "updated_at": self.clock.now()}))

    def set_cursor(self, portal: str, stream: str, lane: str, position: str) -> None:
        with self.engine.begin() as conn:
            self._set_cursor(conn, portal, stream, lane, position)

    # --- snapshots and recording a page of a stream ----------------------------------------

    def snapshots(self, portal: str, ticket_ids: Iterable[str]) -> dict[str, Snapshot]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t.ticket_snapshots).where(
                t.ticket_snapshots.c.portal == portal,
                t.ticket_snapshots.c.ticket_id.in_(ids))).all()
        return {row.ticket_id: Snapshot.from_row(row) for row in rows}

    def record_page(self, portal: str, snapshots: Sequence[Snapshot], events: Sequence[NewEvent],
                    cursor: tuple[str, str, str] | None,
                    more_cursors: Sequence[tuple[str, str, str]] = ()) -> int:
        """Store snapshots and events and move the cursor, all in one transaction.

        The cursor moves only together with every event at or below it, so a crash can
        never leave the cursor ahead of what the ledger holds. Returns new events recorded.
        """
        now = self.clock.now()
        inserted = 0
        with self.engine.begin() as conn:
            for snap in snapshots:
                conn.execute(self._snapshot_upsert(portal, snap, now))
            for event in events:
                result = conn.execute(self._insert_ignore(t.events, ("portal", "dedupe_key")).values(
                    portal=portal, dedupe_key=event.dedupe_key, kind=event.kind,
                    object_id=event.object_id, payload=_dump(event.payload),
                    status=EventStatus.PENDING, attempts=0, next_attempt_at=now,
                    created_at=now, updated_at=now).returning(t.events.c.id))
                inserted += len(result.all())
            for position in ([cursor] if cursor is not None else []) + list(more_cursors):
                self._set_cursor(conn, portal, *position)
        return inserted

    def _snapshot_upsert(self, portal: str, snap: Snapshot, now: datetime) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.ticket_snapshots).values(
            portal=portal, ticket_id=snap.ticket_id, pipeline=snap.pipeline, stage=snap.stage,
            content_hash=snap.content_hash, owner_id=snap.owner_id,
            last_modified=snap.last_modified, first_seen_at=now, updated_at=now)
        keep_first_seen = {c: stmt.excluded[c] for c in (
            "pipeline", "stage", "content_hash", "owner_id", "last_modified", "updated_at")}
        return stmt.on_conflict_do_update(index_elements=["portal", "ticket_id"],
                                          set_=keep_first_seen)

    # --- events inbox ----------------------------------------------------------------------

    def release_claims(self, portal: str) -> int:
        """Put events a dead process had claimed back in the queue (single instance only)."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.update(t.events).where(
                t.events.c.portal == portal, t.events.c.status == EventStatus.PROCESSING,
            ).values(status=EventStatus.PENDING, updated_at=self.clock.now()))
        return result.rowcount or 0

    def claim_events(self, portal: str, limit: int) -> list[Event]:
        """Take up to ``limit`` due events, oldest first, marking them processing."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            ids = conn.execute(
                sa.select(t.events.c.id).where(
                    t.events.c.portal == portal, t.events.c.status == EventStatus.PENDING,
                    t.events.c.next_attempt_at <= now,
                ).order_by(t.events.c.id).limit(limit).with_for_update(skip_locked=True)
            ).scalars().all()
            if not ids:
                return []
            conn.execute(sa.update(t.events).where(t.events.c.id.in_(ids)).values(
                status=EventStatus.PROCESSING, updated_at=now))
            rows = conn.execute(sa.select(t.events).where(t.events.c.id.in_(ids))
                                .order_by(t.events.c.id)).all()
        return [Event.from_row(r) for r in rows]

    def finish_event(self, event: Event, ops: Sequence[NewOp]) -> None:
        """Record the event's write intents and mark it done, atomically."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            for op in ops:
                conn.execute(self._insert_ignore(t.outbox, ("op_key",)).values(
                    op_key=op.op_key, portal=event.portal, kind=op.kind,
                    target_id=op.target_id, payload=_dump(op.payload),
                    state=OpState.PENDING, attempts=0, event_id=event.id,
                    next_attempt_at=now, created_at=now, updated_at=now))
            conn.execute(sa.update(t.events).where(t.events.c.id == event.id).values(
                status=EventStatus.DONE, attempts=event.attempts + 1, last_error=None,
                updated_at=now))

    def fail_event(self, event: Event, reason: str, *, retry_in: timedelta | None) -> str:
        """Fail one event: retried after ``retry_in``, or for good when it is None.

        Returns the event's new status.
        """
        now = self.clock.now()
        status = EventStatus.FAILED if retry_in is None else EventStatus.PENDING
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.events).where(t.events.c.id == event.id).values(
                status=status, attempts=event.attempts + 1, last_error=reason[:2000],
                next_attempt_at=now + (retry_in or timedelta(0)), updated_at=now))
        return status

    def kill_event(self, event: Event, reason: str) -> None:
        """Give up on an event whose transient failures used up its attempts."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.events).where(t.events.c.id == event.id).values(
                status=EventStatus.DEAD, attempts=event.attempts + 1, last_error=reason[:2000],
                updated_at=self.clock.now()))

    def event_counts(self, portal: str | None = None) -> dict[str, int]:
        query = sa.select(t.events.c.status, sa.func.count()).group_by(t.events.c.status)
        if portal is not None:
            query = query.where(t.events.c.portal == portal)
        with self.engine.begin() as conn:
            return {status: n for status, n in conn.execute(query).all()}

    def events(self, portal: str, status: str | None = None) -> list[Event]:
        query = sa.select(t.events).where(t.events.c.portal == portal).order_by(t.events.c.id)
        if status is not None:
            query = query.where(t.events.c.status == status)
        with self.engine.begin() as conn:
            return [Event.from_row(r) for r in conn.execute(query).all()]

    def requeue(self, portal: str | None = None) -> tuple[int, int]:
        """Give failed and dead events, and dead writes, a fresh start (after a fix).

        Returns (events, writes) requeued. Memoized AI answers are kept, so a requeued event
        whose Simpli answer was fine is not paid for again; delete the memo to re-ask.
        """
        now = self.clock.now()
        with self.engine.begin() as conn:
            ev = sa.update(t.events).where(t.events.c.status.in_(
                [EventStatus.FAILED, EventStatus.DEAD])).values(
                status=EventStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
            op = sa.update(t.outbox).where(t.outbox.c.state == OpState.DEAD).values(
                state=OpState.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
            if portal is not None:
                ev = ev.where(t.events.c.portal == portal)
                op = op.where(t.outbox.c.portal == portal)
            return conn.execute(ev).rowcount or 0, conn.execute(op).rowcount or 0

    def problems(self, limit: int = 20) -> list[tuple[str, str, str, str, str]]:
        """Newest failed/dead events and dead writes: (portal, what, id, status, reason)."""
        with self.engine.begin() as conn:
            events = conn.execute(sa.select(
                t.events.c.portal, t.events.c.kind, t.events.c.object_id, t.events.c.status,
                t.events.c.last_error, t.events.c.updated_at).where(
                t.events.c.status.in_([EventStatus.FAILED, EventStatus.DEAD])).order_by(
                t.events.c.updated_at.desc()).limit(limit)).all()
            ops = conn.execute(sa.select(
                t.outbox.c.portal, t.outbox.c.kind, t.outbox.c.target_id, t.outbox.c.state,
                t.outbox.c.last_error, t.outbox.c.updated_at).where(
                t.outbox.c.state == OpState.DEAD).order_by(
                t.outbox.c.updated_at.desc()).limit(limit)).all()
        rows = sorted([*events, *ops], key=lambda r: r[5], reverse=True)[:limit]
        return [(r[0], r[1], r[2], r[3], r[4] or "") for r in rows]

    def all_cursors(self) -> list[tuple[str, str, str, str]]:
        """Stream cursors (per-thread lanes left out): (portal, stream, lane, position)."""
        with self.engine.begin() as conn:
            return [tuple(r) for r in conn.execute(sa.select(
                t.cursors.c.portal, t.cursors.c.stream, t.cursors.c.lane,
                t.cursors.c.position).where(t.cursors.c.stream != "thread").order_by(
                t.cursors.c.portal, t.cursors.c.stream)).all()]

    # --- AI memo ---------------------------------------------------------------------------

    def memo(self, portal: str, event_key: str, kind: str) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            raw = conn.execute(sa.select(t.ai_results.c.result).where(
                t.ai_results.c.portal == portal, t.ai_results.c.event_key == event_key,
                t.ai_results.c.kind == kind)).scalar_one_or_none()
        return json.loads(raw) if raw is not None else None

    def remember(self, portal: str, event_key: str, kind: str, result: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self._insert_ignore(t.ai_results, ("portal", "event_key", "kind"))
                         .values(portal=portal, event_key=event_key, kind=kind,
                                 result=_dump(result), created_at=self.clock.now()))

    # --- outbox ----------------------------------------------------------------------------

    def ops(self, portal: str, kind: str, states: Sequence[str], *, limit: int = 1000,
            due_only: bool = True) -> list[Op]:
        query = sa.select(t.outbox).where(
            t.outbox.c.portal == portal, t.outbox.c.kind == kind,
            t.outbox.c.state.in_(list(states))).order_by(t.outbox.c.created_at,
                                                          t.outbox.c.op_key).limit(limit)
        if due_only:
            query = query.where(t.outbox.c.next_attempt_at <= self.clock.now())
        with self.engine.begin() as conn:
            return [Op.from_row(r) for r in conn.execute(query).all()]

    def op(self, op_key: str) -> Op | None:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.outbox).where(t.outbox.c.op_key == op_key)).first()
        return Op.from_row(row) if row is not None else None

    def start_ops(self, op_keys: Sequence[str]) -> None:
        """Mark intents in flight, committed before the HubSpot call is made."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.outbox).where(t.outbox.c.op_key.in_(list(op_keys))).values(
                state=OpState.IN_FLIGHT, attempts=t.outbox.c.attempts + 1,
                last_attempt_at=now, updated_at=now))

    def settle_ops(self, op_keys: Sequence[str], state: str, *, error: str | None = None,
                   retry_in: timedelta | None = None,
                   remote_ids: dict[str, str] | None = None) -> None:
        """Record the outcome of a call for each op."""
        if not op_keys:
            return
        now = self.clock.now()
        with self.engine.begin() as conn:
            for key in op_keys:
                values: dict[str, Any] = {"state": state, "updated_at": now,
                                          "last_error": error[:2000] if error else None}
                if retry_in is not None:
                    values["next_attempt_at"] = now + retry_in
                if remote_ids and key in remote_ids:
                    values["remote_id"] = remote_ids[key]
                conn.execute(sa.update(t.outbox).where(t.outbox.c.op_key == key).values(**values))

    def stuck_in_flight(self, portal: str) -> int:
        """Intents a dead process left in flight become unknown: reconcile before retrying."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.update(t.outbox).where(
                t.outbox.c.portal == portal, t.outbox.c.state == OpState.IN_FLIGHT,
            ).values(state=OpState.UNKNOWN, updated_at=self.clock.now()))
        return result.rowcount or 0

    def op_counts(self, portal: str | None = None) -> dict[tuple[str, str], int]:
        query = sa.select(t.outbox.c.kind, t.outbox.c.state, sa.func.count()).group_by(
            t.outbox.c.kind, t.outbox.c.state)
        if portal is not None:
            query = query.where(t.outbox.c.portal == portal)
        with self.engine.begin() as conn:
            return {(kind, state): n for kind, state, n in conn.execute(query).all()}

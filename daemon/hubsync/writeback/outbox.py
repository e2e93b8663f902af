"""Drain the write outbox into HubSpot: batched, recorded, and reconciled.

Property updates (PATCH semantics) are idempotent: they are simply retried. Notes are not:
each intent is marked in flight *before* the call, and a call whose outcome is unknown
(timeout, reset, 5xx after sending) is never re-posted blind. The reconciler reads the
ticket's notes through the associations API and looks for the note's ``sync-ref`` marker:
found → done; absent → pending again, re-posted with the same op key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import structlog

from hubsync import errors, failpoints, mapping
from hubsync.clock import Clock
from hubsync.config import WritebackConfig
from hubsync.hubspot.api import BATCH_MAX, HubSpotAPI
from hubsync.ledger.records import Op, OpState
from hubsync.ledger.store import Ledger
from hubsync.writeback.notes import marker

log = structlog.get_logger(__name__)
RETRY_IN = timedelta(seconds=30)
READ_LIMIT = 1000      # intents read from the ledger at a time
MAX_PASSES = 10_000


def _batches(ops: Sequence[Op], size: int) -> list[list[Op]]:
    """Split into batches of at most ``size`` with at most one op per target object.

    HubSpot rejects a batch update that names the same id twice.
    """
    batches: list[list[Op]] = []
    pending = list(ops)
    while pending:
        batch: list[Op] = []
        targets: set[str] = set()
        rest: list[Op] = []
        for op in pending:
            if len(batch) < size and op.target_id not in targets:
                batch.append(op)
                targets.add(op.target_id)
            else:
                rest.append(op)
        batches.append(batch)
        pending = rest
    return batches


class Writeback:
    def __init__(self, portal: str, api: HubSpotAPI, ledger: Ledger, clock: Clock,
                 cfg: WritebackConfig) -> None:
        self.portal = portal
        self.api = api
        self.ledger = ledger
        self.clock = clock
        self.cfg = cfg

    def drain(self) -> Counter[str]:
        """One pass over the outbox. Returns counts such as ``updates_done``, ``notes_done``."""
        counts: Counter[str] = Counter()
        self.reconcile_notes(counts)
        for kind in ("ticket_update", "contact_update"):
            self.apply_updates(kind, counts)
        self.create_notes(counts)
        return counts

    # --- property updates ------------------------------------------------------------------

    def _due(self, kind: str, states: tuple[str, ...]) -> Iterator[list[Op]]:
        """Due intents, a bounded read at a time, until none is left.

        Each pass settles what it read (done, dead, or given back with a later retry time,
        which makes it not due), so the loop ends; ``MAX_PASSES`` guards against a bug.
        """
        for _ in range(MAX_PASSES):
            ops = self.ledger.ops(self.portal, kind, states, limit=READ_LIMIT)
            if not ops:
                return
            yield ops

    def apply_updates(self, kind: str, counts: Counter[str]) -> None:
        for ops in self._due(kind, (OpState.PENDING, OpState.UNKNOWN)):
            self._apply_update_batches(kind, ops, counts)

    def _apply_update_batches(self, kind: str, ops: list[Op], counts: Counter[str]) -> None:
        for batch in _batches(ops, self.cfg.batch_size):
            object_type = batch[0].payload["object_type"]
            batch = self._drop_needless_raises(batch, counts)
            if not batch:
                continue
            keys = [op.op_key for op in batch]
            self.ledger.start_ops(keys)
            try:
                self.api.batch_update(object_type, {
                    op.target_id: op.payload["properties"] for op in batch})
            except errors.HubSpotPermanent as exc:
                if isinstance(exc, errors.HubSpotAuthError):
                    self._give_back(batch, exc)
                    raise
                log.warning("batch_update_rejected", object_type=object_type, size=len(batch),
                            error=str(exc))
                self._update_one_by_one(object_type, batch, counts)
                continue
            except errors.Transient as exc:
                self._give_back(batch, exc)
                counts["updates_deferred"] += len(batch)
                continue
            self.ledger.settle_ops(keys, OpState.DONE)
            counts["updates_done"] += len(batch)
            log.info("writeback_applied", kind=kind, count=len(batch))

    def _drop_needless_raises(self, batch: list[Op], counts: Counter[str]) -> list[Op]:
        """A priority raise is decided at write time, on the ticket's priority right now.

        Sentiment may ask for HIGH while triage's URGENT for the same ticket is still in the
        outbox; reading the current value just before writing means a raise never lowers.
        """
        raises = [op for op in batch if op.payload.get("raise_priority")]
        if not raises:
            return batch
        try:
            current = self.api.ticket_priorities([op.target_id for op in raises])
        except errors.Transient as exc:
            self._give_back(raises, exc)
            counts["updates_deferred"] += len(raises)
            return [op for op in batch if not op.payload.get("raise_priority")]
        keep: list[Op] = []
        for op in batch:
            wanted = op.payload.get("raise_priority")
            if wanted and mapping.priority_rank(current.get(op.target_id)) >= \
                    mapping.priority_rank(wanted):
                self.ledger.settle_ops([op.op_key], OpState.SKIPPED,
                                       error="priority already at or above the raise")
                counts["raises_unneeded"] += 1
                continue
            if wanted:
                counts["priority_raised"] += 1
            keep.append(op)
        return keep

    def _update_one_by_one(self, object_type: str, batch: Sequence[Op],
                           counts: Counter[str]) -> None:
        for op in batch:
            try:
                self.api.update(object_type, op.target_id, op.payload["properties"])
            except errors.HubSpotAuthError:
                self._give_back([op], errors.HubSpotAuthError())
                raise
            except errors.Permanent as exc:
                self._dead(op, str(exc))
                counts["updates_dead"] += 1
                continue
            except errors.Transient as exc:
                self._give_back([op], exc)
                counts["updates_deferred"] += 1
                continue
            self.ledger.settle_ops([op.op_key], OpState.DONE)
            counts["updates_done"] += 1

    # --- notes -----------------------------------------------------------------------------

    def create_notes(self, counts: Counter[str]) -> None:
        size = min(self.cfg.batch_size, BATCH_MAX)
        for ops in self._due("note_create", (OpState.PENDING,)):
            for start in range(0, len(ops), size):
                self._post_notes(ops[start:start + size], counts)

    def _post_notes(self, batch: Sequence[Op], counts: Counter[str]) -> None:
        keys = [op.op_key for op in batch]
        self.ledger.start_ops(keys)          # committed before the call: the intent is durable
        failpoints.hit("after_intent_commit")
        inputs = [{**op.payload, "objectWriteTraceId": op.op_key} for op in batch]
        try:
            answer = self.api.create_notes(inputs)
        except errors.HubSpotOutcomeUnknown as exc:
            self.ledger.settle_ops(keys, OpState.UNKNOWN, error=str(exc))
            counts["notes_unknown"] += len(batch)
            log.warning("note_outcome_unknown", count=len(batch), error=str(exc))
            return
        except errors.Transient as exc:      # rate limited or unreachable: not executed
            self._give_back(batch, exc)
            counts["notes_deferred"] += len(batch)
            return
        except errors.HubSpotAuthError as exc:
            self._give_back(batch, exc)
            raise
        except errors.Permanent as exc:
            if len(batch) > 1:                # find the bad one(s): one note per call
                self.ledger.settle_ops(keys, OpState.PENDING)
                for op in batch:
                    self._post_notes([op], counts)
                return
            self._dead(batch[0], str(exc))
            counts["notes_dead"] += 1
            return
        failpoints.hit("after_post_before_record")
        self._record_created(batch, answer, counts)

    def _record_created(self, batch: Sequence[Op], answer: dict[str, Any],
                        counts: Counter[str]) -> None:
        by_marker: dict[str, str] = {}
        for result in answer.get("results") or []:
            body = str((result.get("properties") or {}).get("hs_note_body") or "")
            for op in batch:
                if marker(op.op_key) in body:
                    by_marker[op.op_key] = str(result.get("id"))
        failed: dict[str, str] = {}
        for err in answer.get("errors") or []:
            for trace in (err.get("context") or {}).get("objectWriteTraceId") or []:
                failed[str(trace)] = str(err.get("message") or "rejected")
        done = [op.op_key for op in batch if op.op_key in by_marker]
        self.ledger.settle_ops(done, OpState.DONE, remote_ids=by_marker)
        counts["notes_done"] += len(done)
        for op in batch:
            if op.op_key in by_marker:
                continue
            if op.op_key in failed:
                self._dead(op, failed[op.op_key])
                counts["notes_dead"] += 1
            else:   # HubSpot said nothing about it: find out before posting again
                self.ledger.settle_ops([op.op_key], OpState.UNKNOWN,
                                       error="missing from the batch answer")
                counts["notes_unknown"] += 1
        if done:
            log.info("writeback_applied", kind="note_create", count=len(done))

    def reconcile_notes(self, counts: Counter[str]) -> None:
        """Settle notes whose outcome is unknown by looking for their marker on the ticket."""
        settle_before = self.clock.now() - timedelta(seconds=self.cfg.reconcile_after_s)
        for op in self.ledger.ops(self.portal, "note_create", (OpState.UNKNOWN,),
                                  due_only=False):
            if op.last_attempt_at is not None and op.last_attempt_at > settle_before:
                continue
            try:
                found = self._find_marker(op)
            except errors.Transient as exc:
                log.info("reconcile_deferred", op_key=op.op_key, error=str(exc))
                continue
            if found is not None:
                self.ledger.settle_ops([op.op_key], OpState.DONE, remote_ids={op.op_key: found})
                counts["reconciled_found"] += 1
                log.info("note_reconciled", op_key=op.op_key, result="found", note_id=found)
            elif op.attempts >= self.cfg.max_attempts:
                self._dead(op, "note not found after the last attempt")
                counts["notes_dead"] += 1
            else:
                self.ledger.settle_ops([op.op_key], OpState.PENDING)
                counts["reconciled_missing"] += 1
                log.info("note_reconciled", op_key=op.op_key, result="missing")

    def _find_marker(self, op: Op) -> str | None:
        target_types = {228: "tickets", 202: "contacts"}
        assoc = (op.payload.get("associations") or [{}])[0]
        type_id = ((assoc.get("types") or [{}])[0]).get("associationTypeId", 228)
        note_ids = self.api.note_ids_for(target_types.get(type_id, "tickets"), op.target_id)
        wanted = marker(op.op_key)
        for note in self.api.read_notes(note_ids):
            if wanted in note.body:
                return note.id
        return None

    # --- outcomes --------------------------------------------------------------------------

    def _give_back(self, batch: Sequence[Op], exc: Exception) -> None:
        """Not executed (rate limited, unreachable, auth): pending again, later.

        A 429 says when: its Retry-After (the rate budget already waits that long before
        the lane's next call); otherwise ``RETRY_IN``.
        """
        retry_in = RETRY_IN
        wait = getattr(exc, "retry_after_s", None)
        if isinstance(exc, errors.HubSpotRateLimited) and wait is not None:
            retry_in = timedelta(seconds=min(RETRY_IN.total_seconds(), wait))
        self.ledger.settle_ops([op.op_key for op in batch], OpState.PENDING, error=str(exc),
                               retry_in=retry_in)

    def _dead(self, op: Op, reason: str) -> None:
        self.ledger.settle_ops([op.op_key], OpState.DEAD, error=reason)
        log.error("writeback_dead", op_key=op.op_key, kind=op.kind, target_id=op.target_id,
                  reason=reason)

"""Claim due events, run their handlers (Simpli calls in a bounded pool), record outcomes.

A transient failure (Simpli or HubSpot unavailable, rate limited) sends the event back with
exponential backoff until ``max_attempts``, then it is dead. A permanent one (a bad record,
a 4xx from Simpli, an AI answer hubsync will not write) fails that one event with the reason
recorded. Either way the loop goes on.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import structlog

from hubsync import errors
from hubsync.config import ProcessingConfig, RulesConfig
from hubsync.handlers import qa, reply, sentiment, triage
from hubsync.handlers.context import Handler, HandlerContext
from hubsync.ledger.records import Event, EventStatus, NewOp

log = structlog.get_logger(__name__)

HANDLERS: Mapping[str, Handler] = {"triage": triage.handle, "reply": reply.handle,
                                   "sentiment": sentiment.handle, "qa": qa.handle}
RULE_FOR_KIND = {"ticket.created": "created", "ticket.stage_changed": "stage_changed",
                 "ticket.closed": "closed", "ticket.reopened": "reopened",
                 "ticket.content_edited": "content_edited", "message.received": "message"}
STAGE_KINDS = {"ticket.stage_changed", "ticket.closed", "ticket.reopened"}


class InvalidRecord(errors.Permanent):
    """The stream could not read this record."""


def actions_for(rules: RulesConfig, event: Event) -> list[str]:
    """The event kind's actions, plus those of the stage a ticket entered (by id or label)."""
    actions = list(getattr(rules, RULE_FOR_KIND[event.kind]))
    if event.kind in STAGE_KINDS:
        entered = {str(event.payload.get("to_stage") or "").casefold(),
                   str(event.payload.get("to_stage_label") or "").casefold()} - {""}
        for stage, extra in rules.stages.items():
            if stage.casefold() in entered:
                actions.extend(extra)
    return list(dict.fromkeys(actions))


def run_handlers(ctx: HandlerContext, event: Event, rules: RulesConfig) -> list[NewOp]:
    if event.kind not in RULE_FOR_KIND:
        raise InvalidRecord(str(event.payload.get("reason", f"unknown event {event.kind}")))
    ops: list[NewOp] = []
    for name in actions_for(rules, event):
        ops.extend(HANDLERS[name](ctx, event))
    return ops


def backoff(cfg: ProcessingConfig, attempts: int) -> timedelta:
    return timedelta(seconds=min(cfg.retry_cap_s, cfg.retry_base_s * 2 ** max(attempts, 0)))


class Dispatcher:
    """Turns claimed events into outbox intents."""

    def __init__(self, cfg: ProcessingConfig, *, concurrency: int, rules: RulesConfig,
                 stop: threading.Event | None = None) -> None:
        self.cfg = cfg
        self.rules = rules
        self.concurrency = concurrency
        self.stop = stop or threading.Event()

    def run(self, ctx: HandlerContext,
            after_batch: Callable[[], None] | None = None) -> Counter[str]:
        """Handle every due event of the portal, batch by batch. Returns counts by outcome.

        ``after_batch`` runs after each batch (the write-back), so a large backlog shows
        its first results in HubSpot after one batch, not after the whole backlog.
        """
        counts: Counter[str] = Counter()
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="handler") as pool:
            while not self.stop.is_set():
                batch = ctx.ledger.claim_events(ctx.portal.id, self.cfg.batch_size)
                if not batch:
                    break
                futures = [(e, pool.submit(run_handlers, ctx, e, self.rules)) for e in batch]
                for event, future in futures:
                    counts[self._settle(ctx, event, future)] += 1
                if after_batch is not None:
                    after_batch()
        return counts

    def _settle(self, ctx: HandlerContext, event: Event, future: Future[list[NewOp]]) -> str:
        try:
            ops = future.result()
        except errors.Permanent as exc:
            ctx.ledger.fail_event(event, str(exc), retry_in=None)
            log.warning("event_failed", event_id=event.id, kind=event.kind,
                        object_id=event.object_id, reason=str(exc))
            return EventStatus.FAILED
        except errors.Transient as exc:
            if event.attempts + 1 >= self.cfg.max_attempts:
                ctx.ledger.kill_event(event, str(exc))
                log.error("event_dead", event_id=event.id, kind=event.kind,
                          object_id=event.object_id, reason=str(exc))
                return EventStatus.DEAD
            delay = backoff(self.cfg, event.attempts)
            ctx.ledger.fail_event(event, str(exc), retry_in=delay)
            log.info("event_retry_scheduled", event_id=event.id, kind=event.kind,
                     retry_in_s=delay.total_seconds(), reason=str(exc))
            return "retry"
        except Exception as exc:  # a bug in one handler must not stop the daemon
            reason = f"internal error: {type(exc).__name__}: {exc}"
            ctx.ledger.fail_event(event, reason, retry_in=None)
            log.exception("event_crashed", event_id=event.id, kind=event.kind)
            return EventStatus.FAILED
        ctx.ledger.finish_event(event, ops)
        log.debug("event_handled", event_id=event.id, kind=event.kind, ops=len(ops))
        return EventStatus.DONE

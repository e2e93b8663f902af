"""One full cycle, knowing nothing of the scheduler: poll, handle, write back, per portal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import structlog

from hubsync import errors
from hubsync.hubspot import schema
from hubsync.wiring import PortalRuntime, Runtime

log = structlog.get_logger(__name__)


@dataclass
class CycleReport:
    """What one cycle did, summed over portals; ``ok`` is False if any portal failed."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def _verify_properties(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    if not portal.properties_ok:
        missing = schema.verify(portal.http)
        if missing:
            raise errors.MissingProperties(missing)
        portal.properties_ok = True


def _poll_tickets(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    polled = portal.tickets.poll()
    counts["tickets_seen"] += polled.seen
    counts["events_recorded"] += polled.events
    counts["records_invalid"] += polled.bad
    counts["search_pages"] += polled.pages
    counts["search_windows_restarted"] += polled.windows - 1
    counts.update({f"recorded_{kind.replace('.', '_')}": n for kind, n in polled.kinds.items()})
    settled = portal.tickets.poll_settled()
    if settled is not None:
        counts["settled_pages"] += settled.pages
        counts["settled_events"] += settled.events
        counts["events_recorded"] += settled.events


def _poll_messages(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    if portal.messages is None:
        return
    polled = portal.messages.poll()
    counts["threads_seen"] += polled.threads
    counts["messages_seen"] += polled.messages
    counts["messages_not_from_customers"] += polled.skipped
    counts["threads_unchanged"] += polled.unchanged
    counts["events_recorded"] += polled.events


def _handle(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    """Handle due events; each batch's intents are written back before the next batch."""
    handled = rt.dispatcher.run(portal.handlers,
                                after_batch=lambda: counts.update(portal.writeback.drain()))
    counts.update({f"events_{k}": v for k, v in handled.items()})


def _write_back(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    counts.update(portal.writeback.drain())


# A failed step is logged and the cycle goes on with the next one: a broken conversations
# endpoint must not stop tickets from being triaged. Missing properties and a rejected
# token stop the portal's cycle before anything is written.
STEPS = (("verify", _verify_properties), ("tickets", _poll_tickets),
         ("messages", _poll_messages), ("handle", _handle), ("writeback", _write_back))
FATAL = (errors.HubSpotAuthError, errors.MissingProperties)


def run_portal(rt: Runtime, portal: PortalRuntime, report: CycleReport) -> None:
    pid = portal.config.id
    # Single instance (lock held): anything claimed or in flight belongs to a dead process.
    report.counts["claims_released"] += rt.ledger.release_claims(pid)
    report.counts["ops_unknown_after_crash"] += rt.ledger.stuck_in_flight(pid)
    for name, step in STEPS:
        if rt.stop.is_set():
            return
        try:
            step(rt, portal, report.counts)
        except FATAL as exc:
            report.failures[f"{pid}:{name}"] = str(exc)
            log.error("portal_auth_failed" if isinstance(exc, errors.HubSpotAuthError)
                      else "properties_missing", portal=pid, error=str(exc))
            return
        except errors.HubsyncError as exc:
            report.failures[f"{pid}:{name}"] = str(exc)
            log.error("cycle_step_failed", portal=pid, step=name, error=str(exc))


def run_once(rt: Runtime) -> CycleReport:
    """Poll, handle and write back every portal once. One portal's failure spares the rest."""
    report = CycleReport()
    started = rt.clock.monotonic()
    calls_before = sum(p.http.calls for p in rt.portals)
    for portal in rt.portals:
        structlog.contextvars.bind_contextvars(portal=portal.config.id)
        try:
            run_portal(rt, portal, report)
        finally:
            structlog.contextvars.unbind_contextvars("portal")
    report.counts["hubspot_requests"] = sum(p.http.calls for p in rt.portals) - calls_before
    log.info("cycle_finished", ok=report.ok, elapsed_s=round(rt.clock.monotonic() - started, 3),
             **{k: v for k, v in sorted(report.counts.items()) if v})
    return report

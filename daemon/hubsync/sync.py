"""One full cycle, knowing nothing of the scheduler: poll, handle, write back, per portal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import structlog

from hubsync import errors
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


def run_portal(rt: Runtime, portal: PortalRuntime, counts: Counter[str]) -> None:
    pid = portal.config.id
    structlog.contextvars.bind_contextvars(portal=pid)
    # Single instance (lock held): anything claimed or in flight belongs to a dead process.
    counts["claims_released"] += rt.ledger.release_claims(pid)
    counts["ops_unknown_after_crash"] += rt.ledger.stuck_in_flight(pid)
    polled = portal.tickets.poll()
    counts["tickets_seen"] += polled.seen
    counts["events_recorded"] += polled.events
    counts["records_invalid"] += polled.bad
    counts["search_pages"] += polled.pages
    if rt.stop.is_set():
        return
    counts.update({f"events_{k}": v for k, v in rt.dispatcher.run(portal.handlers).items()})
    counts.update(portal.writeback.drain())


def run_once(rt: Runtime) -> CycleReport:
    """Poll, handle and write back every portal once. One portal's failure spares the rest."""
    report = CycleReport()
    started = rt.clock.monotonic()
    calls_before = sum(p.http.calls for p in rt.portals)
    for portal in rt.portals:
        try:
            run_portal(rt, portal, report.counts)
        except errors.HubSpotAuthError as exc:
            report.failures[portal.config.id] = str(exc)
            log.error("portal_auth_failed", portal=portal.config.id, error=str(exc))
        except errors.HubsyncError as exc:
            report.failures[portal.config.id] = str(exc)
            log.error("portal_cycle_failed", portal=portal.config.id, error=str(exc))
        finally:
            structlog.contextvars.unbind_contextvars("portal")
    report.counts["hubspot_requests"] = sum(p.http.calls for p in rt.portals) - calls_before
    log.info("cycle_finished", ok=report.ok, elapsed_s=round(rt.clock.monotonic() - started, 3),
             **{k: v for k, v in sorted(report.counts.items()) if v})
    return report

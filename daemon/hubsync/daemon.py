"""The scheduler shell: APScheduler calls ``sync.run_once`` on an interval.

BlockingScheduler, memory job store (our state is in the ledger), one explicit job id,
``max_instances=1`` and ``coalesce=True`` so cycles never overlap or pile up. The first
SIGTERM/SIGINT lets the current cycle finish its current event and stops; a second exits
at once.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import sqlalchemy as sa
import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from hubsync import sync
from hubsync.ops import health as ops_health
from hubsync.ops import notify
from hubsync.wiring import Runtime

log = structlog.get_logger(__name__)
JOB_ID = "hubsync-cycle"
KB_JOB_ID = "hubsync-kb"


class Daemon:
    def __init__(self, rt: Runtime, notifier: notify.Notifier | None = None) -> None:
        self.rt = rt
        self.scheduler = BlockingScheduler(timezone="UTC")
        self._failures = 0
        self.notifier = notifier or notify.Notifier()
        self.health: ops_health.Health | None = None
        self._ready_sent = False

    def _cycle(self) -> None:
        started = self.rt.clock.monotonic()
        report = sync.run_once(self.rt)
        if self.health is not None:
            self.health.record_cycle(report.counts, report.failures,
                                     duration_s=self.rt.clock.monotonic() - started,
                                     now=self.rt.clock.now().timestamp())
        if report.ok and self._failures:
            log.info("sync_recovered", previous_errors=self._failures)
        self._failures = 0 if report.ok else self._failures + 1
        self.notifier.status(_status_line(report, self.rt.clock.now().strftime("%H:%M:%SZ")))
        self.notifier.watchdog()  # one ping per finished cycle: the loop made progress
        if not self._ready_sent:
            # The first cycle verified the token and the properties (or found them bad,
            # which /readyz reports): start-up is complete either way.
            self._ready_sent = True
            self.notifier.ready()

    def _ledger_ok(self) -> bool:
        with self.rt.ledger.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    def _serve_health(self, interval_s: float) -> None:
        mc = self.rt.config.metrics
        if not mc.enabled:
            return
        health = ops_health.Health(
            interval_s, now=lambda: self.rt.clock.now().timestamp(), ledger_ok=self._ledger_ok,
            outbox_items=self.rt.ledger.op_counts, ledger_events=self.rt.ledger.event_counts)
        try:
            health.serve(mc.host, mc.port, allow_remote=mc.allow_remote)
        except OSError as exc:  # e.g. the port is in use: metrics must not stop the sync
            log.error("health_serve_failed", host=mc.host, port=mc.port, error=str(exc))
            return
        self.health = health

    def _kb(self) -> None:
        from hubsync import kbjob
        kbjob.run(self.rt)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("cycle_missed", job_id=event.job_id)
        elif event.exception is not None:
            log.error("cycle_crashed", job_id=event.job_id,
                      error=f"{type(event.exception).__name__}: {event.exception}")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.rt.stop.is_set():
            log.warning("shutdown_forced", signal=signum)
            os._exit(1)
        log.info("shutdown_requested", signal=signum)
        self.rt.stop.set()
        self.notifier.stopping()
        self.notifier.status("stopping: finishing the current event")
        threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True},
                         daemon=True).start()

    def run(self) -> None:
        interval = self.rt.config.polling.tickets_interval_s
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self.scheduler.add_job(self._cycle, "interval", seconds=interval, id=JOB_ID,
                               max_instances=1, coalesce=True,
                               misfire_grace_time=max(1, int(interval)),
                               next_run_time=self.rt.clock.now())
        if self.rt.config.kb.enabled:
            self.scheduler.add_job(
                self._kb, CronTrigger.from_crontab(self.rt.config.kb.schedule, timezone="UTC"),
                id=KB_JOB_ID, max_instances=1, coalesce=True, misfire_grace_time=3600)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        ping_s = self.notifier.watchdog_interval_s()
        if ping_s is not None and ping_s < interval:
            log.warning("watchdog_too_short", watchdog_ping_s=ping_s, interval_s=interval)
        self._serve_health(interval)
        log.info("daemon_started", interval_s=interval,
                 portals=[p.config.id for p in self.rt.portals])
        self.notifier.status("starting: first cycle")
        try:
            self.scheduler.start()
        finally:
            if self.health is not None:
                self.health.close()
        log.info("daemon_stopped")


def _status_line(report: sync.CycleReport, at: str) -> str:
    """One line for ``systemctl status``: counts and failing steps, never error text."""
    writes = sum(report.counts[k] for k in ops_health.WRITE_KINDS)
    line = (f"cycle {'ok' if report.ok else 'FAILED'} at {at}: "
            f"{report.counts['events_recorded']} events recorded, {writes} writes")
    if report.failures:
        line += "; failing: " + ", ".join(sorted(report.failures))
    return line

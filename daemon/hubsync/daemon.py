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

import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from hubsync import sync
from hubsync.wiring import Runtime

log = structlog.get_logger(__name__)
JOB_ID = "hubsync-cycle"
KB_JOB_ID = "hubsync-kb"


class Daemon:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.scheduler = BlockingScheduler(timezone="UTC")
        self._failures = 0

    def _cycle(self) -> None:
        report = sync.run_once(self.rt)
        if report.ok and self._failures:
            log.info("sync_recovered", previous_errors=self._failures)
        self._failures = 0 if report.ok else self._failures + 1

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
        log.info("daemon_started", interval_s=interval,
                 portals=[p.config.id for p in self.rt.portals])
        self.scheduler.start()
        log.info("daemon_stopped")

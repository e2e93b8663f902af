"""Health and metrics over HTTP, bound to loopback: ``/metrics``, ``/livez``, ``/readyz``.

``Health`` owns its own Prometheus ``CollectorRegistry`` (never the process-global one) and
is fed once per cycle with ``record_cycle``. Gauges about the ledger are read from callables
at scrape time. ``/livez`` (alias ``/healthz``) answers whether the loop still finishes
cycles and checks no dependency, so an outage cannot turn into a restart storm; ``/readyz``
answers whether hubsync can do its work (ledger reachable, token accepted, properties there).

Labels and bodies carry only fixed names and portal ids, never a failure's text: an error
message may quote a request, and a request may quote a secret.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import AF_INET6
from typing import Any
from urllib.parse import urlsplit

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hubsync import errors, logs
from hubsync.ledger.records import EventStatus, OpState

log = structlog.get_logger(__name__)

WRITE_KINDS = ("updates_done", "notes_done", "notes_unknown", "reconciled_found",
               "reconciled_missing", "priority_raised")
DURATION_BUCKETS_S = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_PORTAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # as config.PortalConfig.id
# HubSpotAuthError renders as "HTTP 401 CATEGORY: …" (or 530), or as its docstring.
_AUTH_REASON = re.compile(
    r"^HTTP (401|530)\b|^" + re.escape(errors.HubSpotAuthError.__doc__ or "HubSpot rejected"))
_OP_STATES = (OpState.PENDING, OpState.IN_FLIGHT, OpState.UNKNOWN, *OpState.SETTLED)
_EVENT_STATUSES = (EventStatus.PENDING, EventStatus.PROCESSING, EventStatus.DONE,
                   EventStatus.FAILED, EventStatus.DEAD)


def is_loopback(host: str) -> bool:
    """True for loopback names and addresses (127.0.0.0/8, ::1), as ``config`` judges them."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _LedgerGauges(Collector):
    """``hubsync_outbox_items{state}`` and ``hubsync_ledger_events{status}``, read per scrape.

    Known states are always present (0 when empty). A source that raises is left out of that
    scrape; its failure is logged once until it recovers.
    """

    def __init__(self, outbox_items: Callable[[], Mapping[tuple[str, str], int]] | None,
                 ledger_events: Callable[[], Mapping[str, int]] | None) -> None:
        self._outbox_items = outbox_items
        self._ledger_events = ledger_events
        self._failing: set[str] = set()

    def describe(self) -> Iterable[Metric]:
        return [self._outbox([]), self._events([])]

    def collect(self) -> Iterable[Metric]:
        if self._outbox_items is not None and (
                ops := self._read("outbox", self._outbox_items)) is not None:
            by_state = dict.fromkeys(_OP_STATES, 0)
            for (_kind, state), n in ops.items():
                by_state[state] = by_state.get(state, 0) + n
            yield self._outbox(by_state.items())
        if self._ledger_events is not None and (
                events := self._read("events", self._ledger_events)) is not None:
            yield self._events({**dict.fromkeys(_EVENT_STATUSES, 0), **events}.items())

    @staticmethod
    def _outbox(values: Iterable[tuple[str, int]]) -> Metric:
        family = GaugeMetricFamily("hubsync_outbox_items", "Outbox writes by state.",
                                   labels=["state"])
        for state, n in values:
            family.add_metric([state], n)
        return family

    @staticmethod
    def _events(values: Iterable[tuple[str, int]]) -> Metric:
        family = GaugeMetricFamily("hubsync_ledger_events", "Ledger events by status.",
                                   labels=["status"])
        for status, n in values:
            family.add_metric([status], n)
        return family

    def _read(self, name: str, source: Callable[[], Mapping[Any, int]]) -> Mapping[Any, int] | None:
        try:
            values = source()
        except Exception as exc:  # noqa: BLE001 - a failing gauge must not fail the scrape
            if name not in self._failing:
                self._failing.add(name)
                log.warning("metrics_source_failed", source=name, error=type(exc).__name__)
            return None
        self._failing.discard(name)
        return values


def _portal_trouble(failures: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """Portals whose token was rejected, and portals whose ``verify`` step failed otherwise."""
    auth: set[str] = set()
    unverified: set[str] = set()
    for key, reason in failures.items():
        portal, _, step = key.rpartition(":")
        if not _PORTAL_ID.match(portal):
            continue
        if _AUTH_REASON.match(reason):
            auth.add(portal)
        elif step == "verify":
            unverified.add(portal)
    return auth, unverified


class Health:
    """The daemon's metrics, liveness and readiness; served by ``serve``.

    ``now`` returns epoch seconds and is the only clock used, so tests move time by hand.
    ``ledger_ok`` is called per ``/readyz`` request; False or an exception means not ready.
    ``outbox_items`` (``Ledger.op_counts``) and ``ledger_events`` (``Ledger.event_counts``)
    are called per ``/metrics`` scrape. Thread-safe: cycles are recorded on the scheduler's
    thread while requests are answered on the server's.
    """

    def __init__(self, interval_s: float, *, now: Callable[[], float] = time.time,
                 ledger_ok: Callable[[], bool] | None = None,
                 outbox_items: Callable[[], Mapping[tuple[str, str], int]] | None = None,
                 ledger_events: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.interval_s = interval_s
        self.now = now
        self.registry = CollectorRegistry()
        self._ledger_ok = ledger_ok
        self._lock = threading.Lock()
        self._started_at = now()
        self._last_cycle_at: float | None = None
        self._problems: dict[str, str] = {}
        self._flagged_portals: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

        reg = self.registry
        self.cycles = Counter("hubsync_cycles", "Finished cycles.", ["result"], registry=reg)
        self.last_success = Gauge("hubsync_last_success_timestamp_seconds",
                                  "When the last cycle without failures finished.", registry=reg)
        self.duration = Histogram("hubsync_cycle_duration_seconds", "Cycle wall time.",
                                  buckets=DURATION_BUCKETS_S, registry=reg)
        self.events = Counter("hubsync_events", "Events handled, by outcome.", ["outcome"],
                              registry=reg)
        self.writes = Counter("hubsync_writes", "HubSpot writes, by kind.", ["kind"],
                              registry=reg)
        self.hubspot_requests = Counter("hubsync_hubspot_requests", "Requests sent to HubSpot.",
                                        registry=reg)
        self.portal_auth_failed = Gauge("hubsync_portal_auth_failed",
                                        "1 while HubSpot rejects the portal's token.", ["portal"],
                                        registry=reg)
        for result in ("ok", "failed"):
            self.cycles.labels(result=result)
        for kind in WRITE_KINDS:
            self.writes.labels(kind=kind)
        reg.register(_LedgerGauges(outbox_items, ledger_events))

    # --- feeding ----------------------------------------------------------------------------

    def record_cycle(self, counts: Mapping[str, int], failures: Mapping[str, str],
                     duration_s: float, now: float) -> None:
        """Count one finished cycle (``CycleReport.counts``/``.failures``) that ended at ``now``.

        A portal whose failure text is a HubSpot auth error gets ``auth:<portal>`` as a ready
        problem and ``hubsync_portal_auth_failed`` 1; one whose ``<portal>:verify`` step failed
        gets ``properties:<portal>``. A later cycle in which the portal has no such failure
        clears both.
        """
        self.cycles.labels(result="failed" if failures else "ok").inc()
        self.duration.observe(max(duration_s, 0.0))
        if not failures:
            self.last_success.set(now)
        self._count(counts)
        auth, unverified = _portal_trouble(failures)
        with self._lock:
            self._last_cycle_at = now
            for portal in self._flagged_portals | auth | unverified:
                self._set_problem(f"auth:{portal}",
                                  "HubSpot rejected the token" if portal in auth else None)
                self._set_problem(f"properties:{portal}",
                                  "custom properties not verified" if portal in unverified
                                  else None)
                self.portal_auth_failed.labels(portal=portal).set(1 if portal in auth else 0)
            self._flagged_portals = auth | unverified

    def _count(self, counts: Mapping[str, int]) -> None:
        for key, n in counts.items():
            if n <= 0:
                continue
            if key.startswith("events_"):
                self.events.labels(outcome=key.removeprefix("events_")).inc(n)
            elif key in WRITE_KINDS:
                self.writes.labels(kind=key).inc(n)
            elif key == "hubspot_requests":
                self.hubspot_requests.inc(n)

    def set_ready_problem(self, name: str, reason: str | None) -> None:
        """Mark ``name`` as keeping hubsync from being ready, or clear it with None.

        ``name`` should be a fixed identifier (``lock``, ``auth:<portal>``); ``reason`` is
        shown in ``/readyz`` after redaction, so keep secrets out of both anyway.
        """
        with self._lock:
            self._set_problem(name, reason)

    def _set_problem(self, name: str, reason: str | None) -> None:
        if reason is None:
            self._problems.pop(name, None)
        else:
            self._problems[name] = logs.scrub_text(reason)[:200]

    # --- answers ----------------------------------------------------------------------------

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """Live if a cycle finished (or the process started) within 2 × the interval."""
        now = self.now()
        with self._lock:
            last = self._last_cycle_at
            since = last if last is not None else self._started_at
        live = now - since <= 2 * self.interval_s
        return live, {"live": live,
                      "last_cycle_age_s": None if last is None else round(now - last, 3)}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready when no problem is set and the ledger check passes."""
        with self._lock:
            problems = dict(self._problems)
        if self._ledger_ok is not None:
            try:
                ledger_ok = self._ledger_ok()
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                log.warning("ledger_check_failed", error=type(exc).__name__)
                ledger_ok = False
            if not ledger_ok:
                problems["ledger"] = "ledger check failed"
        return not problems, {"ready": not problems, "problems": problems}

    def metrics(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)

    # --- serving ----------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 9464, *,
              allow_remote: bool = False) -> ThreadingHTTPServer:
        """Answer HTTP on ``host:port`` from a daemon thread; ``port=0`` picks a free port.

        A host that is not loopback is refused unless ``allow_remote`` is True: the
        endpoints have no authentication.
        """
        if not allow_remote and not is_loopback(host):
            msg = f"refusing to serve health on non-loopback host {host!r} (allow_remote=False)"
            raise ValueError(msg)
        if self._server is not None:
            msg = "already serving"
            raise RuntimeError(msg)
        server_cls = _Server6 if ":" in host else _Server
        server = server_cls((host, port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hubsync-health", daemon=True)
        self._thread.start()
        log.info("health_serving", host=host, port=server.server_address[1])
        return server

    def close(self) -> None:
        """Stop serving (if serving) and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, _request: Any, _client_address: Any) -> None:
        """Called from socketserver's ``except`` block: log instead of printing to stderr."""
        log.exception("health_request_failed")


class _Server6(_Server):
    address_family = AF_INET6


def _handler_for(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "hubsync"
        sys_version = ""

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/metrics":
                self._reply(200, health.metrics(), CONTENT_TYPE_LATEST)
            elif path in ("/livez", "/healthz"):
                self._verdict(health.liveness())
            elif path == "/readyz":
                self._verdict(health.readiness())
            else:
                self._json(404, {"error": "not found"})

        def _verdict(self, answer: tuple[bool, dict[str, Any]]) -> None:
            ok, body = answer
            self._json(200 if ok else 503, body)

        def _json(self, code: int, body: dict[str, Any]) -> None:
            self._reply(code, json.dumps(body, sort_keys=True).encode(), "application/json")

        def _reply(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes every few seconds would flood the journal; stay quiet."""

    return Handler

"""What both harnesses share: the emulators, a config file, the real CLI as a subprocess.

The daemon always runs as its own process (``python -m hubsync``) with the token passed in
through ``${HUBSPOT_TOKEN}``, exactly as an operator would run it; the emulators run in the
harness process, so every figure is counted from the emulator's own record and state, not
from the daemon's opinion of itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from hubsync import demo
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger import db
from hubsync.ledger.records import EventStatus, OpState
from hubsync.writeback.notes import MARKER_PREFIX

PORTAL = "bench"
TOKEN = f"pat-na1-{uuid.uuid4()}"
SIMPLI_SERVICES = ("triage", "reply", "sentiment", "qa", "kb")
MARKER = re.compile(re.escape(MARKER_PREFIX) + r"([0-9A-Za-z]+)")
OPEN_EVENTS = (EventStatus.PENDING, EventStatus.PROCESSING)
OPEN_OPS = (OpState.PENDING, OpState.IN_FLIGHT, OpState.UNKNOWN)


@contextlib.contextmanager
def emulators(simpli_latency_ms: float = 0.0) -> Iterator[tuple[HubSpotEmulator, SimpliStandIns]]:
    """The HubSpot emulator with HubSpot's own limits (190 per 10 s, search 5/s) and the
    Simpli stand-ins, started on free loopback ports and stopped on exit."""
    with (HubSpotEmulator(token=TOKEN) as hubspot,
          SimpliStandIns(latency_s=simpli_latency_ms / 1000) as simpli):
        yield hubspot, simpli


def write_config(directory: Path, hubspot: HubSpotEmulator, simpli: SimpliStandIns,
                 ledger_url: str, **sections: Mapping[str, Any]) -> Path:
    """Write ``config.yaml`` for the emulators: the daemon's defaults except the endpoints,
    the ledger and JSON logs at info; each keyword merges into that section."""
    raw: dict[str, Any] = {
        "portals": [{"id": PORTAL, "base_url": hubspot.base_url, "token": "${HUBSPOT_TOKEN}",
                     "owners": dict(demo.DEMO_OWNERS)}],
        "ledger": {"url": ledger_url},
        "simpli": {name: {"base_url": simpli.urls[name]} for name in SIMPLI_SERVICES},
        "logging": {"level": "info", "format": "json"},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def daemon_env(**extra: str) -> dict[str, str]:
    """A minimal environment for the daemon: PATH, the token, unbuffered output."""
    return {"PATH": os.environ.get("PATH", "/usr/bin"), "HUBSPOT_TOKEN": TOKEN,
            "PYTHONUNBUFFERED": "1", **extra}


def start(args: Sequence[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``python -m hubsync ARGS`` with stdout and stderr appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "hubsync", *args], stdout=log,
                                stderr=subprocess.STDOUT, env=dict(env))


@dataclass(frozen=True)
class Finished:
    """A reaped process: its exit code (negative: killed by that signal), its peak resident
    set (``ru_maxrss`` from ``wait4``, which the kernel keeps per process) and its CPU time."""

    returncode: int
    peak_rss_mb: float
    cpu_s: float
    wall_s: float


def reap(proc: subprocess.Popen[bytes], timeout_s: float, started: float) -> Finished:
    """Wait for ``proc`` with ``os.wait4`` (SIGKILL it after ``timeout_s``) and return its
    own resource usage, not the sum over every child the harness ever ran."""
    timer = threading.Timer(timeout_s, _kill_quietly, (proc,))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Finished(proc.returncode, round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
                    round(usage.ru_utime + usage.ru_stime, 2),
                    round(time.monotonic() - started, 2))


def _kill_quietly(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)


def run_cli(args: Sequence[str], log_path: Path, env: Mapping[str, str],
            timeout_s: float = 300) -> Finished:
    """Run ``python -m hubsync ARGS`` to completion and measure it."""
    started = time.monotonic()
    return reap(start(args, log_path, env), timeout_s, started)


def marker_keys(hubspot: HubSpotEmulator, ticket_id: str) -> list[str]:
    """The op keys of the ``sync-ref:`` markers on the ticket's notes, one per marked note."""
    keys = []
    for note in hubspot.notes_for_ticket(ticket_id):
        found = MARKER.search(note["properties"].get("hs_note_body") or "")
        if found:
            keys.append(found.group(1))
    return keys


def ledger_engine(ledger_url: str) -> sa.Engine:
    """A short-lived engine on the ledger, for the harness's own reads (no pooling)."""
    return sa.create_engine(db.normalize_url(ledger_url), poolclass=sa.pool.NullPool)


def ledger_settled(ledger_url: str) -> bool:
    """True when no event waits to be handled and every write intent is done or dead."""
    engine = ledger_engine(ledger_url)
    try:
        with engine.connect() as conn:
            events: int = conn.execute(sa.text(
                "SELECT count(*) FROM events WHERE status IN (:a, :b)"),
                dict(zip("ab", OPEN_EVENTS, strict=True))).scalar_one()
            ops: int = conn.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE state IN (:a, :b, :c)"),
                dict(zip("abc", OPEN_OPS, strict=True))).scalar_one()
    finally:
        engine.dispose()
    return events == 0 and ops == 0


def ledger_bytes(ledger_url: str) -> int:
    """The ledger's size on disk: the SQLite file plus its WAL, or PostgreSQL's database."""
    path = db.sqlite_path(ledger_url)
    if path is not None:
        return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"))
                   if p.exists())
    engine = ledger_engine(ledger_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()


def emit(result: Mapping[str, Any], json_out: Path | None) -> None:
    """Print the result as one JSON object on stdout, and write it to ``json_out`` if given."""
    text = json.dumps(result, sort_keys=True)
    print(text, flush=True)
    if json_out is not None:
        json_out.write_text(text + "\n", encoding="utf-8")

"""Catch-up after an outage: N new tickets wait in HubSpot; how fast and how cheaply does the
real ``hubsync run --once`` clear them?

    python -m bench.catchup --tickets N [--ledger URL] [--simpli-latency-ms MS]
                            [--max-cycles C] [--json-out PATH] [--workdir DIR]

Seeds N tickets in the HubSpot emulator (HubSpot's own limits: 190 requests per 10 s, search
5/s), migrates a fresh ledger (SQLite in the work directory unless ``--ledger`` names an
empty database), then, with the daemon's default settings, runs ``hubsync run --once`` as a
subprocess, cycle after cycle, until every ticket has ``ai_category`` and exactly one note,
or ``--max-cycles`` is reached. Prints one JSON object (see bench/README.md for each
figure); exits 0 iff every ticket was done, no ticket got two notes and every cycle exited 0.
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from collections import Counter
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bench import common
from hubsync import demo
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.hubspot.recording import RecordedRequest


def request_kind(request: RecordedRequest) -> str:
    """Which cost-model bucket a served request falls in."""
    if request.method == "POST" and request.path.endswith("/search"):
        return "search"
    if request.method == "POST" and request.path == "/crm/v3/objects/tickets/batch/update":
        return "batch_update"
    if request.method == "POST" and request.path == "/crm/v3/objects/notes/batch/create":
        return "batch_create_notes"
    return "other"


def cost_floor(tickets: int) -> int:
    """DESIGN.md's floor: N/200 search pages + N/100 batch updates + N/100 note batches."""
    return math.ceil(tickets / 200) + 2 * math.ceil(tickets / 100)


def note_counts(hubspot: HubSpotEmulator, ids: list[str]) -> tuple[int, int]:
    """(tickets with ``ai_category`` and exactly one marked note, tickets with more than one)."""
    done = duplicated = 0
    for ticket_id in ids:
        notes = len(common.marker_keys(hubspot, ticket_id))
        duplicated += notes > 1
        done += notes == 1 and bool(hubspot.ticket(ticket_id).get("ai_category"))
    return done, duplicated


def _cpu_self() -> float:
    """CPU seconds this process (the emulators and stand-ins, mostly) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(*, tickets: int, ledger_url: str | None, simpli_latency_ms: float, max_cycles: int,
        workdir: Path) -> dict[str, Any]:
    """Seed, migrate, run cycles until caught up; return the measured figures."""
    url = ledger_url or f"sqlite:///{workdir / 'ledger.db'}"
    env = common.daemon_env()
    with common.emulators(simpli_latency_ms) as (hubspot, simpli):
        ids = demo.seed(hubspot, tickets)
        config = str(common.write_config(workdir, hubspot, simpli, url))
        migrated = common.run_cli(["migrate", "--config", config], workdir / "migrate.log", env)
        if migrated.returncode != 0:
            msg = f"hubsync migrate exited {migrated.returncode}; see {workdir / 'migrate.log'}"
            raise SystemExit(msg)
        cycles: list[common.Finished] = []
        done = duplicated = 0
        started = time.monotonic()
        harness_before = _cpu_self()
        while len(cycles) < max_cycles and done < tickets and not duplicated:
            cycles.append(common.run_cli(["run", "--once", "--config", config],
                                         workdir / f"cycle-{len(cycles) + 1}.log", env))
            done, duplicated = note_counts(hubspot, ids)
        wall_s = time.monotonic() - started
        harness_cpu_s = _cpu_self() - harness_before
        served = hubspot.requests
    by_kind = Counter(request_kind(r) for r in served)
    floor = cost_floor(tickets)
    return {
        "tickets": tickets,
        "tickets_done": done,
        "duplicates": duplicated,
        "cycles": len(cycles),
        "cycle_exit_codes": [c.returncode for c in cycles],
        "cycle_s": [c.wall_s for c in cycles],
        "wall_s": round(wall_s, 2),
        "tickets_per_s": round(done / wall_s, 1) if wall_s else None,
        "hubspot_requests": {"total": len(served),
                             **{k: by_kind[k] for k in ("search", "batch_update",
                                                        "batch_create_notes", "other")}},
        "floor_requests": floor,
        "requests_over_floor": round(len(served) / floor, 2),
        "http_429": sum(1 for r in served if r.status == HTTPStatus.TOO_MANY_REQUESTS),
        "daemon_peak_rss_mb": max(c.peak_rss_mb for c in cycles),
        "cycle_peak_rss_mb": [c.peak_rss_mb for c in cycles],
        "daemon_cpu_s": round(sum(c.cpu_s for c in cycles), 2),
        "harness_cpu_s": round(harness_cpu_s, 2),
        "ledger": url.split("://", 1)[0],
        "ledger_bytes": common.ledger_bytes(url),
        "simpli_latency_ms": simpli_latency_ms,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the catch-up, print its JSON; 0 iff every ticket is done once."""
    parser = argparse.ArgumentParser(prog="python -m bench.catchup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--ledger", help="ledger URL of an EMPTY database "
                        "(default: SQLite in the work directory)")
    parser.add_argument("--simpli-latency-ms", type=float, default=0.0,
                        help="added latency of every Simpli stand-in answer")
    parser.add_argument("--max-cycles", type=int, default=10)
    parser.add_argument("--json-out", type=Path, help="also write the JSON object here")
    parser.add_argument("--workdir", type=Path,
                        help="keep the config, ledger and daemon logs here (default: a "
                        "temporary directory, removed afterwards)")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.max_cycles < 1:
        parser.error("--tickets and --max-cycles must be at least 1")
    with tempfile.TemporaryDirectory(prefix="hubsync-catchup-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        result = run(tickets=args.tickets, ledger_url=args.ledger,
                     simpli_latency_ms=args.simpli_latency_ms, max_cycles=args.max_cycles,
                     workdir=workdir)
    common.emit(result, args.json_out)
    ok = (result["tickets_done"] == args.tickets and result["duplicates"] == 0
          and all(code == 0 for code in result["cycle_exit_codes"]))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Random SIGKILL loop and checker: RELIABILITY.md §3, acceptance test 1, scaled.

    python -m bench.crash --tickets N --kills K [--seed S] [--drop-rate P] [--arrivals]
                          [--failpoint-rate F] [--simpli-latency-ms MS] [--json-out PATH]
                          [--workdir DIR]

Seeds N tickets (with ``--arrivals``: N/K before each start instead, so that every daemon
start has new work), then K times: starts the daemon (``hubsync run``, a cycle every second,
unknown notes reconciled at once), waits until it logs ``daemon_started``, sleeps U(0.05,
1.5) s and SIGKILLs it. In a share F of the iterations (1/3 by default) the daemon also
carries ``HUBSYNC_FAILPOINT`` at ``after_intent_commit`` or ``after_post_before_record``,
which SIGKILLs it at that exact site if it gets there first. With ``--drop-rate P``, each
note batch create is, with probability P (a seeded sequence armed up front), saved by the
emulator and then answered by a dropped connection. Then ``hubsync run --once`` drains until
the ledger is settled, and the checker compares HubSpot's notes with the ledger:

- lost: tickets with no marked note; duplicated: tickets with more than one;
- unexpected: notes whose ``sync-ref:`` op key is not in the ledger's outbox (or no marker);
- integrity: ``PRAGMA integrity_check`` of the SQLite ledger; all_triaged: every ticket has
  ``ai_category``.

Prints one JSON object; exits 0 iff it passes (lost = duplicated = unexpected = 0,
integrity ok, all triaged).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import common
from hubsync import demo
from hubsync.emulators.hubspot import HubSpotEmulator

NOTE_BATCH = r"^/crm/v3/objects/notes/batch/create$"
FAILPOINTS = ("after_intent_commit", "after_post_before_record")
KILL_AFTER_S = (0.05, 1.5)
STARTUP_TIMEOUT_S = 30.0
MAX_DRAIN_CYCLES = 10


def arm_drops(hubspot: HubSpotEmulator, rng: random.Random, rate: float, count: int) -> int:
    """Decide, for each of the next ``count`` note batch creates, whether HubSpot saves it and
    then drops the connection (probability ``rate``) or answers normally; returns the number
    of drops armed. Later batch creates all pass."""
    armed = 0
    decisions = [rng.random() < rate for _ in range(count)]
    for drop, run in itertools.groupby(decisions):
        times = len(list(run))
        if drop:
            hubspot.inject("POST", NOTE_BATCH, status=None, after_commit=True, times=times)
            armed += times
        else:  # a fault with no status and no delay lets the request through, using one turn
            hubspot.inject("POST", NOTE_BATCH, status=None, times=times)
    return armed


@dataclass(frozen=True)
class Rig:
    """The running emulator and what every daemon start of one harness run shares."""

    hubspot: HubSpotEmulator
    config: str
    ledger_url: str
    workdir: Path


def work_left(rig: Rig, ids: list[str]) -> bool:
    """Whether some ticket still lacks ``ai_category`` or a marked note, or the ledger still
    has an open event or write intent (e.g. a note HubSpot saved but the ledger never knew)."""
    return not common.ledger_settled(rig.ledger_url) or any(
        not rig.hubspot.ticket(t).get("ai_category") or not common.marker_keys(rig.hubspot, t)
        for t in ids)


def wait_for_start(proc: subprocess.Popen[bytes], log_path: Path) -> bool:
    """Wait until the daemon logs ``daemon_started``; False if it exits or never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if b'"daemon_started"' in log_path.read_bytes():
            return True
        time.sleep(0.01)
    return False


@dataclass
class KillLoop:
    """What the kill loop did. ``kills`` counts every SIGKILL death, the failpoints' included;
    ``kills_with_work_left`` counts the harness's own SIGKILLs that landed while some work was
    still open; ``unexpected_exits`` holds the exit code of any start that neither reached
    ``daemon_started`` nor died by SIGKILL (a daemon that hangs before starting is killed and
    listed as -9)."""

    kills: int = 0
    failpoint_starts: int = 0
    failpoint_kills: int = 0
    kills_with_work_left: int = 0
    unexpected_exits: list[int] = field(default_factory=list)


def kill_loop(rig: Rig, waves: list[int], ids: list[str], failpoint_rate: float,
              rng: random.Random) -> KillLoop:
    """Start the daemon and SIGKILL it once per wave (or let its failpoint do it), seeding
    that wave's tickets (possibly none) into HubSpot just before each start; ``ids`` grows
    with the seeded tickets."""
    done = KillLoop()
    for i, wave in enumerate(waves, start=1):
        ids.extend(demo.seed(rig.hubspot, wave))
        failpoint = rng.choice(FAILPOINTS) if rng.random() < failpoint_rate else None
        done.failpoint_starts += failpoint is not None
        delay_s = rng.uniform(*KILL_AFTER_S)
        env = common.daemon_env(**({"HUBSYNC_FAILPOINT": failpoint} if failpoint else {}))
        log_path = rig.workdir / f"kill-{i}.log"
        proc = common.start(["run", "--config", rig.config], log_path, env)
        if not wait_for_start(proc, log_path):
            proc.kill()
            done.unexpected_exits.append(proc.wait())
            continue
        try:
            proc.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            done.kills_with_work_left += work_left(rig, ids)
            proc.kill()
            proc.wait()
            done.kills += 1
            continue
        if failpoint and proc.returncode == -signal.SIGKILL:
            done.failpoint_kills += 1
            done.kills += 1
        else:
            done.unexpected_exits.append(proc.returncode)
    return done


def drain(rig: Rig) -> list[int]:
    """Run ``hubsync run --once`` until the ledger is settled; the cycles' exit codes."""
    codes: list[int] = []
    while len(codes) < MAX_DRAIN_CYCLES:
        finished = common.run_cli(["run", "--once", "--config", rig.config],
                                  rig.workdir / f"drain-{len(codes) + 1}.log",
                                  common.daemon_env())
        codes.append(finished.returncode)
        if common.ledger_settled(rig.ledger_url):
            break
        time.sleep(1.0)  # event retries back off by processing.retry_base_s (1 s)
    return codes


def reconciled_found(workdir: Path) -> int:
    """``note_reconciled`` log lines with ``result: found`` over every daemon run's output."""
    total = 0
    for log_path in sorted(workdir.glob("*.log")):
        for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"note_reconciled"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            total += record.get("event") == "note_reconciled" and record.get("result") == "found"
    return total


def check(rig: Rig, ids: list[str]) -> dict[str, Any]:
    """Compare HubSpot's notes with the ledger: lost, duplicated, unexpected, integrity."""
    per_ticket = [common.marker_keys(rig.hubspot, t) for t in ids]
    markers = [common.MARKER.search(n["properties"].get("hs_note_body") or "")
               for n in rig.hubspot.all_notes()]
    engine = common.ledger_engine(rig.ledger_url)
    try:
        with engine.connect() as conn:
            outbox = sa.table("outbox", sa.column("op_key"), sa.column("state"))
            known = set(conn.execute(sa.select(outbox.c.op_key)).scalars())
            dead = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                .where(outbox.c.state == "dead")).scalar_one()
            integrity = ", ".join(conn.exec_driver_sql("PRAGMA integrity_check").scalars())
    finally:
        engine.dispose()
    return {
        "lost": sum(1 for keys in per_ticket if not keys),
        "duplicated": sum(1 for keys in per_ticket if len(keys) > 1),
        "unexpected": sum(1 for m in markers if m is None or m.group(1) not in known),
        "notes_total": len(markers),
        "ops_dead": dead,
        "integrity": integrity,
        "all_triaged": all(rig.hubspot.ticket(t).get("ai_category") for t in ids),
    }


def waves_of(tickets: int, kills: int, *, arrivals: bool) -> list[int]:
    """How many tickets to seed before each daemon start: all before the first, or (with
    ``arrivals``) as evenly as possible across the starts."""
    if kills == 0:
        return []
    if not arrivals:
        return [tickets] + [0] * (kills - 1)
    return [tickets // kills + (i < tickets % kills) for i in range(kills)]


def run(*, tickets: int, kills: int, seed: int, drop_rate: float, failpoint_rate: float,
        simpli_latency_ms: float, arrivals: bool, workdir: Path) -> dict[str, Any]:
    """Seed, kill the daemon ``kills`` times, drain, check; return the figures."""
    rng = random.Random(seed)
    ledger_url = f"sqlite:///{workdir / 'ledger.db'}"
    started = time.monotonic()
    with common.emulators(simpli_latency_ms) as (hubspot, simpli):
        waves = waves_of(tickets, kills, arrivals=arrivals)
        ids = demo.seed(hubspot, tickets - sum(waves))
        armed = arm_drops(hubspot, rng, drop_rate,
                          4 * (math.ceil(tickets / 100) + kills)) if drop_rate > 0 else 0
        config = common.write_config(
            workdir, hubspot, simpli, ledger_url, polling={"tickets_interval_s": 1},
            processing={"retry_base_s": 1, "retry_cap_s": 2},
            writeback={"reconcile_after_s": 0})
        rig = Rig(hubspot, str(config), ledger_url, workdir)
        migrated = common.run_cli(["migrate", "--config", rig.config], workdir / "migrate.log",
                                  common.daemon_env())
        if migrated.returncode != 0:
            msg = f"hubsync migrate exited {migrated.returncode}; see {workdir / 'migrate.log'}"
            raise SystemExit(msg)
        loop = kill_loop(rig, waves, ids, failpoint_rate, rng)
        drain_codes = drain(rig)
        checked = check(rig, ids)
        drops = sum(1 for r in hubspot.requests if r.status == 0 and r.method == "POST"
                    and r.path == "/crm/v3/objects/notes/batch/create")
    passed = (checked["lost"] == checked["duplicated"] == checked["unexpected"] == 0
              and checked["integrity"] == "ok" and bool(checked["all_triaged"]))
    return {
        "tickets": tickets, "arrivals": arrivals, "kills": loop.kills,
        "failpoint_starts": loop.failpoint_starts, "failpoint_kills": loop.failpoint_kills,
        "kills_with_work_left": loop.kills_with_work_left,
        "unexpected_exits": loop.unexpected_exits, "seed": seed, "drop_rate": drop_rate,
        "drops_armed": armed, "drops_injected": drops, **checked,
        "drain_exit_codes": drain_codes, "ledger_settled": common.ledger_settled(ledger_url),
        "reconciled_found": reconciled_found(workdir),
        "wall_s": round(time.monotonic() - started, 2), "pass": passed,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the kill loop and the checker, print the JSON; 0 iff it passes."""
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--kills", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop-rate", type=float, default=0.0,
                        help="share of note batch creates saved, then answered by a dropped "
                        "connection")
    parser.add_argument("--failpoint-rate", type=float, default=1 / 3,
                        help="share of daemon starts that also carry a HUBSYNC_FAILPOINT")
    parser.add_argument("--arrivals", action="store_true",
                        help="seed the tickets in equal waves, one before each daemon start, "
                        "instead of all before the first")
    parser.add_argument("--simpli-latency-ms", type=float, default=0.0)
    parser.add_argument("--json-out", type=Path, help="also write the JSON object here")
    parser.add_argument("--workdir", type=Path,
                        help="keep the config, ledger and daemon logs here (default: a "
                        "temporary directory, removed afterwards)")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.kills < 0:
        parser.error("--tickets must be at least 1 and --kills at least 0")
    if not (0 <= args.drop_rate <= 1 and 0 <= args.failpoint_rate <= 1):
        parser.error("--drop-rate and --failpoint-rate must be between 0 and 1")
    with tempfile.TemporaryDirectory(prefix="hubsync-crash-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        result = run(tickets=args.tickets, kills=args.kills, seed=args.seed,
                     drop_rate=args.drop_rate, failpoint_rate=args.failpoint_rate,
                     simpli_latency_ms=args.simpli_latency_ms, arrivals=args.arrivals,
                     workdir=workdir)
    common.emit(result, args.json_out)
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

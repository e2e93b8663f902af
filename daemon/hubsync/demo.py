"""``hubsync demo`` and ``hubsync emulate``: the daemon against the built-in emulators.

The demo starts the HubSpot emulator and the Simpli stand-ins on free loopback ports, seeds
realistic tickets, runs full cycles until every ticket is processed, then runs one more
cycle to show that a re-run writes nothing. Every figure in the summary is counted from the
emulator's own state and request record, not from the daemon's opinion of itself.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from hubsync import config as config_mod
from hubsync import demo_data, logs, sync, wiring
from hubsync.clock import SystemClock
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger import migrate
from hubsync.ledger.records import EventStatus, OpState
from hubsync.ledger.store import Ledger
from hubsync.writeback.notes import MARKER_PREFIX

# Simpli Triage agents → the emulator's owners. A-050 (general) is deliberately unmapped.
DEMO_OWNERS = {"A-001": "102", "A-012": "101", "A-021": "102", "A-033": "103", "A-044": "104"}
WRITE_PATHS = ("/batch/update", "/batch/create", "/crm/v3/objects/")


def demo_config(hubspot_url: str, simpli: dict[str, str], token: str,
                ledger_url: str) -> config_mod.Config:
    return config_mod.Config.model_validate({
        "portals": [{"id": "demo", "base_url": hubspot_url, "token": token,
                     "owners": DEMO_OWNERS}],
        "ledger": {"url": ledger_url},
        "simpli": {"triage": {"base_url": simpli["triage"]},
                   "reply": {"base_url": simpli["reply"]}},
        "polling": {"tickets_interval_s": 5, "overlap_s": 60},
        "writeback": {"reconcile_after_s": 0},
        "logging": {"level": "warning"},
    })


def seed(emu: HubSpotEmulator, n: int) -> list[str]:
    return [emu.seed_ticket({"subject": t.subject, "content": t.content,
                             "hs_pipeline": "0", "hs_pipeline_stage": "1",
                             "source_type": t.source_type})
            for t in demo_data.tickets(n)]


def count_writes(emu: HubSpotEmulator) -> int:
    """HubSpot writes the emulator served: PATCHes, batch updates, note creations."""
    return sum(1 for r in emu.requests if r.method == "PATCH"
               or (r.method == "POST" and ("/batch/update" in r.path
                                           or r.path.endswith("/batch/create")
                                           or r.path == "/crm/v3/objects/notes")))


def summarize(emu: HubSpotEmulator, ticket_ids: list[str], ledger: Ledger, cycles: int,
              elapsed: float, rerun_writes: int, expected_owners: int) -> dict[str, Any]:
    props = [emu.ticket(t) for t in ticket_ids]
    notes = [n for n in emu.all_notes()
             if MARKER_PREFIX in (n["properties"].get("hs_note_body") or "")]
    events = ledger.event_counts("demo")
    ops = ledger.op_counts("demo")
    return {
        "tickets_seeded": len(ticket_ids),
        "tickets_triaged": sum(1 for p in props if p.get("ai_category")),
        "notes_created": len(notes),
        "tickets_with_one_note": sum(1 for t in ticket_ids if len(emu.notes_for_ticket(t)) == 1),
        "owners_set": sum(1 for p in props if p.get("hubspot_owner_id")),
        "owners_expected": expected_owners,
        "priority_urgent": sum(1 for p in props if p.get("hs_ticket_priority") == "URGENT"),
        "events_failed": events.get(EventStatus.FAILED, 0) + events.get(EventStatus.DEAD, 0),
        "writes_dead": sum(n for (_, state), n in ops.items() if state == OpState.DEAD),
        "hubspot_requests": len(emu.requests),
        "hubspot_writes": count_writes(emu) - rerun_writes,
        "rerun_writes": rerun_writes,
        "cycles": cycles,
        "elapsed_s": round(elapsed, 2),
    }


def _expected_owners(ledger: Ledger) -> int:
    """Tickets whose routed agent is in the owner map (read from the memoized routes)."""
    total = 0
    for event in ledger.events("demo"):
        route = ledger.memo("demo", event.dedupe_key, "route")
        if route and route.get("agent") in DEMO_OWNERS:
            total += 1
    return total


def run_demo(n: int, ledger_url: str) -> dict[str, Any]:
    token = f"pat-na1-{uuid.uuid4()}"
    clock = SystemClock()
    with HubSpotEmulator(token=token) as emu, SimpliStandIns() as simpli:
        ticket_ids = seed(emu, n)
        cfg = demo_config(emu.base_url, simpli.urls, token, ledger_url)
        migrate.upgrade(cfg.ledger.url)
        ledger = Ledger.open(cfg.ledger.url, clock)
        rt = wiring.build(cfg, ledger, clock)
        try:
            started = time.monotonic()
            cycles = 0
            while cycles < 30:
                cycles += 1
                sync.run_once(rt)
                pending = ledger.event_counts("demo").get(EventStatus.PENDING, 0)
                open_ops = sum(v for (_, s), v in ledger.op_counts("demo").items()
                               if s not in (OpState.DONE, OpState.DEAD))
                processed = sum(1 for t in ticket_ids if emu.ticket(t).get("ai_category"))
                if pending == 0 and open_ops == 0 and processed >= n:
                    break
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            before = count_writes(emu)
            sync.run_once(rt)
            rerun_writes = count_writes(emu) - before
            return summarize(emu, ticket_ids, ledger, cycles, elapsed, rerun_writes,
                             _expected_owners(ledger))
        finally:
            rt.close()


def _print_human(s: dict[str, Any]) -> None:
    print("hubsync demo: HubSpot emulator + Simpli stand-ins, SQLite ledger\n")
    rows = [
        ("tickets seeded", s["tickets_seeded"]),
        ("tickets triaged (ai_category set)", s["tickets_triaged"]),
        ("AI draft notes created", s["notes_created"]),
        ("tickets with exactly one note", s["tickets_with_one_note"]),
        ("owners set / routed to a mapped agent", f"{s['owners_set']} / {s['owners_expected']}"),
        ("tickets raised to URGENT", s["priority_urgent"]),
        ("events failed", s["events_failed"]),
        ("HubSpot requests (all)", s["hubspot_requests"]),
        ("HubSpot write calls", s["hubspot_writes"]),
        ("writes on a second run", s["rerun_writes"]),
        ("cycles", s["cycles"]),
        ("elapsed", f"{s['elapsed_s']} s"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


def main(*, tickets: int, as_json: bool, ledger_url: str | None) -> int:
    logs.configure("warning", "json" if as_json else "auto", stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="hubsync-demo-") as tmp:
        url = ledger_url or f"sqlite:///{Path(tmp) / 'ledger.db'}"
        summary = run_demo(tickets, url)
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        _print_human(summary)
    ok = (summary["tickets_triaged"] == tickets and summary["notes_created"] == tickets
          and summary["owners_set"] == summary["owners_expected"]
          and summary["rerun_writes"] == 0)
    return 0 if ok else 1


def serve(host: str, port: int, simpli_port: int, token: str, n_seed: int) -> int:
    """Serve the emulators until interrupted (for trying the daemon by hand)."""
    logs.configure("info", "auto")
    emu = HubSpotEmulator(token=token, host=host, port=port).start()
    names = ("triage", "reply", "sentiment", "qa", "kb")
    from hubsync.emulators import simpli as simpli_mod
    classes = (simpli_mod.TriageStandIn, simpli_mod.ReplyStandIn, simpli_mod.SentimentStandIn,
               simpli_mod.QAStandIn, simpli_mod.KBStandIn)
    services = [cls(host=host, port=simpli_port + i).start() for i, cls in enumerate(classes)]
    if n_seed:
        seed(emu, n_seed)
    print(f"HubSpot emulator: {emu.base_url}  (token: set HUBSYNC_EMULATOR_TOKEN; "
          f"{len(token)} chars)")
    for name, svc in zip(names, services, strict=True):
        print(f"Simpli {name:<9} {svc.base_url}")
    print("Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for svc in services:
            svc.stop()
        emu.stop()
    return 0

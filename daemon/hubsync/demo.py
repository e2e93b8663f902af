"""``hubsync demo`` and ``hubsync emulate``: the daemon against the built-in emulators.

The demo starts the HubSpot emulator and the Simpli stand-ins on free loopback ports, seeds
realistic tickets, runs full cycles until every ticket is processed, then runs one more
cycle to show that a re-run writes nothing. Every figure in the summary is counted from the
emulator's own state and request record, not from the daemon's opinion of itself.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from hubsync import config as config_mod
from hubsync import demo_data, demo_day, kbjob, logs, mapping, sync, wiring
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
        "simpli": {name: {"base_url": simpli[name]}
                   for name in ("triage", "reply", "sentiment", "qa", "kb")},
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


def run_until_settled(rt: wiring.Runtime, portal: str, max_cycles: int = 30) -> int:
    """Run cycles until no event is pending and every write intent is settled."""
    for cycle in range(1, max_cycles + 1):
        sync.run_once(rt)
        pending = rt.ledger.event_counts(portal).get(EventStatus.PENDING, 0)
        open_ops = sum(v for (_, state), v in rt.ledger.op_counts(portal).items()
                       if state not in OpState.SETTLED)
        if pending == 0 and open_ops == 0:
            return cycle
        time.sleep(0.2)
    return max_cycles


def _expected_owners(ledger: Ledger) -> int:
    """Tickets whose routed agent is in the owner map (read from the memoized routes)."""
    total = 0
    for event in ledger.events("demo"):
        route = ledger.memo("demo", event.dedupe_key, "route")
        if route and route.get("agent") in DEMO_OWNERS:
            total += 1
    return total


def _done_ops(ledger: Ledger, kind: str, marker: str) -> int:
    """Intents of a kind, with this payload ``reason``, that were written to HubSpot."""
    return sum(1 for op in ledger.ops("demo", kind, (OpState.DONE,), limit=100_000,
                                      due_only=False) if op.payload.get("reason") == marker)


def summarize(emu: HubSpotEmulator, day: demo_day.Seeded, ledger: Ledger, cycles: int,
              elapsed: float, rerun_writes: int,
              kb: tuple[int, int, int]) -> dict[str, Any]:
    ids = day.tickets
    props = {t: emu.ticket(t) for t in ids}
    bodies = [n["properties"].get("hs_note_body") or "" for n in emu.all_notes()]
    events = ledger.events("demo")
    done = [e for e in events if e.status == EventStatus.DONE]
    return {
        "tickets_seeded": len(ids),
        "tickets_triaged": sum(1 for p in props.values() if p.get("ai_category")),
        "notes_created": sum(1 for b in bodies if MARKER_PREFIX in b),
        "drafts_on_created": sum(1 for b in bodies if "AI draft reply" in b
                                 and "Stage:" not in b),
        "owners_set": sum(1 for t, p in props.items() if p.get("hubspot_owner_id")),
        "owners_expected": _expected_owners(ledger),
        "priority_urgent": sum(1 for p in props.values() if p.get("hs_ticket_priority")
                               == "URGENT"),
        "messages_seeded": day.customer_messages + day.other_messages,
        "customer_messages_seeded": day.customer_messages,
        "messages_analyzed": sum(1 for e in done if e.kind == "message.received"),
        "contacts_seeded": len(day.contacts),
        "visitor_threads": day.visitor_threads,
        "contacts_updated": sum(1 for c in day.contacts if emu.contact(c).get("sentiment_score")),
        "escalations_seeded": len(day.escalating_tickets),
        "escalated_at_high_or_above": sum(
            1 for t in day.escalating_tickets
            if mapping.priority_rank(props[t].get("hs_ticket_priority"))
            >= mapping.priority_rank("HIGH")),
        "priority_raises_written": _done_ops(ledger, "ticket_update", "escalation"),
        "stage_moves_seeded": len(day.waiting_on_us) + len(day.reopened),
        "drafts_on_stage": sum(1 for b in bodies if "Stage: Waiting on us" in b),
        "tickets_closed": len(day.closed),
        "tickets_closed_scored": sum(1 for t in day.closed if props[t].get("qa_score")),
        "qa_notes": sum(1 for b in bodies if "QA score:" in b),
        "tickets_reopened": sum(1 for e in done if e.kind == "ticket.reopened"),
        "kb_articles_published": day.kb_published,
        "kb_articles_synced": kb[0],
        "kb_articles_resynced_after_edit": kb[1],
        "kb_gaps": kb[2],
        "events_failed": sum(1 for e in events if e.status in (EventStatus.FAILED,
                                                                EventStatus.DEAD)),
        "writes_dead": sum(n for (_, state), n in ledger.op_counts("demo").items()
                           if state == OpState.DEAD),
        "hubspot_requests": len(emu.requests),
        "hubspot_writes": count_writes(emu) - rerun_writes,
        "rerun_writes": rerun_writes,
        "cycles": cycles,
        "elapsed_s": round(elapsed, 2),
    }


def run_demo(n: int, ledger_url: str) -> dict[str, Any]:
    token = f"pat-na1-{uuid.uuid4()}"
    clock = SystemClock()
    rng = random.Random(11)
    with HubSpotEmulator(token=token) as emu, SimpliStandIns() as simpli:
        day = demo_day.Seeded(tickets=seed(emu, n))
        demo_day.morning_chats(emu, day.tickets, day, rng)
        article_ids = demo_day.publish_kb(emu, day)
        cfg = demo_config(emu.base_url, simpli.urls, token, ledger_url)
        migrate.upgrade(cfg.ledger.url)
        ledger = Ledger.open(cfg.ledger.url, clock)
        rt = wiring.build(cfg, ledger, clock)
        try:
            started = time.monotonic()
            cycles = run_until_settled(rt, "demo")
            first_kb = kbjob.run(rt)["demo"]
            demo_day.afternoon(emu, day, rng)
            cycles += run_until_settled(rt, "demo")
            demo_day.evening(emu, day)
            demo_day.edit_kb(emu, article_ids, day)
            cycles += run_until_settled(rt, "demo")
            second_kb = kbjob.run(rt)["demo"]
            elapsed = time.monotonic() - started
            before = count_writes(emu)
            sync.run_once(rt)
            rerun_writes = count_writes(emu) - before
            return summarize(emu, day, ledger, cycles, elapsed, rerun_writes,
                             (first_kb.sent, second_kb.sent, second_kb.gaps or 0))
        finally:
            rt.close()


ROWS = [
    ("tickets seeded / triaged", "tickets_seeded", "tickets_triaged"),
    ("draft notes on new tickets", "tickets_seeded", "drafts_on_created"),
    ("owners set (routed to a mapped agent)", "owners_expected", "owners_set"),
    ("customer messages / analyzed", "customer_messages_seeded", "messages_analyzed"),
    ("contacts that wrote / updated", "contacts_seeded", "contacts_updated"),
    ("escalating tickets / at HIGH or above", "escalations_seeded",
     "escalated_at_high_or_above"),
    ("moves to Waiting on us / drafts", "stage_moves_seeded", "drafts_on_stage"),
    ("tickets closed / QA scored", "tickets_closed", "tickets_closed_scored"),
    ("KB articles published / synced", "kb_articles_published", "kb_articles_synced"),
]


def _print_human(s: dict[str, Any]) -> None:
    print("hubsync demo: one support day against the HubSpot emulator and Simpli stand-ins\n")
    extras = [
        ("visitor threads (no contact to update)", s["visitor_threads"]),
        ("priority raises written (rest already high)", s["priority_raises_written"]),
        ("tickets reopened", s["tickets_reopened"]),
        ("KB articles re-sent after one edit", s["kb_articles_resynced_after_edit"]),
        ("KB gaps reported", s["kb_gaps"]),
        ("events failed / writes dead", f"{s['events_failed']} / {s['writes_dead']}"),
        ("HubSpot requests / write calls", f"{s['hubspot_requests']} / {s['hubspot_writes']}"),
        ("writes on a second run", s["rerun_writes"]),
        ("cycles / elapsed", f"{s['cycles']} / {s['elapsed_s']} s"),
    ]
    width = max(len(label) for label in [r[0] for r in ROWS] + [e[0] for e in extras]) + 2
    print(f"  {'flow':<{width}}{'seeded':>8}{'done':>8}")
    for label, seeded, done in ROWS:
        mark = "" if s[seeded] == s[done] else "   <-- mismatch"
        print(f"  {label:<{width}}{s[seeded]:>8}{s[done]:>8}{mark}")
    print()
    for label, value in extras:
        print(f"  {label:<{width}}{value!s:>16}")


CHECKS = [(seeded, done) for _, seeded, done in ROWS] + [("stage_moves_seeded",
                                                          "drafts_on_stage")]


def main(*, tickets: int, as_json: bool, ledger_url: str | None) -> int:
    logs.configure("warning", "json" if as_json else "auto", stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="hubsync-demo-") as tmp:
        url = ledger_url or f"sqlite:///{Path(tmp) / 'ledger.db'}"
        summary = run_demo(tickets, url)
    if as_json:
        print(json.dumps(summary, sort_keys=True))
    else:
        _print_human(summary)
    ok = (all(summary[a] == summary[b] for a, b in CHECKS) and summary["rerun_writes"] == 0
          and summary["tickets_reopened"] == 1 and summary["kb_articles_resynced_after_edit"] == 1
          and summary["events_failed"] == 0 and summary["writes_dead"] == 0)
    return 0 if ok else 1


# Offsets from --simpli-port, matching the default base URLs in config.yaml (8001…8006).
SERVE_LAYOUT = (("triage", 0), ("reply", 1), ("qa", 2), ("sentiment", 3), ("kb", 5))


def serve(host: str, port: int, simpli_port: int, token: str, n_seed: int) -> int:
    """Serve the emulators until interrupted (for trying the daemon by hand).

    The token is the emulator's own, not a HubSpot secret, so it is printed.
    """
    logs.configure("info", "auto")
    from hubsync.emulators import simpli as simpli_mod
    classes = {"triage": simpli_mod.TriageStandIn, "reply": simpli_mod.ReplyStandIn,
               "qa": simpli_mod.QAStandIn, "sentiment": simpli_mod.SentimentStandIn,
               "kb": simpli_mod.KBStandIn}
    emu = HubSpotEmulator(token=token, host=host, port=port).start()
    services = {name: classes[name](host=host, port=simpli_port + offset).start()
                for name, offset in SERVE_LAYOUT}
    if n_seed:
        seed(emu, n_seed)
    print(f"HubSpot emulator  {emu.base_url}   token: {token}")
    for name, svc in services.items():
        print(f"Simpli {name:<10} {svc.base_url}")
    print(f"In config.yaml: base_url: {emu.base_url} and token: {token}. Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for svc in services.values():
            svc.stop()
        emu.stop()
    return 0

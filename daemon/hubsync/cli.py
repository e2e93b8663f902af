"""The ``hubsync`` command.

Exit codes: 0 success; 1 a runtime failure (HubSpot unreachable, ledger unusable);
2 bad configuration or usage; 75 another instance holds the ledger lock.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from hubsync import __version__, errors

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 75


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default=os.environ.get("HUBSYNC_CONFIG"),
                        help="config file (default: $HUBSYNC_CONFIG or /etc/hubsync/config.yaml)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubsync", description=(
        "Polling sync between HubSpot Service Hub and the Simpli AI services."))
    parser.add_argument("--version", action="version", version=f"hubsync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the daemon (or one cycle with --once)")
    _config_arg(p)
    p.add_argument("--once", action="store_true", help="run one full cycle, then exit")

    p = sub.add_parser("migrate", help="create or upgrade the ledger schema")
    _config_arg(p)

    p = sub.add_parser("check-config", help="validate the config file and exit")
    _config_arg(p)

    p = sub.add_parser("status", help="what the ledger holds: events, writes, cursors, problems")
    _config_arg(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("requeue", help="retry failed and dead events and dead writes")
    _config_arg(p)
    p.add_argument("--portal", help="only this portal")

    p = sub.add_parser("setup", help="create the HubSpot properties hubsync writes")
    _config_arg(p)
    p.add_argument("--check", action="store_true", help="only report; change nothing")

    p = sub.add_parser("kb", help="knowledge-base sync to Simpli KB")
    kb_sub = p.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    q = kb_sub.add_parser("sync", help="send new or changed articles, then fetch the gaps")
    _config_arg(q)
    q = kb_sub.add_parser("gaps", help="print the latest gap report from the ledger")
    _config_arg(q)

    p = sub.add_parser("emulate", help="serve the HubSpot emulator and Simpli stand-ins")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090, help="HubSpot emulator port")
    p.add_argument("--simpli-port", type=int, default=8001,
                   help="Simpli triage port; reply +1, qa +2, sentiment +3, kb +5 (config.yaml defaults)")
    p.add_argument("--token", default=os.environ.get("HUBSYNC_EMULATOR_TOKEN",
                                                     "pat-na1-emulator"))
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed N demo tickets at start")

    p = sub.add_parser("demo", help="run end to end against the built-in emulators")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--ledger", help="ledger URL (default: SQLite in a temporary directory)")
    return parser


def _load(path: str | None):  # type: ignore[no-untyped-def]
    from hubsync import config
    return config.load(path)


def cmd_check_config(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    print(f"config ok: {len(cfg.portals)} portal(s): {', '.join(p.id for p in cfg.portals)}; "
          f"ledger {cfg.ledger.url.split('://')[0]}")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from hubsync import logs
    from hubsync.ledger import migrate
    cfg = _load(args.config)
    logs.configure(cfg.logging.level, cfg.logging.format)
    migrate.upgrade(cfg.ledger.url)
    print("ledger migrated to the newest schema")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from hubsync import logs, sync, wiring
    from hubsync.clock import SystemClock
    from hubsync.daemon import Daemon
    from hubsync.ledger.lock import InstanceLock
    from hubsync.ledger.store import Ledger

    cfg = _load(args.config)
    logs.configure(cfg.logging.level, cfg.logging.format)
    lock = InstanceLock(cfg.ledger.url, cfg.ledger.lock_path)
    lock.acquire()
    try:
        clock = SystemClock()
        rt = wiring.build(cfg, Ledger.open(cfg.ledger.url, clock), clock)
        try:
            if args.once:
                return EXIT_OK if sync.run_once(rt).ok else EXIT_FAILED
            Daemon(rt).run()
            return EXIT_OK
        finally:
            rt.close()
    finally:
        lock.release()


def cmd_status(args: argparse.Namespace) -> int:
    import json as json_mod

    from hubsync.clock import SystemClock
    from hubsync.ledger.store import Ledger

    cfg = _load(args.config)
    ledger = Ledger.open(cfg.ledger.url, SystemClock())
    try:
        status: dict[str, Any] = {
            "events": ledger.event_counts(),
            "writes": {f"{kind}:{state}": n for (kind, state), n in
                       sorted(ledger.op_counts().items())},
            "cursors": [{"portal": p, "stream": s, "lane": la, "position": pos}
                        for p, s, la, pos in ledger.all_cursors()],
            "problems": [{"portal": p, "what": w, "id": i, "status": st, "reason": r}
                         for p, w, i, st, r in ledger.problems()],
        }
    finally:
        ledger.close()
    if args.json:
        print(json_mod.dumps(status, sort_keys=True))
        return EXIT_OK
    print("events:  " + (", ".join(f"{k} {v}" for k, v in sorted(status["events"].items()))
                         or "none"))
    print("writes:  " + (", ".join(f"{k} {v}" for k, v in status["writes"].items()) or "none"))
    for c in status["cursors"]:
        print(f"cursor:  {c['portal']}/{c['stream']}/{c['lane']} {c['position']}")
    for prob in status["problems"]:
        print(f"problem: {prob['portal']} {prob['what']} {prob['id']} {prob['status']}: "
              f"{prob['reason'][:200]}")
    return EXIT_OK


def cmd_requeue(args: argparse.Namespace) -> int:
    from hubsync.clock import SystemClock
    from hubsync.ledger.store import Ledger

    cfg = _load(args.config)
    ledger = Ledger.open(cfg.ledger.url, SystemClock())
    try:
        events, writes = ledger.requeue(args.portal)
    finally:
        ledger.close()
    print(f"requeued {events} event(s) and {writes} write(s); the next cycle retries them")
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    import requests

    from hubsync import logs
    from hubsync.clock import SystemClock
    from hubsync.hubspot import schema
    from hubsync.wiring import hubspot_http

    cfg = _load(args.config)
    logs.configure(cfg.logging.level, cfg.logging.format, stream=sys.stderr)
    ok = True
    with requests.Session() as session:
        for portal in cfg.portals:
            report = schema.ensure(hubspot_http(portal, session, SystemClock()),
                                   check_only=args.check)
            for line in report.lines():
                print(f"{portal.id}: {line}")
            ok = ok and report.ok()
    return EXIT_OK if ok else EXIT_FAILED


def cmd_kb(args: argparse.Namespace) -> int:
    from hubsync import kbjob, logs, wiring
    from hubsync.clock import SystemClock
    from hubsync.ledger.store import Ledger

    cfg = _load(args.config)
    logs.configure(cfg.logging.level, cfg.logging.format, stream=sys.stderr)
    clock = SystemClock()
    ledger = Ledger.open(cfg.ledger.url, clock)
    if args.kb_command == "gaps":
        try:
            print(kbjob.gaps_text(cfg, ledger))
        finally:
            ledger.close()
        return EXIT_OK
    rt = wiring.build(cfg, ledger, clock)
    try:
        reports = kbjob.run(rt)
    finally:
        rt.close()
    for portal, report in reports.items():
        print(f"{portal}: {report.seen} articles ({report.source}), {report.sent} sent, "
              f"{report.unchanged} unchanged, {len(report.failed)} failed, {report.gaps} gaps")
    ok = len(reports) == len(cfg.portals) and all(not r.failed for r in reports.values())
    return EXIT_OK if ok else EXIT_FAILED


def cmd_emulate(args: argparse.Namespace) -> int:
    from hubsync import demo
    return demo.serve(args.host, args.port, args.simpli_port, args.token, args.seed)


def cmd_demo(args: argparse.Namespace) -> int:
    from hubsync import demo
    return demo.main(tickets=args.tickets, as_json=args.json, ledger_url=args.ledger)


COMMANDS = {"run": cmd_run, "migrate": cmd_migrate, "check-config": cmd_check_config,
            "status": cmd_status, "requeue": cmd_requeue, "setup": cmd_setup, "kb": cmd_kb,
            "emulate": cmd_emulate, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except errors.ConfigError as exc:
        print(f"hubsync: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except errors.LedgerLocked as exc:
        print(f"hubsync: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except errors.HubsyncError as exc:
        from hubsync.logs import scrub_text
        print(f"hubsync: {scrub_text(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""HubSpot misbehaving: 429 storms, 5xx, answers lost before or after the write."""

from __future__ import annotations

import time
from collections.abc import Callable

from hubsync import sync, wiring
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger.records import EventStatus, OpState

from .conftest import TOKEN, config_dict, seed

Make = Callable[..., wiring.Runtime]


def build(hubspot: HubSpotEmulator, simpli: SimpliStandIns, url: str,
          **overrides: object) -> wiring.Runtime:
    from hubsync import config as config_mod
    from hubsync.clock import SystemClock
    from hubsync.ledger import migrate
    from hubsync.ledger.store import Ledger
    cfg = config_mod.Config.model_validate(config_dict(hubspot, simpli, url, **overrides))
    migrate.upgrade(url)
    return wiring.build(cfg, Ledger.open(url, SystemClock()), SystemClock())


def test_a_too_generous_budget_is_corrected_by_hubspots_headers(
        simpli: SimpliStandIns, sqlite_url: str) -> None:
    """HubSpot allows 6 calls per second; the config (wrongly) allows 100. The
    X-HubSpot-RateLimit-* headers slow the budget down before HubSpot has to say 429."""
    with HubSpotEmulator(token=TOKEN, burst_limit=6, burst_window_s=1.0) as strict:
        ids = seed(strict, 150)
        rt = build(strict, simpli, sqlite_url, portals=[{
            "id": "main", "base_url": strict.base_url, "token": TOKEN,
            "rate": {"burst_max": 100, "burst_window_s": 1}}])
        try:
            sync.run_once(rt)
            assert sum(1 for r in strict.requests if r.status == 429) == 0
            assert all(len(strict.notes_for_ticket(t)) == 1 for t in ids)
        finally:
            rt.close()


def test_a_429_storm_slows_down_but_loses_nothing(hubspot: HubSpotEmulator,
                                                  make_runtime: Make, sqlite_url: str) -> None:
    ids = seed(hubspot, 150)
    for path in (r"/tickets/batch/update$", r"/notes/batch/create$", r"/tickets/search$"):
        method = "POST"
        hubspot.inject(method, path, status=429, times=2, headers={"Retry-After": "1"})
    rt = make_runtime(sqlite_url)
    for _ in range(5):
        sync.run_once(rt)
        if all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids) and \
                all(hubspot.ticket(t)["ai_category"] for t in ids):
            break
    assert sum(1 for r in hubspot.requests if r.status == 429) == 6
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)
    assert all(hubspot.ticket(t)["ai_category"] for t in ids)
    assert rt.ledger.event_counts("main") == {EventStatus.DONE: 150}
    assert not any(state == OpState.DEAD for _, state in rt.ledger.op_counts("main"))


def test_5xx_on_batch_update_is_retried(hubspot: HubSpotEmulator, make_runtime: Make,
                                        sqlite_url: str) -> None:
    ids = seed(hubspot, 5)
    hubspot.inject("POST", r"/tickets/batch/update$", status=502, times=2)
    rt = make_runtime(sqlite_url)
    report = sync.run_once(rt)
    assert report.counts["updates_done"] == 5
    assert hubspot.count("POST", "/crm/v3/objects/tickets/batch/update") == 3
    assert all(hubspot.ticket(t)["ai_category"] for t in ids)


def test_note_5xx_without_commit_is_reconciled_missing_then_posted_once(
        hubspot: HubSpotEmulator, make_runtime: Make, sqlite_url: str) -> None:
    """A 500 after sending: unknown outcome. The marker is not found, so it is re-posted."""
    ids = seed(hubspot, 4)
    hubspot.inject("POST", r"/notes/batch/create$", status=500)      # not executed
    rt = make_runtime(sqlite_url)          # reconcile_after_s is 0 in these tests
    report = sync.run_once(rt)
    report.counts.update(sync.run_once(rt).counts)
    assert report.counts["notes_unknown"] == 4
    assert report.counts["reconciled_missing"] == 4
    assert hubspot.count("POST", "/crm/v3/objects/notes/batch/create") == 2
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)


def test_note_5xx_after_commit_is_reconciled_found_and_never_reposted(
        hubspot: HubSpotEmulator, make_runtime: Make, sqlite_url: str) -> None:
    ids = seed(hubspot, 4)
    hubspot.inject("POST", r"/notes/batch/create$", status=504, after_commit=True)
    rt = make_runtime(sqlite_url)
    report = sync.run_once(rt)
    report.counts.update(sync.run_once(rt).counts)
    assert report.counts["reconciled_found"] == 4
    assert hubspot.count("POST", "/crm/v3/objects/notes/batch/create") == 1
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)


def test_note_429_is_not_executed_and_goes_out_after_retry_after(
        hubspot: HubSpotEmulator, make_runtime: Make, sqlite_url: str) -> None:
    """A 429 means "not executed": no reconciliation needed, the same notes go out once
    Retry-After has passed (not the fixed 30 s used when HubSpot is unreachable)."""
    ids = seed(hubspot, 3)
    hubspot.inject("POST", r"/notes/batch/create$", status=429,
                   headers={"Retry-After": "1"})
    rt = make_runtime(sqlite_url)
    report = sync.run_once(rt)
    assert report.counts["notes_deferred"] == 3 and hubspot.all_notes() == []
    time.sleep(1.1)
    report.counts.update(sync.run_once(rt).counts)
    assert report.counts["reconciled_found"] == report.counts["reconciled_missing"] == 0
    assert hubspot.count("POST", "/crm/v3/objects/notes/batch/create") == 2
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)

"""The real `hubsync` process: run --once twice, crash mid-write, second instance, secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hubsync.demo import count_writes
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns

from .conftest import TOKEN, config_dict, seed


def write_config(tmp_path: Path, hubspot: HubSpotEmulator, simpli: SimpliStandIns,
                 ledger_url: str, **overrides: object) -> Path:
    raw = config_dict(hubspot, simpli, ledger_url, **overrides)
    raw["portals"][0]["token"] = "${HUBSPOT_TOKEN}"
    raw["logging"] = {"level": "info", "format": "json"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def hubsync(*args: str, env_extra: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HUBSPOT_TOKEN": TOKEN,
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "hubsync", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.fixture
def cfg_path(tmp_path: Path, hubspot: HubSpotEmulator, simpli: SimpliStandIns,
             ledger_url: str) -> Path:
    path = write_config(tmp_path, hubspot, simpli, ledger_url)
    assert hubsync("migrate", "--config", str(path)).returncode == 0
    return path


def test_run_once_twice_second_run_writes_nothing(hubspot: HubSpotEmulator,
                                                 cfg_path: Path) -> None:
    seed(hubspot, 25)
    first = hubsync("run", "--once", "--config", str(cfg_path))
    assert first.returncode == 0, first.stderr
    assert '"event": "cycle_finished"' in first.stdout
    writes = count_writes(hubspot)
    patches = hubspot.count("PATCH") + hubspot.count("POST", "/crm/v3/objects/tickets/batch/update")
    notes = hubspot.count("POST", "/crm/v3/objects/notes")
    assert writes > 0 and notes > 0 and patches > 0
    second = hubsync("run", "--once", "--config", str(cfg_path))
    assert second.returncode == 0, second.stderr
    assert hubspot.count("PATCH") + hubspot.count(
        "POST", "/crm/v3/objects/tickets/batch/update") == patches      # 0 new updates
    assert hubspot.count("POST", "/crm/v3/objects/notes") == notes    # 0 new note creations
    assert TOKEN not in first.stdout + first.stderr + second.stdout + second.stderr


def test_sigkill_between_post_and_record_never_duplicates_a_note(
        hubspot: HubSpotEmulator, cfg_path: Path) -> None:
    """The process dies right after HubSpot created the notes, before the ledger knew."""
    ids = seed(hubspot, 12)
    crashed = hubsync("run", "--once", "--config", str(cfg_path),
                      env_extra={"HUBSYNC_FAILPOINT": "after_post_before_record"})
    assert crashed.returncode == -signal.SIGKILL
    assert len(hubspot.all_notes()) == 12                 # HubSpot has them; the ledger does not
    again = hubsync("run", "--once", "--config", str(cfg_path))
    assert again.returncode == 0, again.stderr
    assert '"result": "found"' in again.stdout            # reconciled, not re-posted
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)
    assert all(hubspot.ticket(t)["ai_category"] for t in ids)


def test_sigkill_after_intent_commit_posts_each_note_once(
        hubspot: HubSpotEmulator, cfg_path: Path) -> None:
    ids = seed(hubspot, 8)
    crashed = hubsync("run", "--once", "--config", str(cfg_path),
                      env_extra={"HUBSYNC_FAILPOINT": "after_intent_commit"})
    assert crashed.returncode == -signal.SIGKILL
    assert hubspot.all_notes() == []                      # died before the POST
    assert hubsync("run", "--once", "--config", str(cfg_path)).returncode == 0
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)


def test_lost_response_is_reconciled_not_reposted(hubspot: HubSpotEmulator,
                                                  cfg_path: Path) -> None:
    """HubSpot saves the notes but the connection drops before the answer."""
    ids = seed(hubspot, 10)
    hubspot.inject("POST", r"/notes/batch/create$", status=None, after_commit=True)
    first = hubsync("run", "--once", "--config", str(cfg_path))
    assert first.returncode == 0, first.stderr
    assert '"event": "note_outcome_unknown"' in first.stdout
    assert hubsync("run", "--once", "--config", str(cfg_path)).returncode == 0
    assert all(len(hubspot.notes_for_ticket(t)) == 1 for t in ids)
    assert hubspot.count("POST", "/crm/v3/objects/notes/batch/create") == 1


def test_second_instance_exits_75(hubspot: HubSpotEmulator, cfg_path: Path,
                                  ledger_url: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HUBSPOT_TOKEN": TOKEN}
    daemon = subprocess.Popen([sys.executable, "-m", "hubsync", "run", "--config",
                               str(cfg_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        deadline = time.monotonic() + 20
        while hubspot.count("POST", "/crm/v3/objects/tickets/search") == 0:
            assert time.monotonic() < deadline, "daemon never polled"
            time.sleep(0.1)
        started = time.monotonic()
        second = hubsync("run", "--config", str(cfg_path), timeout=10)
        assert second.returncode == 75
        assert "another hubsync" in second.stderr
        assert time.monotonic() - started < 5
        assert daemon.poll() is None                       # the first is unaffected
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert '"event": "shutdown_requested"' in out


def test_wrong_token_fails_without_leaking_it(tmp_path: Path, hubspot: HubSpotEmulator,
                                             simpli: SimpliStandIns, sqlite_url: str) -> None:
    canary = "pat-na1-00000000-0000-0000-0000-CANARY000000"
    path = write_config(tmp_path, hubspot, simpli, sqlite_url)
    assert hubsync("migrate", "--config", str(path)).returncode == 0
    seed(hubspot, 2)
    proc = hubsync("run", "--once", "--config", str(path), env_extra={"HUBSPOT_TOKEN": canary})
    assert proc.returncode == 1
    assert '"event": "portal_auth_failed"' in proc.stdout
    assert canary not in proc.stdout + proc.stderr
    assert count_writes(hubspot) == 0
    ledger_file = Path(sqlite_url.removeprefix("sqlite:///"))
    assert canary.encode() not in ledger_file.read_bytes()

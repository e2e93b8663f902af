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


def test_second_instance_exits_75(hubspot: HubSpotEmulator, cfg_path: Path, tmp_path: Path,
                                  ledger_url: str) -> None:
    """Also: the daemon speaks sd_notify — READY after its first cycle, STOPPING on SIGTERM."""
    import socket
    notify_path = str(tmp_path / "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(20)
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HUBSPOT_TOKEN": TOKEN,
           "NOTIFY_SOCKET": notify_path}
    daemon = subprocess.Popen([sys.executable, "-m", "hubsync", "run", "--config",
                               str(cfg_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    received: list[str] = []
    try:
        while "READY=1" not in received:
            received.extend(notify.recv(4096).decode().split("\n"))
        assert any(m.startswith("STATUS=cycle ok") for m in received)
        started = time.monotonic()
        second = hubsync("run", "--config", str(cfg_path), timeout=10)
        assert second.returncode == 75
        assert "another hubsync" in second.stderr
        assert time.monotonic() - started < 5
        assert daemon.poll() is None                       # the first is unaffected
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    while "STOPPING=1" not in received:
        received.extend(notify.recv(4096).decode().split("\n"))
    notify.close()
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


def test_setup_twice_second_run_creates_nothing(tmp_path: Path, simpli: SimpliStandIns,
                                                sqlite_url: str) -> None:
    with HubSpotEmulator(token=TOKEN, custom_properties=False) as bare:
        path = write_config(tmp_path, bare, simpli, sqlite_url)
        check = hubsync("setup", "--check", "--config", str(path))
        assert check.returncode == 1                       # something to do: not ok
        assert "would create tickets.ai_category" in check.stdout
        assert bare.count("POST") + bare.count("PATCH") == 0
        first = hubsync("setup", "--config", str(path))
        assert first.returncode == 0, first.stderr
        assert first.stdout.count("created") >= 6
        writes = bare.count("POST") + bare.count("PATCH")
        second = hubsync("setup", "--config", str(path))
        assert second.returncode == 0, second.stderr
        assert "created" not in second.stdout
        assert bare.count("POST") + bare.count("PATCH") == writes
        assert hubsync("setup", "--check", "--config", str(path)).returncode == 0


def test_kb_sync_and_gaps_commands(hubspot: HubSpotEmulator, simpli: SimpliStandIns,
                                   cfg_path: Path) -> None:
    assert "no gap report yet" in hubsync("kb", "gaps", "--config", str(cfg_path)).stdout
    hubspot.seed_kb_article("How to reset your password", "<p>Settings, Security.</p>")
    hubspot.seed_kb_article("Draft", "<p>not yet</p>", state="DRAFT")
    first = hubsync("kb", "sync", "--config", str(cfg_path))
    assert first.returncode == 0, first.stderr
    assert "1 sent" in first.stdout
    assert simpli.kb.count("/articles") == 1
    second = hubsync("kb", "sync", "--config", str(cfg_path))
    assert "0 sent, 1 unchanged" in second.stdout
    assert simpli.kb.count("/articles") == 1
    gaps = hubsync("kb", "gaps", "--config", str(cfg_path))
    assert gaps.returncode == 0 and "[main]" in gaps.stdout
    assert "billing" in gaps.stdout.lower()               # a topic no article covers


def test_status_and_requeue_after_a_bad_ai_answer(hubspot: HubSpotEmulator,
                                                  simpli: SimpliStandIns,
                                                  cfg_path: Path) -> None:
    import json
    [tid] = seed(hubspot, 1)
    simpli.triage.override("/classify", {"category": "billing", "urgency": "extreme",
                                         "confidence": 0.5})
    assert hubsync("run", "--once", "--config", str(cfg_path)).returncode == 0
    status = json.loads(hubsync("status", "--json", "--config", str(cfg_path)).stdout)
    assert status["events"] == {"failed": 1}
    [problem] = status["problems"]
    assert problem["id"] == tid and "urgency" in problem["reason"]
    assert not hubspot.ticket(tid)["ai_category"]
    requeued = hubsync("requeue", "--config", str(cfg_path))
    assert "requeued 1 event(s)" in requeued.stdout
    assert hubsync("run", "--once", "--config", str(cfg_path)).returncode == 0
    assert hubspot.ticket(tid)["ai_category"]            # the override was used up: fixed
    status = json.loads(hubsync("status", "--json", "--config", str(cfg_path)).stdout)
    assert status["events"] == {"done": 1} and status["problems"] == []


def test_emulate_serves_what_the_shipped_config_expects(tmp_path: Path) -> None:
    """`hubsync emulate` serves the Simpli stand-ins on the ports config.yaml expects."""
    import socket

    import requests

    def free_range(width: int) -> int:
        """A port p with p … p+width-1 all free right now (ephemeral ports are shared)."""
        for _ in range(50):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                base = int(s.getsockname()[1])
            if base + width > 65535:
                continue
            try:
                for port in range(base, base + width):
                    with socket.socket() as probe:
                        probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
        raise AssertionError("no free port range")

    port = free_range(7)
    proc = subprocess.Popen([sys.executable, "-m", "hubsync", "emulate", "--port", str(port),
                             "--simpli-port", str(port + 1), "--seed", "3",
                             "--token", TOKEN], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = "".join(proc.stdout.readline() for _ in range(7))
        assert f"http://127.0.0.1:{port}" in banner and TOKEN in banner
        for name, offset in (("triage", 0), ("reply", 1), ("qa", 2), ("sentiment", 3),
                             ("kb", 5)):
            assert requests.get(f"http://127.0.0.1:{port + 1 + offset}/health",
                                timeout=5).json() == {"status": "ok"}, name
        answer = requests.post(f"http://127.0.0.1:{port}/crm/v3/objects/tickets/search",
                               json={"limit": 10}, timeout=5,
                               headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert answer["total"] == 3
    finally:
        proc.terminate()
        proc.communicate(timeout=10)

"""Config parsing: defaults, env expansion, and errors that name the field but not the value."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubsync import config, errors

MINIMAL = """
portals:
  - id: main
    token: ${HUBSPOT_TOKEN}
"""
SECRET = "pat-na1-11111111-2222-3333-4444-555555555555"


def problems(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(errors.ConfigError) as info:
        config.parse(text, {"HUBSPOT_TOKEN": SECRET} if env is None else env)
    assert SECRET not in str(info.value)
    return dict(info.value.problems)


class TestParse:
    def test_minimal_file_gets_the_defaults(self) -> None:
        cfg = config.parse(MINIMAL, {"HUBSPOT_TOKEN": SECRET})
        portal = cfg.portals[0]
        assert portal.read_token() == SECRET
        assert portal.base_url == "https://api.hubapi.com"
        assert portal.rate.search_per_s == 4 and portal.rate.burst_max == 152
        assert portal.priority_map["critical"] == "URGENT"
        assert cfg.polling.page_size == 200
        assert cfg.ledger.url.startswith("sqlite:///")

    def test_the_shipped_config_yaml_is_valid(self) -> None:
        text = (Path(__file__).parents[2] / "config.yaml").read_text()
        cfg = config.parse(text, {"HUBSPOT_TOKEN": SECRET})
        assert cfg.portals[0].owners == {"A-012": "101", "A-021": "102"}

    def test_env_default_is_used_when_variable_missing(self) -> None:
        cfg = config.parse(MINIMAL.replace("${HUBSPOT_TOKEN}", "${NOPE:-pat-x}"), {})
        assert cfg.portals[0].read_token() == "pat-x"

    def test_missing_env_variable_names_the_field(self) -> None:
        found = problems(MINIMAL, env={})
        assert "environment variable HUBSPOT_TOKEN is not set" in found["portals[0].token"]

    def test_missing_token(self) -> None:
        found = problems("portals:\n  - id: main\n")
        assert "portals[0]" in " ".join(found) and "token" in " ".join(found.values())

    @pytest.mark.parametrize("url", ["not a url", "ftp://api.hubapi.com", "http://api.hubapi.com",
                                     "https://user:pw@api.hubapi.com", "https://"])
    def test_malformed_or_insecure_url(self, url: str) -> None:
        found = problems(MINIMAL + f"    base_url: {url}\n")
        assert "portals[0].base_url" in found

    def test_plain_http_is_fine_on_loopback(self) -> None:
        cfg = config.parse(MINIMAL + "    base_url: http://127.0.0.1:8090/\n",
                           {"HUBSPOT_TOKEN": SECRET})
        assert cfg.portals[0].base_url == "http://127.0.0.1:8090"

    def test_unknown_key(self) -> None:
        found = problems(MINIMAL + "polling:\n  tickets_intervall_s: 5\n")
        assert "polling.tickets_intervall_s" in found

    def test_negative_interval(self) -> None:
        found = problems(MINIMAL + "polling:\n  tickets_interval_s: -5\n")
        assert "greater than 0" in found["polling.tickets_interval_s"]

    def test_bad_priority_value_names_the_key(self) -> None:
        found = problems(MINIMAL + "    priority_map: {critical: SEVERE}\n")
        assert any(k.startswith("portals[0].priority_map") for k in found)

    def test_owner_ids_must_be_numeric(self) -> None:
        found = problems(MINIMAL + "    owners: {A-012: A-012}\n")
        assert "portals[0].owners" in found

    def test_duplicate_portal_ids(self) -> None:
        text = MINIMAL + "  - id: main\n    token: x\n"
        assert "portals" in problems(text)

    def test_yaml_syntax_error_gives_the_line(self) -> None:
        found = problems("portals:\n\t- id: main\n")
        assert found == {"line 2": "not valid YAML"}

    def test_token_file_under_credentials_directory(self, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        (tmp_path / "hubspot_token").write_text(SECRET + "\n")
        monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
        cfg = config.parse("portals:\n  - id: main\n    token_file: hubspot_token\n", {})
        assert cfg.portals[0].read_token() == SECRET

    def test_secret_is_masked_in_repr(self) -> None:
        cfg = config.parse(MINIMAL, {"HUBSPOT_TOKEN": SECRET})
        assert SECRET not in repr(cfg) and SECRET not in str(cfg.model_dump())


class TestCheckConfigCommand:
    """Bad config exits 2 within 2 s, naming the field, with no traceback and no secret."""

    @pytest.mark.parametrize(("body", "field"), [
        ("portals:\n  - id: main\n", "portals[0]"),
        (MINIMAL + "    base_url: htp:/bad\n", "portals[0].base_url"),
        (MINIMAL + "surprise: 1\n", "surprise"),
        (MINIMAL + "polling:\n  tickets_interval_s: -1\n", "polling.tickets_interval_s"),
    ])
    def test_exit_2_naming_the_field(self, tmp_path: Path, body: str, field: str) -> None:
        path = tmp_path / "config.yaml"
        path.write_text(body)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "hubsync", "check-config", "--config", str(path)],
            capture_output=True, text=True, env={"HUBSPOT_TOKEN": SECRET, "PATH": "/usr/bin"},
            timeout=10)
        elapsed = time.monotonic() - started
        assert proc.returncode == 2
        assert field in proc.stderr
        assert "Traceback" not in proc.stderr
        assert SECRET not in proc.stderr + proc.stdout
        assert elapsed < 2.0

    def test_good_config_exits_0(self, tmp_path: Path) -> None:
        path = tmp_path / "config.yaml"
        path.write_text(MINIMAL)
        proc = subprocess.run(
            [sys.executable, "-m", "hubsync", "check-config", "--config", str(path)],
            capture_output=True, text=True, env={"HUBSPOT_TOKEN": SECRET, "PATH": "/usr/bin"},
            timeout=10)
        assert proc.returncode == 0, proc.stderr
        assert "config ok: 1 portal(s): main" in proc.stdout

    def test_missing_file_exits_2(self, tmp_path: Path) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "hubsync", "check-config", "--config",
             str(tmp_path / "nope.yaml")], capture_output=True, text=True, timeout=10)
        assert proc.returncode == 2 and "cannot read file" in proc.stderr

"""Fixtures for end-to-end tests: real emulators on loopback, a real ledger, the real daemon."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hubsync import config as config_mod
from hubsync import demo, wiring
from hubsync.clock import SystemClock
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import SimpliStandIns
from hubsync.ledger import migrate
from hubsync.ledger.store import Ledger

TOKEN = f"pat-na1-{uuid.uuid4()}"


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(token=TOKEN) as emu:
        yield emu


@pytest.fixture
def simpli() -> Iterator[SimpliStandIns]:
    with SimpliStandIns() as stand_ins:
        yield stand_ins


def config_dict(hubspot: HubSpotEmulator, simpli: SimpliStandIns, ledger_url: str, /,
                **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "portals": [{"id": "main", "base_url": hubspot.base_url, "token": TOKEN,
                     "owners": dict(demo.DEMO_OWNERS)}],
        "ledger": {"url": ledger_url},
        "simpli": {name: {"base_url": simpli.urls[name], "timeout_s": 5}
                   for name in ("triage", "reply", "sentiment", "qa", "kb")},
        "polling": {"overlap_s": 60},
        "processing": {"retry_base_s": 1, "retry_cap_s": 2},
        "writeback": {"reconcile_after_s": 0},
        "logging": {"level": "warning"},
        "metrics": {"port": 0},
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], **values}
        else:
            raw[section] = values
    return raw


@pytest.fixture
def make_runtime(hubspot: HubSpotEmulator, simpli: SimpliStandIns
                 ) -> Iterator[Callable[..., wiring.Runtime]]:
    """Build a runtime on a migrated ledger: ``make_runtime(ledger_url, **overrides)``."""
    built: list[wiring.Runtime] = []

    def make(ledger_url: str, /, **overrides: Any) -> wiring.Runtime:
        cfg = config_mod.Config.model_validate(
            config_dict(hubspot, simpli, ledger_url, **overrides))
        migrate.upgrade(ledger_url)
        clock = SystemClock()
        rt = wiring.build(cfg, Ledger.open(ledger_url, clock), clock)
        built.append(rt)
        return rt

    yield make
    for rt in built:
        rt.close()


def seed(hubspot: HubSpotEmulator, n: int) -> list[str]:
    return demo.seed(hubspot, n)

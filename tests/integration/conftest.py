"""Fixtures for the HTTP client tests: a scripted server and a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from .scripted import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    scripted.start()
    yield scripted
    scripted.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened

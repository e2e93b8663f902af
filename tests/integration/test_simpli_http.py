"""SimpliHTTP against a real local HTTP server that answers from a script.

Backoff waits go to a FakeClock (instant, recorded in ``clock.sleeps``). The scripted server is
the same as in ``test_hubspot_http.py``; it is repeated here so each file stands alone.
"""

from __future__ import annotations

import random
import re
import socket
from typing import Any, Protocol

import pytest
import requests
from structlog.testing import capture_logs

from hubsync import errors
from hubsync.clock import FakeClock
from hubsync.simpli.http import NOT_AN_OBJECT, SimpliHTTP

from .scripted import Reply, ScriptedServer

API_KEY = "simpli-key-CANARY-0123456789abcdef"


class MakeSimpli(Protocol):
    def __call__(self, **overrides: Any) -> SimpliHTTP: ...


@pytest.fixture
def make_simpli(server: ScriptedServer, session: requests.Session,
                clock: FakeClock) -> MakeSimpli:
    def make(**overrides: Any) -> SimpliHTTP:
        options: dict[str, Any] = {
            "service": "triage", "session": session, "base_url": server.url,
            "api_key": API_KEY, "clock": clock, "rng": random.Random(42),
        }
        options.update(overrides)
        return SimpliHTTP(**options)
    return make


def closed_port_url() -> str:
    """The URL of a local port nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def envelope(code: str, detail: str, request_id: str = "srv-req-1", **extra: Any) -> dict[str, Any]:
    return {"error_code": code, "detail": detail, "request_id": request_id, **extra}


TICKET = {"ticket_id": "42", "subject": "Cannot log in", "channel": "email"}


# --- headers ---------------------------------------------------------------------------------


def test_sends_the_api_key_and_a_fresh_request_id_on_every_call(
        server: ScriptedServer, make_simpli: MakeSimpli) -> None:
    server.add(Reply(200, {"category": "account"}), Reply(200, {"ok": True}))
    simpli = make_simpli()
    assert simpli.post("/api/v1/triage", TICKET) == {"category": "account"}
    assert simpli.get("/api/v1/models", params={"v": "2"}) == {"ok": True}
    first, second = server.requests
    assert first.json() == TICKET
    assert second.path == "/api/v1/models?v=2"
    for seen in (first, second):
        assert seen.headers["x-api-key"] == API_KEY
        assert "authorization" not in seen.headers
        assert seen.headers["content-type"] == "application/json"
        assert re.fullmatch(r"[0-9a-f]{32}", seen.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_no_api_key_header_without_a_key(server: ScriptedServer,
                                         make_simpli: MakeSimpli) -> None:
    server.add(Reply(200, {}))
    make_simpli(api_key=None).post("/api/v1/triage", TICKET)
    assert "x-api-key" not in server.requests[0].headers


def test_each_retry_gets_its_own_request_id(server: ScriptedServer,
                                            make_simpli: MakeSimpli) -> None:
    server.add(Reply(503), Reply(200, {}))
    make_simpli().post("/api/v1/triage", TICKET)
    ids = {seen.headers["x-request-id"] for seen in server.requests}
    assert len(ids) == 2


# --- errors and retries ----------------------------------------------------------------------


def test_422_is_permanent_without_retry_and_names_the_fields(
        server: ScriptedServer, make_simpli: MakeSimpli, clock: FakeClock) -> None:
    problems = [{"field": "body -> text", "message": "field required"},
                {"field": "body -> channel", "message": "not one of email, chat"}]
    server.add(Reply(422, envelope("VALIDATION_ERROR", "Request validation failed",
                                   errors=problems)), Reply(200, {}))
    with capture_logs() as logs, pytest.raises(errors.SimpliPermanent) as caught:
        make_simpli().post("/api/v1/triage", TICKET)
    error = caught.value
    assert (error.service, error.status, error.error_code) == ("triage", 422, "VALIDATION_ERROR")
    assert error.request_id == "srv-req-1"
    assert "Request validation failed" in str(error)
    assert "body -> text, body -> channel" in str(error)
    assert len(server.requests) == 1
    assert clock.sleeps == []
    [entry] = logs
    assert entry["event"] == "simpli_call_failed"
    assert {key: entry[key] for key in ("service", "path", "status", "error_code", "request_id")} \
        == {"service": "triage", "path": "/api/v1/triage", "status": 422,
            "error_code": "VALIDATION_ERROR", "request_id": "srv-req-1"}


def test_fastapi_style_validation_errors_are_read_too(server: ScriptedServer,
                                                      make_simpli: MakeSimpli) -> None:
    server.add(Reply(422, {"detail": [{"loc": ["body", "text"], "msg": "field required"}]}))
    with pytest.raises(errors.SimpliPermanent, match="body -> text"):
        make_simpli().post("/api/v1/triage", TICKET)


def test_without_a_request_id_in_the_answer_the_sent_one_is_reported(
        server: ScriptedServer, make_simpli: MakeSimpli) -> None:
    server.add(Reply(404, "Not Found"))
    with pytest.raises(errors.SimpliPermanent) as caught:
        make_simpli().get("/api/v1/nothing")
    assert caught.value.request_id == server.requests[0].headers["x-request-id"]


def test_503_twice_then_200_succeeds(server: ScriptedServer, make_simpli: MakeSimpli,
                                     clock: FakeClock) -> None:
    server.add(Reply(503, envelope("INTERNAL_ERROR", "busy")), Reply(503),
               Reply(200, {"sentiment": "negative"}))
    with capture_logs() as logs:
        assert make_simpli().post("/api/v1/sentiment", TICKET) == {"sentiment": "negative"}
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2
    assert 0 < clock.sleeps[0] <= 0.5  # full jitter: uniform(0, base * 2**n), seeded
    assert 0 < clock.sleeps[1] <= 1.0
    assert clock.sleeps[0] != clock.sleeps[1]
    assert [entry["will_retry"] for entry in logs] == [True, True]


def test_three_503s_raise_simpli_transient(server: ScriptedServer, make_simpli: MakeSimpli,
                                           clock: FakeClock) -> None:
    server.add(*[Reply(503, envelope("EXTERNAL_SERVICE_ERROR", "model down"))] * 4)
    with pytest.raises(errors.SimpliTransient) as caught:
        make_simpli().post("/api/v1/triage", TICKET)
    assert caught.value.status == 503
    assert caught.value.error_code == "EXTERNAL_SERVICE_ERROR"
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_retried_statuses(server: ScriptedServer, make_simpli: MakeSimpli, status: int) -> None:
    server.add(Reply(status), Reply(200, {"ok": 1}))
    assert make_simpli().post("/api/v1/triage", TICKET) == {"ok": 1}
    assert len(server.requests) == 2


def test_retry_after_is_honoured_and_capped(server: ScriptedServer, make_simpli: MakeSimpli,
                                            clock: FakeClock) -> None:
    server.add(Reply(429, envelope("RATE_LIMITED", "slow"), {"Retry-After": "2"}),
               Reply(429, headers={"Retry-After": "120"}), Reply(200, {}))
    make_simpli(backoff_cap_s=8.0).post("/api/v1/triage", TICKET)
    assert clock.sleeps == [pytest.approx(2.0), pytest.approx(8.0)]


@pytest.mark.parametrize("body", [[1, 2], "not json at all", "\"a string\"", None])
def test_an_answer_that_is_not_a_json_object_is_permanent(
        server: ScriptedServer, make_simpli: MakeSimpli, body: Any) -> None:
    server.add(Reply(200, body), Reply(200, {}))
    with pytest.raises(errors.SimpliPermanent, match=NOT_AN_OBJECT):
        make_simpli().post("/api/v1/triage", TICKET)
    assert len(server.requests) == 1


def test_connection_refused_is_retried_then_transient(session: requests.Session,
                                                      clock: FakeClock) -> None:
    simpli = SimpliHTTP(service="qa", session=session, base_url=closed_port_url(),
                        api_key=API_KEY, clock=clock)
    with pytest.raises(errors.SimpliTransient) as caught:
        simpli.post("/api/v1/score", TICKET)
    assert caught.value.status is None
    assert len(clock.sleeps) == 2


def test_a_read_timeout_is_retried(server: ScriptedServer, make_simpli: MakeSimpli) -> None:
    server.add(Reply(200, {"late": True}, delay_s=0.6), Reply(200, {"ok": True}))
    assert make_simpli(read_timeout_s=0.3).post("/api/v1/reply", TICKET) == {"ok": True}
    assert len(server.requests) == 2


# --- health ----------------------------------------------------------------------------------


def test_health_is_true_on_200_and_sends_no_key(server: ScriptedServer,
                                                 make_simpli: MakeSimpli) -> None:
    server.add(Reply(200, {"status": "ok"}))
    assert make_simpli().health() is True
    [seen] = server.requests
    assert (seen.method, seen.path) == ("GET", "/health")
    assert "x-api-key" not in seen.headers


def test_health_is_false_on_errors(server: ScriptedServer, make_simpli: MakeSimpli,
                                   session: requests.Session, clock: FakeClock) -> None:
    server.add(Reply(503))
    assert make_simpli().health() is False
    down = SimpliHTTP(service="kb", session=session, base_url=closed_port_url(), api_key=None,
                      clock=clock)
    assert down.health() is False


# --- the API key never leaks -----------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply(401, envelope("AUTHENTICATION_ERROR", f"Invalid API key {API_KEY}", API_KEY)),
    Reply(422, envelope("VALIDATION_ERROR", "bad", errors=[{"field": API_KEY}])),
    Reply(500, envelope(API_KEY, "x" * 190 + API_KEY)),
    Reply(503, {"detail": API_KEY}),
])
def test_the_api_key_never_appears_in_errors_or_logs(
        server: ScriptedServer, make_simpli: MakeSimpli, reply: Reply) -> None:
    server.add(reply, reply, reply)
    with capture_logs() as logs, pytest.raises(errors.SimpliError) as caught:
        make_simpli().post("/api/v1/triage", TICKET)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)
    assert API_KEY not in repr(logs)


def test_the_client_repr_hides_the_key(make_simpli: MakeSimpli) -> None:
    assert API_KEY not in repr(make_simpli())

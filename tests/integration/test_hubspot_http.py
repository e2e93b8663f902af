"""HubSpotHTTP against a real local HTTP server that answers from a script.

Backoff waits go to a FakeClock (instant, recorded in ``clock.sleeps``); only the read-timeout
tests spend real time (a 0.3 s read timeout).
"""

from __future__ import annotations

import json
import random
import socket
from typing import Any, Protocol

import pytest
import requests
from structlog.testing import capture_logs

from hubsync import errors
from hubsync.clock import FakeClock
from hubsync.hubspot.budget import RateBudget
from hubsync.hubspot.http import HubSpotHTTP

from .scripted import Reply, ScriptedServer

TOKEN = "pat-na1-00000000-0000-0000-0000-CANARY000000"
READ_TIMEOUT_S = 0.3


class MakeHTTP(Protocol):
    def __call__(self, **overrides: Any) -> HubSpotHTTP: ...


@pytest.fixture
def make_http(server: ScriptedServer, session: requests.Session, clock: FakeClock) -> MakeHTTP:
    def make(**overrides: Any) -> HubSpotHTTP:
        options: dict[str, Any] = {
            "session": session, "base_url": server.url, "token": TOKEN,
            "budget": RateBudget(clock=clock), "clock": clock, "rng": random.Random(42),
            "read_timeout_s": READ_TIMEOUT_S,
        }
        options.update(overrides)
        return HubSpotHTTP(**options)
    return make


def closed_port_url() -> str:
    """The URL of a local port nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def hubspot_error(status: int, category: str, correlation_id: str = "corr-1",
                  **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": "it went wrong", "correlationId": correlation_id,
            "category": category, **extra}


def rate_limited(policy: str) -> dict[str, Any]:
    return {"status": "error", "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT", "correlationId": "corr-429", "policyName": policy}


def assert_no_token(exc: BaseException) -> None:
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert TOKEN not in json.dumps(getattr(exc, "body", {}))


# --- success and what every request carries ------------------------------------------------


def test_get_sends_bearer_token_and_json_headers_and_returns_parsed_json(
        server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(200, {"id": "1", "properties": {"subject": "Hi"}}))
    http = make_http()
    answer = http.get("/crm/v3/objects/tickets/1", params={"properties": "subject"})
    assert answer == {"id": "1", "properties": {"subject": "Hi"}}
    [seen] = server.requests
    assert seen.method == "GET"
    assert seen.path == "/crm/v3/objects/tickets/1?properties=subject"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["content-type"] == "application/json"
    assert http.calls == 1
    assert http.calls_by_status == {200: 1}


@pytest.mark.parametrize("verb", ["search", "patch", "post"])
def test_body_verbs_send_json(server: ScriptedServer, make_http: MakeHTTP, verb: str) -> None:
    server.add(Reply(200, {"ok": True}))
    http = make_http()
    body = {"filterGroups": [], "limit": 200}
    if verb == "post":
        answer = http.post("/crm/v3/objects/tickets/batch/read", body, idempotent=True)
    else:
        answer = getattr(http, verb)("/crm/v3/objects/tickets/search", body)
    assert answer == {"ok": True}
    [seen] = server.requests
    assert seen.method == ("PATCH" if verb == "patch" else "POST")
    assert seen.json() == body
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"


def test_put_without_body_sends_none_and_empty_answer_is_none(
        server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(204))
    assert make_http().put("/crm/v4/objects/note/1/associations/default/ticket/2") is None
    [seen] = server.requests
    assert (seen.method, seen.body) == ("PUT", b"")


def test_207_returns_the_body_for_the_caller_to_inspect(
        server: ScriptedServer, make_http: MakeHTTP) -> None:
    body = {"status": "COMPLETE", "results": [], "numErrors": 1,
            "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND"}]}
    server.add(Reply(207, body))
    assert make_http().post("/crm/v3/objects/tickets/batch/read", {"inputs": []},
                            idempotent=True) == body


def test_a_redirect_is_not_followed(server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(302, headers={"Location": "http://evil.example/steal"}))
    with pytest.raises(errors.HubSpotPermanent) as caught:
        make_http().get("/crm/v3/objects/tickets/1")
    assert caught.value.status == 302
    assert len(server.requests) == 1


def test_absolute_urls_are_refused(make_http: MakeHTTP) -> None:
    with pytest.raises(ValueError):
        make_http().get("https://evil.example/crm/v3/objects/tickets/1")


def test_rate_limit_headers_feed_the_budget(server: ScriptedServer, make_http: MakeHTTP,
                                            clock: FakeClock) -> None:
    server.add(Reply(200, {}, {"X-HubSpot-RateLimit-Max": "190",
                               "X-HubSpot-RateLimit-Remaining": "38",
                               "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}),
               Reply(200, {}))
    http = make_http()
    http.get("/a")
    http.get("/b")  # nothing left of our share: waits for the window
    assert clock.sleeps == [pytest.approx(10.0)]


# --- 429 -------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_that_long_then_succeeds(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock) -> None:
    server.add(Reply(429, rate_limited("TEN_SECONDLY_ROLLING"), {"Retry-After": "3"}),
               Reply(200, {"total": 0, "results": []}))
    with capture_logs() as logs:
        answer = make_http().search("/crm/v3/objects/tickets/search", {"limit": 1})
    assert answer == {"total": 0, "results": []}
    assert clock.sleeps == [pytest.approx(3.0)]
    assert len(server.requests) == 2
    events = {entry["event"]: entry for entry in logs}
    assert events["hubspot_rate_limited"]["policy"] == "TEN_SECONDLY_ROLLING"
    assert events["hubspot_rate_limited"]["wait_s"] == 3.0
    assert events["hubspot_request_retried"]["status"] == 429
    assert events["hubspot_request_retried"]["correlation_id"] == "corr-429"


def test_retry_after_is_capped(server: ScriptedServer, make_http: MakeHTTP,
                               clock: FakeClock) -> None:
    server.add(Reply(429, rate_limited("TEN_SECONDLY_ROLLING"), {"Retry-After": "3600"}),
               Reply(200, {}))
    make_http(retry_after_cap_s=60.0).get("/x")
    assert clock.sleeps == [pytest.approx(60.0)]


@pytest.mark.parametrize(("verb", "body", "wait_s"), [
    ("get", rate_limited("TEN_SECONDLY_ROLLING"), 10.0),
    ("get", rate_limited("SECONDLY"), 1.0),
    ("search", {"status": "error", "message": "slow down"}, 1.0),
])
def test_429_without_retry_after_falls_back_to_the_policy_wait(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock,
        verb: str, body: dict[str, Any], wait_s: float) -> None:
    server.add(Reply(429, body), Reply(200, {"ok": 1}))
    http = make_http()
    answer = http.get("/x") if verb == "get" else http.search("/s", {})
    assert answer == {"ok": 1}
    assert clock.sleeps == [pytest.approx(wait_s)]


def test_429_without_retry_after_or_policy_backs_off_with_jitter(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock) -> None:
    server.add(Reply(429, "Too Many Requests"), Reply(429), Reply(200, {}))
    make_http(backoff_base_s=0.5).get("/x")
    first, second = clock.sleeps
    assert 0.5 <= first <= 0.5 + 1e-9  # full jitter in [0, 0.5], floored at the base
    assert 0.5 <= second <= 1.0 + 1e-9


def test_a_429_pauses_the_whole_lane_for_other_callers(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock) -> None:
    server.add(Reply(429, rate_limited("TEN_SECONDLY_ROLLING"), {"Retry-After": "5"}),
               Reply(200, {"id": "9"}))
    http = make_http()
    with pytest.raises(errors.HubSpotRateLimited) as caught:
        http.post("/crm/v3/objects/notes", {"properties": {}}, idempotent=False)
    assert caught.value.retry_after_s == 5.0
    assert caught.value.policy == "TEN_SECONDLY_ROLLING"
    assert clock.sleeps == []
    http.get("/crm/v3/objects/tickets/1")  # another caller in the same lane waits
    assert clock.sleeps == [pytest.approx(5.0)]


def test_daily_429_is_not_retried(server: ScriptedServer, make_http: MakeHTTP,
                                  clock: FakeClock) -> None:
    server.add(Reply(429, rate_limited("DAILY")), Reply(200, {}))
    with pytest.raises(errors.HubSpotRateLimited) as caught:
        make_http().get("/x")
    assert caught.value.policy == "DAILY"
    assert caught.value.retry_after_s is None
    assert len(server.requests) == 1
    assert clock.sleeps == []


# --- other errors ----------------------------------------------------------------------------


def test_5xx_is_retried_then_succeeds(server: ScriptedServer, make_http: MakeHTTP,
                                      clock: FakeClock) -> None:
    server.add(Reply(502, "<html>Bad Gateway</html>"), Reply(503), Reply(200, {"id": "1"}))
    with capture_logs() as logs:
        assert make_http(backoff_base_s=0.5).patch("/t/1", {"properties": {}}) == {"id": "1"}
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2
    assert all(wait >= 0.5 for wait in clock.sleeps)  # a 5xx waits at least the base
    retried = [entry for entry in logs if entry["event"] == "hubspot_request_retried"]
    assert [(entry["status"], entry["attempt"]) for entry in retried] == [(502, 1), (503, 2)]


def test_retries_stop_at_max_attempts_with_a_typed_error_carrying_the_correlation_id(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock) -> None:
    server.add(*[Reply(503, hubspot_error(503, "SERVICE_UNAVAILABLE", "corr-503"))] * 6)
    http = make_http(max_attempts=5)
    with pytest.raises(errors.HubSpotTransient) as caught:
        http.get("/crm/v3/objects/tickets/1")
    assert type(caught.value) is errors.HubSpotTransient
    assert caught.value.status == 503
    assert caught.value.correlation_id == "corr-503"
    assert "corr-503" in str(caught.value)
    assert len(server.requests) == 5
    assert len(clock.sleeps) == 4
    assert http.calls == 5
    assert http.calls_by_status == {503: 5}


def test_backoff_grows_and_is_capped(server: ScriptedServer, make_http: MakeHTTP,
                                     clock: FakeClock) -> None:
    server.add(*[Reply(500)] * 8)
    with pytest.raises(errors.HubSpotTransient):
        make_http(max_attempts=8, backoff_base_s=0.5, backoff_cap_s=2.0).get("/x")
    assert len(clock.sleeps) == 7
    assert all(0.5 <= wait <= 2.0 for wait in clock.sleeps)


@pytest.mark.parametrize("status", [401, 530])
def test_auth_failures_are_not_retried(server: ScriptedServer, make_http: MakeHTTP,
                                       status: int) -> None:
    server.add(Reply(status, hubspot_error(status, "INVALID_AUTHENTICATION")), Reply(200, {}))
    with pytest.raises(errors.HubSpotAuthError) as caught:
        make_http().get("/x")
    assert caught.value.status == status
    assert len(server.requests) == 1


@pytest.mark.parametrize(("status", "kind", "category"), [
    (400, errors.HubSpotValidationError, "VALIDATION_ERROR"),
    (403, errors.HubSpotPermanent, "MISSING_SCOPES"),
    (404, errors.HubSpotNotFound, "OBJECT_NOT_FOUND"),
    (409, errors.HubSpotPermanent, "CONFLICT"),
    (422, errors.HubSpotPermanent, "VALIDATION_ERROR"),
])
def test_client_errors_map_to_typed_permanent_errors_without_retry(
        server: ScriptedServer, make_http: MakeHTTP, status: int,
        kind: type[errors.HubSpotPermanent], category: str) -> None:
    body = hubspot_error(status, category, errors=[{"message": "bad", "code": "INVALID"}])
    server.add(Reply(status, body), Reply(200, {}))
    with pytest.raises(kind) as caught:
        make_http().patch("/crm/v3/objects/tickets/1", {"properties": {"x": "y"}})
    assert type(caught.value) is kind
    assert (caught.value.status, caught.value.category) == (status, category)
    assert caught.value.correlation_id == "corr-1"
    assert caught.value.body["errors"][0]["code"] == "INVALID"
    assert str(caught.value).startswith(f"HTTP {status} {category}: PATCH /crm/v3/objects/")
    assert len(server.requests) == 1


def test_a_non_json_error_body_is_tolerated(server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(404, "<html>nope</html>", {"X-HubSpot-Correlation-Id": "corr-h"}))
    with pytest.raises(errors.HubSpotNotFound) as caught:
        make_http().get("/x")
    assert caught.value.correlation_id == "corr-h"
    assert caught.value.category is None


def test_423_waits_at_least_two_seconds(server: ScriptedServer, make_http: MakeHTTP,
                                        clock: FakeClock) -> None:
    server.add(Reply(423, hubspot_error(423, "LOCKED")), Reply(200, {}))
    make_http().patch("/t/1", {})
    assert clock.sleeps == [pytest.approx(2.0)]


def test_477_honours_retry_after(server: ScriptedServer, make_http: MakeHTTP,
                                 clock: FakeClock) -> None:
    server.add(Reply(477, hubspot_error(477, "MIGRATION_IN_PROGRESS"), {"Retry-After": "7"}),
               Reply(200, {}))
    make_http().get("/x")
    assert clock.sleeps == [pytest.approx(7.0)]


def test_connection_refused_is_retried_then_unavailable(
        session: requests.Session, clock: FakeClock) -> None:
    http = HubSpotHTTP(session=session, base_url=closed_port_url(), token=TOKEN,
                       budget=RateBudget(clock=clock), clock=clock, max_attempts=3)
    with pytest.raises(errors.HubSpotUnavailable) as caught:
        http.get("/crm/v3/objects/tickets/1")
    assert len(clock.sleeps) == 2
    assert http.calls == 3
    assert_no_token(caught.value)


def test_a_read_timeout_on_get_is_retried(server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(200, {"late": True}, delay_s=READ_TIMEOUT_S * 2), Reply(200, {"id": "1"}))
    assert make_http(max_attempts=2).get("/x") == {"id": "1"}
    assert len(server.requests) == 2


# --- creating (non-idempotent POST): never retried ---------------------------------------------


NOTE = {"properties": {"hs_note_body": "<p>hi</p>", "hs_timestamp": "2026-01-05T09:00:00.000Z"}}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 524, 408])
def test_create_with_5xx_is_outcome_unknown_after_exactly_one_request(
        server: ScriptedServer, make_http: MakeHTTP, clock: FakeClock, status: int) -> None:
    server.add(Reply(status, hubspot_error(status, "INTERNAL_ERROR", "corr-c")), Reply(201, {}))
    with pytest.raises(errors.HubSpotOutcomeUnknown) as caught:
        make_http().post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert caught.value.correlation_id == "corr-c"
    assert len(server.requests) == 1
    assert clock.sleeps == []


def test_create_succeeds_with_201(server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(201, {"id": "555"}))
    assert make_http().post("/crm/v3/objects/notes", NOTE, idempotent=False) == {"id": "555"}


def test_create_when_the_server_drops_the_connection_after_reading_is_outcome_unknown(
        server: ScriptedServer, make_http: MakeHTTP) -> None:
    server.add(Reply(drop=True), Reply(201, {}))
    with pytest.raises(errors.HubSpotOutcomeUnknown) as caught:
        make_http().post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert len(server.requests) == 1
    assert server.requests[0].json() == NOTE  # it was sent in full
    assert_no_token(caught.value)


def test_create_with_a_read_timeout_is_outcome_unknown(server: ScriptedServer,
                                                       make_http: MakeHTTP) -> None:
    server.add(Reply(201, {"id": "1"}, delay_s=READ_TIMEOUT_S * 2), Reply(201, {}))
    with pytest.raises(errors.HubSpotOutcomeUnknown):
        make_http().post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert len(server.requests) == 1


def test_create_with_connection_refused_is_unavailable(session: requests.Session,
                                                       clock: FakeClock) -> None:
    http = HubSpotHTTP(session=session, base_url=closed_port_url(), token=TOKEN,
                       budget=RateBudget(clock=clock), clock=clock)
    with pytest.raises(errors.HubSpotUnavailable) as caught:
        http.post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert not isinstance(caught.value, errors.HubSpotOutcomeUnknown)
    assert http.calls == 1
    assert clock.sleeps == []


def test_create_with_423_is_transient_not_unknown(server: ScriptedServer,
                                                  make_http: MakeHTTP) -> None:
    server.add(Reply(423, hubspot_error(423, "LOCKED")))
    with pytest.raises(errors.HubSpotTransient) as caught:
        make_http().post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert not isinstance(caught.value, errors.HubSpotOutcomeUnknown)


class RaisingSession(requests.Session):
    """A session whose every request fails with one ``requests`` exception."""

    def __init__(self, exc: requests.RequestException) -> None:
        super().__init__()
        self.exc = exc
        self.sent = 0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent += 1
        raise self.exc


@pytest.mark.parametrize(("exc", "kind"), [
    (requests.ConnectTimeout("connect timed out"), errors.HubSpotUnavailable),
    (requests.exceptions.ChunkedEncodingError("IncompleteRead"), errors.HubSpotOutcomeUnknown),
    (requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
     errors.HubSpotOutcomeUnknown),
    (requests.exceptions.InvalidHeader(f"Invalid header value: 'Bearer {TOKEN}\\n'"),
     errors.HubSpotPermanent),
])
def test_create_failures_before_and_after_sending(
        clock: FakeClock, exc: requests.RequestException,
        kind: type[errors.HubSpotError]) -> None:
    with RaisingSession(exc) as session:
        http = HubSpotHTTP(session=session, base_url="http://hubspot.invalid", token=TOKEN,
                           budget=RateBudget(clock=clock), clock=clock)
        with pytest.raises(kind) as caught:
            http.post("/crm/v3/objects/notes", NOTE, idempotent=False)
    assert type(caught.value) is kind
    assert session.sent == 1
    assert_no_token(caught.value)


# --- the token never leaks -------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply(401, {"status": "error", "message": f"bad token Bearer {TOKEN}",
                "category": "INVALID_AUTHENTICATION", "correlationId": TOKEN}),
    Reply(400, {"message": f"echo: Authorization: Bearer {TOKEN}", "category": "VALIDATION_ERROR",
                "errors": [{"message": TOKEN}]}),
    Reply(530, f"<html>malformed token {TOKEN}</html>"),
    Reply(404, {"message": "gone"}, {"X-HubSpot-Correlation-Id": TOKEN}),
    Reply(429, rate_limited("DAILY")),
    Reply(500, {"message": TOKEN}),
])
def test_the_token_never_appears_in_errors_or_logs(server: ScriptedServer, make_http: MakeHTTP,
                                                   reply: Reply) -> None:
    server.add(reply)
    with capture_logs() as logs, pytest.raises(errors.HubSpotError) as caught:
        make_http().post(f"/crm/v3/objects/notes?hapikey={TOKEN}", NOTE, idempotent=False)
    assert_no_token(caught.value)
    assert TOKEN not in repr(logs)
    assert "hapikey" not in str(caught.value)  # the query never reaches a message


def test_the_client_repr_hides_the_token(make_http: MakeHTTP) -> None:
    http = make_http()
    assert TOKEN not in repr(http)
    assert TOKEN not in repr(vars(http))

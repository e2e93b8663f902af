"""The one place hubsync talks HTTP to HubSpot: auth, rate budget, error mapping, retries.

This is the per-request retry layer (STYLE §2.3). Reads, searches, PATCH/PUT and idempotent
batch POSTs are retried here on 429, 423, 477, 5xx and connection trouble, with ``Retry-After``
honoured (capped) and full-jitter exponential backoff otherwise. A 429 pauses the whole lane in
the ``RateBudget``, so concurrent callers wait too. Creating POSTs (notes) are never retried here
(RELIABILITY §1): a failure that may have reached HubSpot raises ``HubSpotOutcomeUnknown`` and the
caller reconciles.

The token lives only in the Authorization header. Exception messages and logs are built from the
method, the path without its query, the status, the category and the correlationId; any text taken
from elsewhere is scrubbed of ``Bearer …`` and ``pat-…`` first.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import requests
import structlog
import urllib3.exceptions

from hubsync import errors
from hubsync.clock import Clock, parse_retry_after
from hubsync.hubspot.budget import Lane, RateBudget

log = structlog.get_logger(__name__)

LOCKED_WAIT_S: Final = 2.0  # HubSpot locks a record for about 2 s (423)
POLICY_WAIT_S: Final[dict[str, float]] = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}
DAILY_POLICY: Final = "DAILY"

_SECRET_PATTERNS: Final = (
    (re.compile(r"Bearer\s+\S+", re.IGNORECASE), "Bearer ***"),
    (re.compile(r"pat-[A-Za-z0-9-]+"), "pat-***"),
)
_NO_BODY: Final = object()


class _SecretHeaders(dict[str, str]):
    """Request headers that hold the token; their repr never shows the values."""

    def __repr__(self) -> str:
        return f"<headers {sorted(self)} (values hidden)>"


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the typed error and how to wait before another one."""

    error: errors.HubSpotError
    retryable: bool  # worth another attempt when the method may be retried
    retry_after_s: float | None = None  # the server's wait (Retry-After, or the 429 policy)
    min_wait_s: float = 0.0


def scrub(text: str, *secrets: str) -> str:
    """``text`` without ``Bearer …``, ``pat-…`` or any of ``secrets``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_json(value: Any, secret: str) -> Any:
    """A copy of a parsed JSON value with every string scrubbed."""
    if isinstance(value, str):
        return scrub(value, secret)
    if isinstance(value, list):
        return [_scrub_json(item, secret) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_json(item, secret) for key, item in value.items()}
    return value


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (urllib3 ``reason``, first arg, cause, context)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [getattr(current, "reason", None), current.__cause__, current.__context__]
        inner.extend(current.args[:1])
        stack.extend(item for item in inner if isinstance(item, BaseException))


def failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (no connection was made)."""
    before = (
        requests.ConnectTimeout,
        requests.exceptions.SSLError,
        requests.exceptions.ProxyError,
        urllib3.exceptions.NewConnectionError,  # includes NameResolutionError
        urllib3.exceptions.ConnectTimeoutError,
        ConnectionRefusedError,
    )
    return any(isinstance(cause, before) for cause in _causes(exc))


def transport_reason(exc: requests.RequestException) -> str:
    """A short, secret-free description of a transport failure: the exception class names."""
    names = [type(cause).__name__ for cause in _causes(exc)]
    return " <- ".join(dict.fromkeys(names))


def _error_fields(body: Any, response: requests.Response) -> tuple[str | None, str | None]:
    """The category and correlationId of a (scrubbed) HubSpot error answer.

    Every field is optional; a 429 names its kind in ``errorType`` instead of ``category``, and the
    ``X-HubSpot-Correlation-Id`` header stands in when the body has no ``correlationId``.
    """
    category = correlation_id = None
    if isinstance(body, dict):
        raw_category = body.get("category") or body.get("errorType")
        category = str(raw_category) if raw_category else None
        raw_id = body.get("correlationId")
        correlation_id = str(raw_id) if raw_id else None
    if correlation_id is None and response.headers.get("X-HubSpot-Correlation-Id"):
        correlation_id = scrub(response.headers["X-HubSpot-Correlation-Id"])
    return category, correlation_id


class HubSpotHTTP:
    """HTTP access to one HubSpot portal with one injected ``requests.Session``.

    Methods return the parsed JSON answer (None for an empty body) or raise an
    ``errors.HubSpotError`` subclass; no ``requests`` exception escapes. ``calls`` counts the
    requests attempted (retries included); ``calls_by_status`` counts the answers by HTTP status
    (a transport failure has none).
    """

    def __init__(self, *, session: requests.Session, base_url: str, token: str,
                 budget: RateBudget, clock: Clock, connect_timeout_s: float = 5.0,
                 read_timeout_s: float = 30.0, max_attempts: int = 5, backoff_base_s: float = 0.5,
                 backoff_cap_s: float = 16.0, retry_after_cap_s: float = 60.0,
                 rng: random.Random | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = _SecretHeaders({
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        })
        self._budget = budget
        self._clock = clock
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._retry_after_cap_s = retry_after_cap_s
        self._rng = rng or random.Random()
        self._counter_lock = threading.Lock()
        self.calls = 0
        self.calls_by_status: Counter[int] = Counter()

    def __repr__(self) -> str:
        return f"<HubSpotHTTP {self._base_url}>"

    # --- public verbs ---------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path``; retried."""
        return self._call("GET", path, lane="default", params=params, retry=True)

    def search(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a CRM search in the search lane; retried (a search changes nothing)."""
        return self._call("POST", path, lane="search", body=body, retry=True)

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        """PATCH ``path``; retried (setting properties is idempotent)."""
        return self._call("PATCH", path, lane="default", body=body, retry=True)

    def put(self, path: str, body: Any = None) -> Any:
        """PUT ``path`` (with no body when ``body`` is None); retried."""
        return self._call("PUT", path, lane="default", body=_NO_BODY if body is None else body,
                          retry=True)

    def post(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> Any:
        """POST ``path``.

        ``idempotent=True`` (batch/read, batch/update) is retried like PATCH. ``idempotent=False``
        (creating objects) is sent exactly once: a 429 or a connection that never opened raises
        ``HubSpotRateLimited``/``HubSpotUnavailable`` (not executed); a read timeout, a connection
        lost after sending, or a 5xx raises ``HubSpotOutcomeUnknown`` (the caller reconciles).
        """
        return self._call("POST", path, lane="default", body=body, retry=idempotent)

    # --- one call, with retries -------------------------------------------------------------

    def _call(self, method: str, path: str, *, lane: Lane, retry: bool,
              params: Mapping[str, Any] | None = None, body: Any = _NO_BODY) -> Any:
        if "://" in path or not path.startswith("/"):
            raise ValueError("path must be relative to the HubSpot base URL and start with '/'")
        attempts = self._max_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            result = self._attempt(method, path, lane, params, body, idempotent=retry)
            if not isinstance(result, _Failure):
                return result
            wait_s = self._wait_s(result, attempt)
            if isinstance(result.error, errors.HubSpotRateLimited):
                self._slow_lane(lane, result.error, wait_s)
            if not (result.retryable and attempt < attempts):
                raise result.error
            log.warning("hubspot_request_retried", method=method, path=_safe_path(path),
                        status=result.error.status, attempt=attempt, wait_s=round(wait_s, 3),
                        correlation_id=result.error.correlation_id)
            if not isinstance(result.error, errors.HubSpotRateLimited):
                self._clock.sleep(wait_s)  # a 429 waits in budget.acquire, with the whole lane
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(self, method: str, path: str, lane: Lane, params: Mapping[str, Any] | None,
                 body: Any, *, idempotent: bool) -> Any:
        """Send one request; return the parsed answer, or a ``_Failure`` describing the error."""
        self._budget.acquire(lane)
        with self._counter_lock:
            self.calls += 1
        try:
            response = self._session.request(
                method, self._base_url + path, params=params,
                json=None if body is _NO_BODY else body, headers=self._headers,
                timeout=self._timeout, allow_redirects=False,
            )
        except requests.RequestException as exc:
            return self._transport_failure(exc, method, path, idempotent=idempotent)
        self._budget.observe(response.headers)
        with self._counter_lock:
            self.calls_by_status[response.status_code] += 1
        if 200 <= response.status_code < 300:
            return self._parse_success(response, method, path, idempotent=idempotent)
        return self._status_failure(response, method, path, lane, idempotent=idempotent)

    def _wait_s(self, failure: _Failure, attempt: int) -> float:
        """How long to wait after failed attempt number ``attempt`` (1-based)."""
        if failure.retry_after_s is not None:
            wait_s = min(failure.retry_after_s, self._retry_after_cap_s)
        else:
            ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
            wait_s = self._rng.uniform(0, ceiling)
        return max(wait_s, failure.min_wait_s)

    def _slow_lane(self, lane: Lane, error: errors.HubSpotRateLimited, wait_s: float) -> None:
        """After a 429, pause the whole lane so no other caller storms HubSpot meanwhile."""
        self._budget.pause(lane, wait_s)
        log.warning("hubspot_rate_limited", policy=error.policy, wait_s=round(wait_s, 3),
                    lane=lane, correlation_id=error.correlation_id)

    # --- classifying answers ----------------------------------------------------------------

    def _parse_success(self, response: requests.Response, method: str, path: str, *,
                       idempotent: bool) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            what = f"{method} {_safe_path(path)}: the 2xx answer is not JSON"
            if idempotent:
                return _Failure(errors.HubSpotPermanent(what, status=response.status_code),
                                retryable=False)
            return _Failure(errors.HubSpotOutcomeUnknown(what, status=response.status_code),
                            retryable=False)

    def _status_failure(self, response: requests.Response, method: str, path: str, lane: Lane,
                        *, idempotent: bool) -> _Failure:
        status = response.status_code
        body = self._error_body(response)
        category, correlation_id = _error_fields(body, response)
        fields: dict[str, Any] = {
            "status": status, "category": category, "correlation_id": correlation_id,
            "body": body if isinstance(body, dict) else {},
        }
        what = f"{method} {_safe_path(path)}{_detail(body)}"
        retry_after_s = parse_retry_after(response.headers.get("Retry-After"), self._clock)
        if status == 429:
            return self._rate_limited(what, body, lane, retry_after_s, fields)
        if status in (401, 530):
            return _Failure(errors.HubSpotAuthError(what, **fields), retryable=False)
        if status == 423:
            return _Failure(errors.HubSpotTransient(what, **fields), retryable=True,
                            retry_after_s=retry_after_s, min_wait_s=LOCKED_WAIT_S)
        if status == 477:
            return _Failure(errors.HubSpotTransient(what, **fields), retryable=True,
                            retry_after_s=retry_after_s)
        if status == 408 or status >= 500:
            kind = errors.HubSpotTransient if idempotent else errors.HubSpotOutcomeUnknown
            return _Failure(kind(what, **fields), retryable=True, retry_after_s=retry_after_s,
                            min_wait_s=self._backoff_base_s if status >= 500 else 0.0)
        return _Failure(_permanent_class(status)(what, **fields), retryable=False)

    def _rate_limited(self, what: str, body: Any, lane: Lane, retry_after_s: float | None,
                      fields: dict[str, Any]) -> _Failure:
        """A 429: the request was not executed.

        The wait is ``Retry-After``, else the policy's window (10 s rolling, 1 s secondly or
        search), else jittered backoff. DAILY is never retried, but the lane still pauses (for
        ``Retry-After``, else ``retry_after_cap_s``) so a spent day does not become an error storm.
        """
        policy = body.get("policyName") if isinstance(body, dict) else None
        policy = str(policy) if policy else None
        if retry_after_s is None:
            retry_after_s = POLICY_WAIT_S.get(policy or "")
            if retry_after_s is None and lane == "search" and policy != DAILY_POLICY:
                retry_after_s = POLICY_WAIT_S["SECONDLY"]
        error = errors.HubSpotRateLimited(what, retry_after_s=retry_after_s, policy=policy,
                                          **fields)
        if policy == DAILY_POLICY:
            pause_s = retry_after_s if retry_after_s is not None else self._retry_after_cap_s
            return _Failure(error, retryable=False, retry_after_s=pause_s)
        return _Failure(error, retryable=True, retry_after_s=retry_after_s,
                        min_wait_s=self._backoff_base_s)

    def _transport_failure(self, exc: requests.RequestException, method: str, path: str, *,
                           idempotent: bool) -> _Failure:
        what = f"{method} {_safe_path(path)}"
        reason = scrub(transport_reason(exc))
        if not isinstance(exc, (requests.ConnectionError, requests.Timeout,
                                requests.exceptions.ChunkedEncodingError,
                                requests.exceptions.ContentDecodingError)):
            # InvalidHeader, InvalidURL…: a bug or bad config, and the text may quote the header.
            return _Failure(errors.HubSpotPermanent(f"{what}: request not sent ({reason})"),
                            retryable=False)
        if failed_before_sending(exc):
            return _Failure(errors.HubSpotUnavailable(f"{what}: not connected ({reason})"),
                            retryable=True)
        if idempotent:
            return _Failure(errors.HubSpotUnavailable(f"{what}: no complete answer ({reason})"),
                            retryable=True)
        return _Failure(errors.HubSpotOutcomeUnknown(
            f"{what}: sent, but no complete answer ({reason})"), retryable=False)

    def _error_body(self, response: requests.Response) -> Any:
        """The parsed, scrubbed error answer; a short scrubbed excerpt when it is not JSON."""
        try:
            body = response.json()
        except ValueError:
            text = response.text[:500]
            return {"raw": scrub(text, self._token())} if text else {}
        return _scrub_json(body, self._token())

    def _token(self) -> str:
        return self._headers["Authorization"].removeprefix("Bearer ")


def _detail(body: Any) -> str:
    """HubSpot's own (already scrubbed) message and error codes, so a recorded failure says why.

    ``Property values were not valid … (PROPERTY_DOESNT_EXIST)`` is what an operator needs to
    fix a portal; the message is capped so a huge answer cannot flood the ledger or the logs.
    """
    if not isinstance(body, dict):
        return ""
    message = str(body.get("message") or "")[:300]
    codes = sorted({str(e.get("code")) for e in body.get("errors") or []
                    if isinstance(e, dict) and e.get("code")})
    if codes:
        message = f"{message} [{', '.join(codes)}]".strip()
    return f": {message}" if message else ""


def _permanent_class(status: int) -> type[errors.HubSpotPermanent]:
    """The error class for a 4xx that retrying will not fix (403, 409, 422…, and a stray 3xx)."""
    special: dict[int, type[errors.HubSpotPermanent]] = {
        400: errors.HubSpotValidationError,
        404: errors.HubSpotNotFound,
    }
    return special.get(status, errors.HubSpotPermanent)


def _safe_path(path: str) -> str:
    """The path without its query string (which could carry secrets), scrubbed."""
    return scrub(path.split("?", 1)[0])

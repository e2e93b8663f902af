"""The one place hubsync talks HTTP to a Simpli service: API key, request ids, errors, retries.

This is the per-request retry layer for Simpli (STYLE §2.3). 408, 429, 5xx, connection errors
and timeouts are retried with full-jitter exponential backoff, or after ``Retry-After`` when the
service sends it (capped at ``backoff_cap_s``), up to ``max_attempts``; then ``SimpliTransient``.
Any other 4xx is a ``SimpliPermanent`` at once. Every request carries a fresh ``X-Request-ID``,
and every failed attempt is logged as ``simpli_call_failed`` with it, so the call can be found in
the service's own logs. The API key is sent only in ``X-API-Key`` and never appears in a message
or a log line.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import requests
import structlog

from hubsync import errors
from hubsync.clock import Clock, parse_retry_after

log = structlog.get_logger(__name__)

NOT_AN_OBJECT: Final = "answer is not a JSON object"
_DETAIL_MAX_CHARS: Final = 200
_FIELDS_SHOWN: Final = 3
_NO_BODY: Final = object()


class _SecretHeaders(dict[str, str]):
    """Request headers that may hold the API key; their repr never shows the values."""

    def __repr__(self) -> str:
        return f"<headers {sorted(self)} (values hidden)>"


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the typed error, whether to try again, and the server's wait."""

    error: errors.SimpliError
    retryable: bool
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _Envelope:
    """Simpli's error envelope, read tolerantly: every field may be missing."""

    error_code: str | None
    detail: str | None
    request_id: str | None
    fields: list[str]

    @classmethod
    def from_answer(cls, body: Any) -> _Envelope:
        """Read Simpli's ``{error_code, detail, request_id, errors?}`` or FastAPI's 422 shape."""
        if not isinstance(body, dict):
            return cls(None, None, None, [])
        detail = body.get("detail")
        problems = body.get("errors")
        if isinstance(detail, list):  # FastAPI's own 422: {"detail": [{"loc": [...], "msg": ...}]}
            problems, detail = detail, None
        return cls(
            error_code=_text(body.get("error_code")),
            detail=_text(detail),
            request_id=_text(body.get("request_id")),
            fields=_field_names(problems),
        )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _field_names(problems: Any) -> list[str]:
    """The field names of validation problems (``field``, or FastAPI's ``loc`` joined)."""
    if not isinstance(problems, list):
        return []
    names: list[str] = []
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        name = problem.get("field")
        if name is None and isinstance(problem.get("loc"), list):
            name = " -> ".join(str(part) for part in problem["loc"])
        if name:
            names.append(str(name))
    return names


class SimpliHTTP:
    """HTTP access to one Simpli service with one injected ``requests.Session``.

    ``post`` and ``get`` return the answer's JSON object or raise ``errors.SimpliPermanent`` /
    ``errors.SimpliTransient``; no ``requests`` exception escapes. ``health`` never raises.
    """

    def __init__(self, *, service: str, session: requests.Session, base_url: str,
                 api_key: str | None, clock: Clock, connect_timeout_s: float = 3.0,
                 read_timeout_s: float = 30.0, max_attempts: int = 3, backoff_base_s: float = 0.5,
                 backoff_cap_s: float = 8.0, rng: random.Random | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.service = service
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key or ""
        self._clock = clock
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"<SimpliHTTP {self.service} {self._base_url}>"

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path``; the answer must be a JSON object. Retried."""
        return self._call("POST", path, body=body)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path``; the answer must be a JSON object. Retried."""
        return self._call("GET", path, params=params)

    def health(self) -> bool:
        """True when ``GET /health`` answers 200. Sent once, without the API key."""
        try:
            response = self._session.get(
                self._base_url + "/health", timeout=self._timeout, allow_redirects=False,
                headers={"Accept": "application/json", "X-Request-ID": uuid.uuid4().hex},
            )
        except requests.RequestException:
            return False
        return response.status_code == 200

    # --- one call, with retries -------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Any = _NO_BODY) -> dict[str, Any]:
        if "://" in path or not path.startswith("/"):
            raise ValueError("path must be relative to the service base URL and start with '/'")
        for attempt in range(1, self._max_attempts + 1):
            request_id = uuid.uuid4().hex
            result = self._attempt(method, path, params, body, request_id)
            if not isinstance(result, _Failure):
                return result
            will_retry = result.retryable and attempt < self._max_attempts
            error = result.error
            log.warning("simpli_call_failed", service=self.service, path=_safe_path(path),
                        status=error.status, error_code=error.error_code,
                        request_id=error.request_id, attempt=attempt, will_retry=will_retry)
            if not will_retry:
                raise error
            self._clock.sleep(self._wait_s(result, attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(self, method: str, path: str, params: Mapping[str, Any] | None, body: Any,
                 request_id: str) -> dict[str, Any] | _Failure:
        """Send one request; return the answer's JSON object or a ``_Failure``."""
        try:
            response = self._session.request(
                method, self._base_url + path, params=params,
                json=None if body is _NO_BODY else body, headers=self._headers(request_id),
                timeout=self._timeout, allow_redirects=False,
            )
        except requests.RequestException as exc:
            return self._transport_failure(exc, method, path, request_id)
        if 200 <= response.status_code < 300:
            return self._parse_success(response, request_id)
        return self._status_failure(response, method, path, request_id)

    def _headers(self, request_id: str) -> _SecretHeaders:
        headers = _SecretHeaders({"Content-Type": "application/json", "Accept": "application/json",
                                  "X-Request-ID": request_id})
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        return headers

    def _wait_s(self, failure: _Failure, attempt: int) -> float:
        """``Retry-After`` (capped) when given, else full jitter after attempt ``attempt``."""
        if failure.retry_after_s is not None:
            return min(failure.retry_after_s, self._backoff_cap_s)
        ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    # --- classifying answers ----------------------------------------------------------------

    def _parse_success(self, response: requests.Response,
                       request_id: str) -> dict[str, Any] | _Failure:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            return answer
        error = errors.SimpliPermanent(NOT_AN_OBJECT, service=self.service,
                                       status=response.status_code,
                                       request_id=_answer_request_id(response) or request_id)
        return _Failure(error, retryable=False)

    def _status_failure(self, response: requests.Response, method: str, path: str,
                        request_id: str) -> _Failure:
        status = response.status_code
        try:
            envelope = _Envelope.from_answer(response.json())
        except ValueError:
            envelope = _Envelope.from_answer(None)
        transient = status in (408, 429) or status >= 500
        kind = errors.SimpliTransient if transient else errors.SimpliPermanent
        answer_id = envelope.request_id or _answer_request_id(response)
        error = kind(self._message(method, path, envelope), service=self.service, status=status,
                     error_code=self._scrub(envelope.error_code) if envelope.error_code else None,
                     request_id=self._scrub(answer_id) if answer_id else request_id)
        retry_after_s = parse_retry_after(response.headers.get("Retry-After"), self._clock)
        return _Failure(error, retryable=transient, retry_after_s=retry_after_s)

    def _transport_failure(self, exc: requests.RequestException, method: str, path: str,
                           request_id: str) -> _Failure:
        what = f"{method} {_safe_path(path)}"
        reason = type(exc).__name__  # the class name only: requests' text could quote a header
        transient = isinstance(exc, (requests.ConnectionError, requests.Timeout,
                                     requests.exceptions.ChunkedEncodingError,
                                     requests.exceptions.ContentDecodingError))
        if not transient:
            return _Failure(errors.SimpliPermanent(f"{what}: request not sent ({reason})",
                                                   service=self.service, request_id=request_id),
                            retryable=False)
        return _Failure(errors.SimpliTransient(f"{what}: no answer ({reason})",
                                               service=self.service, request_id=request_id),
                        retryable=True)

    def _message(self, method: str, path: str, envelope: _Envelope) -> str:
        """``METHOD /path: detail (invalid: a, b, c)``, scrubbed of the API key, then shortened."""
        message = f"{method} {_safe_path(path)}"
        if envelope.detail:
            message = f"{message}: {self._scrub(envelope.detail)[:_DETAIL_MAX_CHARS]}"
        if envelope.fields:
            fields = ", ".join(self._scrub(name)[:_DETAIL_MAX_CHARS]
                               for name in envelope.fields[:_FIELDS_SHOWN])
            message = f"{message} (invalid: {fields})"
        return message

    def _scrub(self, text: str) -> str:
        """``text`` with the API key replaced by ``***``."""
        return text.replace(self._api_key, "***") if self._api_key else text


def _answer_request_id(response: requests.Response) -> str | None:
    """The ``X-Request-ID`` the service echoed, if any."""
    return response.headers.get("X-Request-ID") or None


def _safe_path(path: str) -> str:
    """The path without its query string."""
    return path.split("?", 1)[0]

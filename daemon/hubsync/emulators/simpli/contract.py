"""The services' common contract: roles, channels, error codes and the error envelope."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

ROLES = ("customer", "agent", "system")
CHANNELS = ("email", "chat", "phone", "social", "web")

_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "AUTHENTICATION_ERROR",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    502: "EXTERNAL_SERVICE_ERROR",
    503: "EXTERNAL_SERVICE_ERROR",
    504: "EXTERNAL_SERVICE_ERROR",
}


def error_code_for(status: int) -> str:
    """The Simpli ``error_code`` for an HTTP status (other 5xx → ``INTERNAL_ERROR``)."""
    return _ERROR_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")


# --- Values --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RecordedCall:
    """One request a stand-in received and the status it answered."""

    method: str
    path: str  # decoded, without the query string
    body: Any  # the parsed JSON body, or None when absent or not JSON
    status: int
    request_id: str


@dataclasses.dataclass(frozen=True)
class Request:
    """A request that passed routing and authentication, as a handler sees it."""

    method: str
    path: str
    path_params: Mapping[str, str]
    query: Mapping[str, list[str]]
    body: Any  # a dict for POST/PUT/PATCH routes, None for the others
    request_id: str


@dataclasses.dataclass(frozen=True)
class Answer:
    """A response: status, JSON body and extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


Handler = Callable[[Request], Any]  # returns an Answer, or a bare JSON value meaning 200


class ApiError(Exception):
    """A request failed; rendered as the Simpli error envelope."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})

    def answer(self, request_id: str) -> Answer:
        body: dict[str, Any] = {
            "error_code": error_code_for(self.status),
            "detail": self.detail,
            "request_id": request_id,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return Answer(self.status, body, self.headers)


def validation_error(problems: list[dict[str, str]]) -> ApiError:
    """The 422 ``VALIDATION_ERROR`` listing ``problems`` (``{"field", "message"}`` each)."""
    return ApiError(422, "Request validation failed", errors=problems)

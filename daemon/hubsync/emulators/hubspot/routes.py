"""Request and response values, and the router that maps (method, path) to a handler.

Routing answers 404 for an unknown path and 405 for a known path with the wrong method. A
request whose JSON body is malformed gets 400 before its handler runs. Handlers raise
``errors.ApiError`` for HubSpot's 4xx answers; the router turns it into the error response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hubsync.emulators.hubspot import errors

_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})


@dataclass(frozen=True)
class Request:
    """An HTTP request as the handlers see it. ``body`` is the parsed JSON (None if absent)."""

    method: str
    path: str
    query: dict[str, list[str]]
    raw_body: bytes = b""
    body: Any = None
    body_error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # names lowercased

    @staticmethod
    def parse_body(raw: bytes) -> tuple[Any, str | None]:
        """The parsed JSON body and, if it is malformed, why."""
        if not raw.strip():
            return None, None
        try:
            return json.loads(raw), None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"Invalid input JSON: {exc}"

    def json_object(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise errors.validation("Invalid input JSON: the request body must be a JSON object")
        return self.body

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def list_param(self, name: str) -> list[str] | None:
        """A comma-separated (or repeated) query parameter, None if absent."""
        if name not in self.query:
            return None
        return [part for value in self.query[name] for part in value.split(",") if part]

    def int_param(self, name: str, default: int, maximum: int | None, *, minimum: int = 1) -> int:
        """An integer query parameter within bounds; 400 otherwise."""
        raw = self.param(name)
        if raw is None:
            return default
        if not re.fullmatch(r"-?\d+", raw):
            raise errors.validation(f"{name} must be an integer, got {raw!r}")
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            raise errors.validation(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    def bool_param(self, name: str, default: bool) -> bool:
        """A ``true``/``false`` query parameter; 400 for anything else."""
        raw = self.param(name)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false"):
            raise errors.validation(f"{name} must be true or false, got {raw!r}")
        return raw.lower() == "true"


@dataclass
class Response:
    """What to answer: status, JSON body (None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def error(exc: errors.ApiError) -> Response:
        return Response(exc.status, exc.body(), dict(exc.headers))


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Routes tried in the order added; the first whose method and pattern match handles it."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(_Route(method, re.compile(f"^{pattern}$"), handler))

    def dispatch(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except errors.ApiError as exc:
            return Response.error(exc)

    def _dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for route in self._routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            if request.method in _BODY_METHODS and request.body_error is not None:
                raise errors.validation(request.body_error)
            return route.handler(request, match)
        if allowed:
            raise errors.ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP method {request.method} is not supported by {request.path}",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise errors.not_found(f"Unable to route {request.method} request to {request.path}")


def paged(body: dict[str, Any], next_after: int | None) -> dict[str, Any]:
    """Add ``paging.next`` only when another page exists (HubSpot omits ``paging`` at the end)."""
    if next_after is not None:
        body["paging"] = {"next": {"after": str(next_after), "link": f"?after={next_after}"}}
    return body

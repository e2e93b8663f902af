"""HubSpot-shaped errors: the one exception the emulator's handlers raise, and its JSON body.

Every error body carries ``status: "error"``, ``message``, a fresh ``correlationId`` (uuid4) and
``category``, plus optional ``errors`` (``[{message, code, context}]``) and ``context``, as on the
error-handling page quoted in ``docs/hubspot-api.md`` §5.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from typing import Any

JsonObject = dict[str, Any]


def correlation_id() -> str:
    """A fresh correlation id, as HubSpot puts on every error."""
    return str(uuid.uuid4())


class ApiError(Exception):
    """A request failed; the server turns this into a HubSpot-shaped error response."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[JsonObject] | None = None,
        context: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors or []
        self.context = context
        self.headers = headers or {}

    def body(self) -> JsonObject:
        """The JSON error body, with a new correlation id each time it is built."""
        body: JsonObject = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        return body


def sub_error(message: str, code: str, **context: list[str]) -> JsonObject:
    """One entry of an error body's ``errors`` list."""
    entry: JsonObject = {"message": message, "code": code}
    if context:
        entry["context"] = context
    return entry


def reject_unknown_fields(body: Mapping[str, Any], allowed: Collection[str], what: str) -> None:
    """400 for a field HubSpot's JSON binding would not recognise (it is strict about them)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        field = unknown[0]
        raise validation(
            f'Invalid input JSON: Unrecognized field "{field}" ({what}), not marked as ignorable'
        )


def validation(message: str, errors: list[JsonObject] | None = None) -> ApiError:
    """400 ``VALIDATION_ERROR``."""
    return ApiError(400, "VALIDATION_ERROR", message, errors=errors)


def not_found(message: str) -> ApiError:
    """404 ``OBJECT_NOT_FOUND``."""
    return ApiError(404, "OBJECT_NOT_FOUND", message)


def conflict(message: str) -> ApiError:
    """409 ``CONFLICT``."""
    return ApiError(409, "CONFLICT", message)


def property_errors(errors: list[JsonObject]) -> ApiError:
    """400 for invalid property values, worded like HubSpot's ``Property values were not valid``."""
    details = [
        {
            "isValid": False,
            "message": e["message"],
            "error": e["code"],
            "name": e.get("context", {}).get("propertyName", [""])[0],
        }
        for e in errors
    ]
    return validation(f"Property values were not valid: {json.dumps(details)}", errors)


def rate_limit_body(policy_name: str) -> JsonObject:
    """The 429 body for ``TEN_SECONDLY_ROLLING`` (burst) or ``SECONDLY`` (search)."""
    if policy_name == "TEN_SECONDLY_ROLLING":
        message = "You have reached your ten_secondly_rolling limit."
    else:
        message = "You have reached your secondly limit."
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy_name,
        "requestId": correlation_id(),
    }


_CATEGORY_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    415: "VALIDATION_ERROR",
    423: "LOCKED",
    477: "MIGRATION_IN_PROGRESS",
}


def generic_body(status: int, *, search: bool = False) -> JsonObject:
    """A plausible HubSpot error body for an injected fault that did not bring its own body."""
    if status == 429:
        return rate_limit_body("SECONDLY" if search else "TEN_SECONDLY_ROLLING")
    category = _CATEGORY_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
    return ApiError(status, category, f"Injected fault: HTTP {status}").body()

"""Strict readers for the query parameters of the conversations, knowledge-base and site-search
endpoints.

HubSpot binds these parameters to typed fields: a value that does not parse (a non-numeric id, a
date-time without a time zone, an unknown enum value) is a 400. These endpoints also reject
parameters they do not define, which HubSpot would silently ignore: a misspelt filter then fails
loudly in tests instead of quietly returning unfiltered rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime

from hubsync import clock
from hubsync.emulators.hubspot import errors
from hubsync.emulators.hubspot.routes import Request

_INT64 = re.compile(r"^\d{1,19}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONED = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def reject_unknown(request: Request, allowed: Collection[str]) -> None:
    """400 for a query parameter this endpoint does not define."""
    unknown = sorted(set(request.query) - set(allowed))
    if unknown:
        raise errors.validation(f"Unknown query parameter {unknown[0]!r} for {request.path}")


def single(request: Request, name: str) -> str | None:
    """A parameter given at most once; 400 if repeated or empty."""
    values = request.query.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise errors.validation(f"{name} may be given only once")
    if values[0] == "":
        raise errors.validation(f"{name} must not be empty")
    return values[0]


def repeated(request: Request, name: str) -> list[str]:
    """A repeatable parameter (``?a=1&a=2``); values are not comma-split. 400 for an empty one."""
    values = request.query.get(name, [])
    if any(value == "" for value in values):
        raise errors.validation(f"{name} must not be empty")
    return list(values)


def choice(request: Request, name: str, allowed: Collection[str]) -> str | None:
    """A single enum value, exactly as spelt in ``allowed``."""
    value = single(request, name)
    if value is not None and value not in allowed:
        raise errors.validation(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def choices(request: Request, name: str, allowed: Collection[str]) -> list[str]:
    """A repeatable enum parameter."""
    values = repeated(request, name)
    for value in values:
        if value not in allowed:
            raise errors.validation(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return values


def int64(name: str, value: str | None) -> str | None:
    """A numeric id (as HubSpot's int64 parameters take); 400 for anything else."""
    if value is not None and not _INT64.match(value):
        raise errors.validation(f"{name} must be an integer id, got {value!r}")
    return value


def date_time(request: Request, name: str, *, plain_date: bool = False) -> datetime | None:
    """An ISO-8601 date-time with a time zone (or, if allowed, a plain date at UTC midnight)."""
    raw = single(request, name)
    if raw is None:
        return None
    if plain_date and _DATE.match(raw):
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    if "T" not in raw or not _ZONED.search(raw):
        raise errors.validation(f"{name} must be an ISO-8601 date-time with a zone, got {raw!r}")
    try:
        return clock.parse_iso(raw)
    except ValueError:
        raise errors.validation(f"{name} is not a valid date-time: {raw!r}") from None


def language(name: str, value: str) -> str:
    """An ISO 639 code, optionally with a region subtag, lower-cased (``en``, ``en-us``)."""
    folded = value.lower()
    if not LANGUAGE.match(folded):
        raise errors.validation(f"{name} must be an ISO 639 language code, got {value!r}")
    return folded

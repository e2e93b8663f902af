"""Opaque ``after`` cursors and keyset paging for the list endpoints that use them.

A cursor is the URL-safe base64 of a small JSON document naming the sort it was made for and
the sort key of the last row served; the next page holds the rows strictly after that key. A
cursor that does not decode, or that was made for another sort, is a 400. Unlike an offset,
a keyset cursor does not skip rows when earlier rows leave the result set mid-paging, but a
row whose sort key moves past the cursor shows up again on a later page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from hubsync.emulators.hubspot import errors

T = TypeVar("T")
Key = tuple[Any, ...]
_START = "start"


@dataclass(frozen=True)
class Ordering:
    """Sort fields as ``(name, descending)``; rows tied on all of them are ordered by a final
    tiebreak value (a number), which runs in the direction of the first field."""

    fields: tuple[tuple[str, bool], ...]

    @staticmethod
    def parse(spec: str) -> tuple[str, bool]:
        """``"-name"`` → ``("name", True)``; ``"name"`` → ``("name", False)``."""
        return (spec[1:], True) if spec.startswith("-") else (spec, False)

    @property
    def signature(self) -> str:
        return ",".join(("-" if descending else "") + name for name, descending in self.fields)

    def directions(self) -> list[bool]:
        """Whether each key position (the fields, then the tiebreak) sorts descending."""
        return [descending for _, descending in self.fields] + [self.fields[0][1]]

    def sort(self, rows: Sequence[T], key: Callable[[T], Key]) -> list[T]:
        """The rows in this order (stable sorts from the last key position to the first)."""
        ordered = list(rows)
        for position, descending in reversed(list(enumerate(self.directions()))):
            ordered.sort(key=lambda row: key(row)[position], reverse=descending)
        return ordered

    def is_after(self, candidate: Key, cursor: Key) -> bool:
        """Whether a row with key ``candidate`` comes strictly after the cursor's row."""
        for a, b, descending in zip(candidate, cursor, self.directions(), strict=True):
            if a != b:
                return bool(a < b) if descending else bool(a > b)
        return False


def encode(ordering: Ordering, key: Key | None) -> str:
    """The opaque cursor for "after the row with this key" (None: before every row)."""
    payload = {"o": ordering.signature, "k": _START if key is None else list(key)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(ordering: Ordering, token: str) -> Key | None:
    """The key a cursor points after; 400 if it is malformed or made for another sort."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad_cursor(token) from None
    if not isinstance(payload, dict) or payload.get("o") != ordering.signature:
        raise _bad_cursor(token)
    key = payload.get("k")
    if key == _START:
        return None
    width = len(ordering.fields) + 1
    if not isinstance(key, list) or len(key) != width:
        raise _bad_cursor(token)
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in key):
        raise _bad_cursor(token)
    return tuple(key)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last page)."""

    rows: list[T]
    next_after: str | None


def keyset_page(
    rows: Sequence[T],
    key: Callable[[T], Key],
    ordering: Ordering,
    after: str | None,
    limit: int,
    *,
    next_when_full: bool = False,
) -> Page[T]:
    """The ``limit`` rows after the cursor, in ``ordering``.

    ``next_when_full`` gives a full page a next cursor even when no row follows it (so the
    client's next call gets an empty last page), as cursor APIs that do not look ahead do.
    """
    start = None if after is None else decode(ordering, after)
    ordered = ordering.sort(rows, key)
    if start is not None:
        try:
            ordered = [row for row in ordered if ordering.is_after(key(row), start)]
        except TypeError:  # a cursor value of the wrong type for this sort
            raise _bad_cursor(after or "") from None
    chosen = ordered[:limit]
    more = len(ordered) > limit or (next_when_full and len(chosen) == limit)
    next_after = encode(ordering, key(chosen[-1])) if more and chosen else None
    return Page(chosen, next_after)


def paged_body(path: str, results: list[Any], next_after: str | None) -> dict[str, Any]:
    """``{"results": ..., "paging": {"next": {"after", "link"}}}``; no ``paging`` at the end."""
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        link = f"https://api.hubapi.com{path}?after={quote(next_after)}"
        body["paging"] = {"next": {"after": next_after, "link": link}}
    return body


def _bad_cursor(token: str) -> errors.ApiError:
    return errors.validation(f"Invalid paging cursor: after={token!r}")

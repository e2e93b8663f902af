"""The record of every HTTP request the emulator served."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One served request. ``status`` is 0 when the connection was dropped without an answer;
    ``body`` is the parsed JSON body (None if absent or malformed); ``at`` is the clock's
    monotonic time when the request arrived."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    at: float


class RequestLog:
    """A thread-safe, append-only list of ``RecordedRequest``, in the order answers were decided
    (each is appended just before its answer is written)."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

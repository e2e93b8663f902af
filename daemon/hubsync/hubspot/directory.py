"""A portal's slowly changing facts, cached: active owners, priority options, stages.

Each fact is re-read after ``ttl_s``; a stage id not in the cache triggers one early re-read
(at most every 30 s), so a stage created since the last read is not misclassified for long.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from hubsync.clock import Clock
from hubsync.hubspot.api import HubSpotAPI
from hubsync.hubspot.records import Stage

T = TypeVar("T")
UNKNOWN_STAGE_REFRESH_S = 30.0


class _Cached(Generic[T]):
    def __init__(self, load: Callable[[], T], clock: Clock, ttl_s: float) -> None:
        self._load = load
        self._clock = clock
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded_at: float | None = None

    def get(self, *, refresh_after_s: float | None = None) -> T:
        """The value, re-read when older than the TTL (or than ``refresh_after_s``)."""
        with self._lock:
            now = self._clock.monotonic()
            age = None if self._loaded_at is None else now - self._loaded_at
            limit = self._ttl_s if refresh_after_s is None else refresh_after_s
            if age is None or age >= limit or self._value is None:
                self._value = self._load()
                self._loaded_at = now
            return self._value


class Directory:
    """Owners, ``hs_ticket_priority`` options and ticket stages of one portal."""

    def __init__(self, api: HubSpotAPI, clock: Clock, *, ttl_s: float = 600.0) -> None:
        self.api = api
        self._owners = _Cached(
            lambda: frozenset(o.id for o in api.owners() if not o.archived), clock, ttl_s)
        self._priorities = _Cached(
            lambda: frozenset(api.property_options("tickets", "hs_ticket_priority")), clock,
            ttl_s)
        self._stages = _Cached(
            lambda: {s.id: s for p in api.pipelines() for s in p.stages}, clock, ttl_s)

    def active_owner_ids(self) -> frozenset[str]:
        return self._owners.get()

    def priority_options(self) -> frozenset[str]:
        return self._priorities.get()

    def stage(self, stage_id: str | None) -> Stage | None:
        """The stage with this id, re-reading the pipelines once if it is unknown."""
        if stage_id is None:
            return None
        stages = self._stages.get()
        if stage_id not in stages:
            stages = self._stages.get(refresh_after_s=UNKNOWN_STAGE_REFRESH_S)
        return stages.get(stage_id)

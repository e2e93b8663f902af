"""A portal's slowly changing facts, cached: active owners and priority options."""

from __future__ import annotations

import threading

from hubsync.clock import Clock
from hubsync.hubspot.api import HubSpotAPI


class Directory:
    """Owners and ``hs_ticket_priority`` options, re-read after ``ttl_s``."""

    def __init__(self, api: HubSpotAPI, clock: Clock, *, ttl_s: float = 600.0) -> None:
        self.api = api
        self.clock = clock
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._owner_ids: frozenset[str] = frozenset()
        self._priorities: frozenset[str] = frozenset()

    def _refresh(self) -> None:
        with self._lock:
            now = self.clock.monotonic()
            if self._loaded_at is not None and now - self._loaded_at < self.ttl_s:
                return
            self._owner_ids = frozenset(o.id for o in self.api.owners() if not o.archived)
            self._priorities = frozenset(self.api.property_options("tickets",
                                                                   "hs_ticket_priority"))
            self._loaded_at = now

    def active_owner_ids(self) -> frozenset[str]:
        self._refresh()
        return self._owner_ids

    def priority_options(self) -> frozenset[str]:
        self._refresh()
        return self._priorities

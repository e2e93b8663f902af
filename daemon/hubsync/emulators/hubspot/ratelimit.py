"""Rate limits: the ten-second burst bucket and the separate search bucket (§1, §10 of the doc).

Both are rolling windows over the clock's monotonic time. Rejected requests do not use up the
window. Non-search answers carry the ``X-HubSpot-RateLimit-*`` headers; search answers never do.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from hubsync import clock as clocks

DAILY_LIMIT = 625_000  # Professional tier (docs/hubspot-api.md §10)
BURST_POLICY, SEARCH_POLICY = "TEN_SECONDLY_ROLLING", "SECONDLY"


class RollingWindow:
    """At most ``limit`` admissions in any rolling ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float, clock: clocks.Clock) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> tuple[bool, int]:
        """Whether a request may pass now, and how many more could pass after it."""
        with self._lock:
            now = self._clock.monotonic()
            while self._times and self._times[0] <= now - self.window_s:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return False, 0
            self._times.append(now)
            return True, self.limit - len(self._times)


@dataclass(frozen=True)
class Admission:
    """The limiter's verdict: ``policy`` names the exhausted limit when not allowed."""

    allowed: bool
    policy: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class RateLimiter:
    """The burst bucket for ordinary calls and a per-second bucket for search."""

    def __init__(
        self,
        clock: clocks.Clock,
        *,
        burst_limit: int | None,
        burst_window_s: float,
        search_rate_per_s: float | None,
    ) -> None:
        self._burst = (
            None if burst_limit is None else RollingWindow(burst_limit, burst_window_s, clock)
        )
        self._search = (
            None if search_rate_per_s is None else _search_window(search_rate_per_s, clock)
        )
        self._daily_used = 0
        self._lock = threading.Lock()

    def admit(self, *, search: bool) -> Admission:
        """Decide on one request; headers are filled in for non-search requests only."""
        bucket = self._search if search else self._burst
        allowed, remaining = bucket.admit() if bucket is not None else (True, 0)
        if allowed:
            with self._lock:
                self._daily_used += 1
        policy = None if allowed else (SEARCH_POLICY if search else BURST_POLICY)
        headers = {} if search else self._headers(remaining)
        return Admission(allowed, policy, headers)

    def _headers(self, remaining: int) -> dict[str, str]:
        if self._burst is None:
            return {}
        with self._lock:
            daily_remaining = max(DAILY_LIMIT - self._daily_used, 0)
        return {
            "X-HubSpot-RateLimit-Max": str(self._burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self._burst.window_s * 1000)),
            "X-HubSpot-RateLimit-Daily": str(DAILY_LIMIT),
            "X-HubSpot-RateLimit-Daily-Remaining": str(daily_remaining),
        }


def _search_window(rate_per_s: float, clock: clocks.Clock) -> RollingWindow:
    """``rate_per_s`` searches in any rolling second; below 1/s, one per ``1/rate`` seconds."""
    if rate_per_s <= 0:
        raise ValueError("search_rate_per_s must be positive or None")
    if rate_per_s >= 1:
        return RollingWindow(int(rate_per_s), 1.0, clock)
    return RollingWindow(1, 1.0 / rate_per_s, clock)

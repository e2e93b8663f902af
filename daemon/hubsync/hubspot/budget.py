"""A per-portal request budget that keeps hubsync under HubSpot's rate limits.

Two lanes share nothing but the lock:

* ``search``: the CRM search API, limited per account to about 5 requests a second. hubsync
  keeps to ``search_per_s`` (4 by default) in any rolling second.
* ``default``: every other call, limited per private app to the plan's burst (190 per 10 s on
  Professional). hubsync keeps to ``burst_max`` (80 % of that) in any rolling ``burst_window_s``.

Each lane is a sliding log: a heap of the moments at which each admitted call leaves the window.
A call is admitted only while fewer than the limit are still in the window, so no rolling window
ever holds more than the limit. ``acquire`` waits with ``clock.sleep``, so under a ``FakeClock``
the budget is deterministic and instant.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hubsync.clock import Clock

Lane = Literal["search", "default"]
LANES: tuple[Lane, ...] = ("search", "default")

# Never sleep less than this: float rounding can leave a wait of 1e-13 s that would not move
# the clock at all, and the loop would spin.
_MIN_SLEEP_S = 0.001

_MAX_HEADER = "x-hubspot-ratelimit-max"
_REMAINING_HEADER = "x-hubspot-ratelimit-remaining"
_INTERVAL_HEADER = "x-hubspot-ratelimit-interval-milliseconds"


@dataclass
class _LaneLog:
    """One lane's sliding log, pause and counters. Guarded by ``RateBudget._lock``."""

    limit: int
    window_s: float
    leaves_at: list[float] = field(default_factory=list)  # heap: when each counted call expires
    paused_until: float = -math.inf
    acquires: int = 0
    waited_s: float = 0.0

    def prune(self, now: float) -> None:
        """Forget the calls that have left the window."""
        while self.leaves_at and self.leaves_at[0] <= now:
            heapq.heappop(self.leaves_at)

    def wait_s(self, now: float) -> float:
        """Seconds until one more call is allowed (0 or less: allowed now)."""
        self.prune(now)
        wait = self.paused_until - now
        excess = len(self.leaves_at) - self.limit + 1
        if excess > 0:
            wait = max(wait, heapq.nsmallest(excess, self.leaves_at)[-1] - now)
        return wait

    def admit(self, now: float) -> None:
        """Count one call made at ``now``."""
        heapq.heappush(self.leaves_at, now + self.window_s)
        self.acquires += 1

    def hold(self, count: int, until: float) -> None:
        """Count ``count`` calls made by someone else, leaving the window at ``until``."""
        for _ in range(count):
            heapq.heappush(self.leaves_at, until)


def _search_log(search_per_s: float) -> _LaneLog:
    """A log that never admits more than ``search_per_s`` calls in any rolling second.

    A fractional rate is rounded down (2.5/s allows 2 per second); a rate below 1/s allows one
    call per ``1 / search_per_s`` seconds.
    """
    if search_per_s >= 1:
        return _LaneLog(limit=math.floor(search_per_s), window_s=1.0)
    return _LaneLog(limit=1, window_s=1.0 / search_per_s)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric header looked up case-insensitively, or None when absent or not a number."""
    for key, value in headers.items():
        if key.lower() == name:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return None
            return number if math.isfinite(number) else None
    return None


class RateBudget:
    """How many HubSpot calls one portal may make now; thread-safe.

    ``acquire`` blocks until a call in the lane is allowed, ``pause`` stops a lane after a 429,
    and ``observe`` lets HubSpot's rate-limit headers slow the default lane down (never speed it
    up past the configured budget).
    """

    def __init__(self, *, search_per_s: float = 4.0, burst_max: int = 152,
                 burst_window_s: float = 10.0, clock: Clock) -> None:
        if search_per_s <= 0 or burst_max < 1 or burst_window_s <= 0:
            raise ValueError("search_per_s, burst_max and burst_window_s must be positive")
        self._clock = clock
        self._lock = threading.Lock()
        self._lanes: dict[Lane, _LaneLog] = {
            "search": _search_log(search_per_s),
            "default": _LaneLog(limit=burst_max, window_s=burst_window_s),
        }

    def acquire(self, lane: Lane) -> None:
        """Wait (with ``clock.sleep``) until a call in ``lane`` is allowed, then count it."""
        log = self._log(lane)
        while True:
            with self._lock:
                now = self._clock.monotonic()
                wait = log.wait_s(now)
                if wait <= 0:
                    log.admit(now)
                    return
                wait = max(wait, _MIN_SLEEP_S)
                log.waited_s += wait
            self._clock.sleep(wait)  # outside the lock: the other lane keeps moving

    def pause(self, lane: Lane, seconds: float) -> None:
        """Allow no call in ``lane`` for ``seconds`` from now; a longer earlier pause is kept."""
        log = self._log(lane)
        with self._lock:
            until = self._clock.monotonic() + max(seconds, 0.0)
            log.paused_until = max(log.paused_until, until)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow the default lane down when HubSpot says fewer calls remain than we think.

        HubSpot's ``X-HubSpot-RateLimit-Remaining`` counts every caller of the same private app.
        Our share of what remains is that number less the headroom the configured budget keeps
        below ``X-HubSpot-RateLimit-Max`` (for 190 and ``burst_max`` 152: 38 calls). When the
        share is below what our own log leaves, the difference is counted as calls made by
        others, which leave the window after ``X-HubSpot-RateLimit-Interval-Milliseconds`` (or
        our own window, whichever is longer). Headers that are missing or not numbers are
        ignored; search responses carry none.
        """
        remaining = _number(headers, _REMAINING_HEADER)
        if remaining is None:
            return
        server_max = _number(headers, _MAX_HEADER)
        interval_ms = _number(headers, _INTERVAL_HEADER)
        log = self._lanes["default"]
        headroom = max(server_max - log.limit, 0.0) if server_max is not None else 0.0
        our_share = max(math.floor(remaining - headroom), 0)
        with self._lock:
            now = self._clock.monotonic()
            log.prune(now)
            deficit = (log.limit - len(log.leaves_at)) - our_share
            if deficit > 0:
                held_s = max(log.window_s, (interval_ms or 0.0) / 1000.0)
                log.hold(deficit, now + held_s)

    @property
    def stats(self) -> dict[str, float]:
        """Counters: ``acquires_<lane>``, ``waited_s_<lane>`` and the total ``waited_s``."""
        with self._lock:
            stats: dict[str, float] = {}
            for name, log in self._lanes.items():
                stats[f"acquires_{name}"] = log.acquires
                stats[f"waited_s_{name}"] = log.waited_s
            stats["waited_s"] = sum(log.waited_s for log in self._lanes.values())
            return stats

    def _log(self, lane: Lane) -> _LaneLog:
        try:
            return self._lanes[lane]
        except KeyError:
            raise ValueError(f"unknown rate lane {lane!r}; expected one of {LANES}") from None

"""RateBudget: no rolling window ever holds more calls than its lane allows, under a FakeClock."""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from hubsync.clock import FakeClock
from hubsync.hubspot.budget import Lane, RateBudget

EPS = 1e-9


def admitted_at(budget: RateBudget, clock: FakeClock, lane: Lane, count: int,
                rng: random.Random | None = None) -> list[float]:
    """Acquire ``count`` times (with random idle gaps when ``rng`` is given); the admit times."""
    times = []
    for _ in range(count):
        if rng is not None and rng.random() < 0.3:
            clock.advance(rng.uniform(0, 3))
        budget.acquire(lane)
        times.append(clock.monotonic())
    return times


def max_in_any_window(times: list[float], window_s: float) -> int:
    """The most admit times that fall in any half-open window [t, t + window_s)."""
    best = 0
    for i, start in enumerate(times):
        inside = [t for t in times[i:] if t < start + window_s - EPS]
        best = max(best, len(inside))
    return best


def test_default_lane_never_exceeds_burst_in_any_rolling_window() -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=152, burst_window_s=10.0, clock=clock)
    times = admitted_at(budget, clock, "default", 700)
    assert max_in_any_window(times, 10.0) == 152
    # ...and the budget is used, not wasted: 700 calls need 4 full windows after the first.
    assert times[-1] - times[0] == pytest.approx(40.0)


def test_default_lane_with_random_idle_gaps_never_exceeds_the_limit() -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=7, burst_window_s=10.0, clock=clock)
    times = admitted_at(budget, clock, "default", 300, rng=random.Random(7))
    assert max_in_any_window(times, 10.0) <= 7
    assert all(later >= earlier for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize(("rate", "per_window", "window_s"),
                         [(4.0, 4, 1.0), (2.5, 2, 1.0), (0.5, 1, 2.0)])
def test_search_lane_keeps_to_its_rate_in_any_rolling_second(
        rate: float, per_window: int, window_s: float) -> None:
    clock = FakeClock()
    budget = RateBudget(search_per_s=rate, clock=clock)
    times = admitted_at(budget, clock, "search", 60, rng=random.Random(3))
    assert max_in_any_window(times, 1.0) <= max(int(rate), 1)
    assert max_in_any_window(times, window_s) <= per_window


def test_first_calls_do_not_wait() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    for _ in range(4):
        budget.acquire("search")
    assert clock.sleeps == []
    budget.acquire("search")
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_pause_delays_the_lane_until_it_ends() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    start = clock.monotonic()
    budget.pause("default", 7.5)
    budget.acquire("default")
    assert clock.monotonic() - start == pytest.approx(7.5)
    budget.acquire("default")  # the pause is over
    assert clock.monotonic() - start == pytest.approx(7.5)


def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    start = clock.monotonic()
    budget.pause("search", 10.0)
    budget.pause("search", 1.0)
    budget.acquire("search")
    assert clock.monotonic() - start == pytest.approx(10.0)


def test_lanes_are_independent() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    budget.pause("search", 30.0)
    for _ in range(152):
        budget.acquire("default")
    assert clock.sleeps == []  # neither the search pause nor search traffic slows default
    budget.acquire("search")
    assert clock.sleeps == [pytest.approx(30.0)]
    stats = budget.stats
    assert stats["acquires_default"] == 152
    assert stats["acquires_search"] == 1
    assert stats["waited_s"] == pytest.approx(30.0)
    assert stats["waited_s_search"] == pytest.approx(30.0)
    assert stats["waited_s_default"] == 0


def test_observe_with_low_remaining_slows_the_default_lane() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)  # 152 of 190: a headroom of 38
    budget.observe({
        "X-HubSpot-RateLimit-Max": "190",
        "X-HubSpot-RateLimit-Remaining": "41",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    })
    start = clock.monotonic()
    for _ in range(3):  # our share: 41 - 38
        budget.acquire("default")
    assert clock.sleeps == []
    budget.acquire("default")
    assert clock.monotonic() - start == pytest.approx(10.0)


def test_observe_holds_for_the_longer_server_interval() -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=10, burst_window_s=10.0, clock=clock)
    budget.observe({"x-hubspot-ratelimit-remaining": "0",
                    "x-hubspot-ratelimit-interval-milliseconds": "20000"})
    start = clock.monotonic()
    budget.acquire("default")
    assert clock.monotonic() - start == pytest.approx(20.0)


def test_observe_never_speeds_up_past_the_configured_budget() -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=5, clock=clock)
    for _ in range(5):
        budget.acquire("default")
    budget.observe({"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "185"})
    start = clock.monotonic()
    budget.acquire("default")
    assert clock.monotonic() - start == pytest.approx(10.0)


@pytest.mark.parametrize("headers", [
    {},
    {"X-HubSpot-RateLimit-Remaining": "lots"},
    {"X-HubSpot-RateLimit-Remaining": "nan"},
    {"X-HubSpot-RateLimit-Max": "190"},
])
def test_observe_ignores_missing_or_garbled_headers(headers: dict[str, str]) -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=3, clock=clock)
    budget.observe(headers)
    for _ in range(3):
        budget.acquire("default")
    assert clock.sleeps == []


def test_observe_only_touches_the_default_lane() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    budget.observe({"X-HubSpot-RateLimit-Remaining": "0"})
    for _ in range(4):
        budget.acquire("search")
    assert clock.sleeps == []


def test_unknown_lane_is_rejected() -> None:
    budget = RateBudget(clock=FakeClock())
    with pytest.raises(ValueError, match="unknown rate lane"):
        budget.acquire("bulk")  # type: ignore[arg-type]


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        RateBudget(search_per_s=0, clock=FakeClock())


def test_concurrent_acquires_are_all_counted_and_all_wait() -> None:
    clock = FakeClock()
    budget = RateBudget(burst_max=10, burst_window_s=10.0, clock=clock)
    start = clock.monotonic()

    def worker() -> None:
        for _ in range(50):
            budget.acquire("default")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert budget.stats["acquires_default"] == 200
    # 200 calls at 10 per 10 s need at least 19 windows after the first.
    assert clock.monotonic() - start >= 190.0 - EPS

"""ops.health over real HTTP: metrics after cycles, gauges at scrape time, liveness, readiness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from hubsync.ops import health as health_mod

INTERVAL_S = 30.0
T0 = 1_767_600_000.0
TOKEN = "pat-na1-0123456789abcdef0123456789ab"


@dataclass
class Rig:
    """A served ``Health`` with a hand-moved clock and ledger stand-ins."""

    health: health_mod.Health
    url: str
    time: list[float]
    ops: dict[tuple[str, str], int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    ledger_ok: list[bool] = field(default_factory=lambda: [True])

    def advance(self, seconds: float) -> None:
        self.time[0] += seconds

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=5)

    def sample(self, name: str, **labels: str) -> float | None:
        text = self.get("/metrics").text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return float(s.value)
        return None


@pytest.fixture
def rig() -> Iterator[Rig]:
    time = [T0]
    ops: dict[tuple[str, str], int] = {}
    events: dict[str, int] = {}
    ledger_ok = [True]
    health = health_mod.Health(INTERVAL_S, now=lambda: time[0],
                               ledger_ok=lambda: ledger_ok[0],
                               outbox_items=lambda: ops, ledger_events=lambda: events)
    server = health.serve(port=0)
    try:
        yield Rig(health, f"http://127.0.0.1:{server.server_address[1]}", time, ops, events,
                  ledger_ok)
    finally:
        health.close()


class TestMetrics:
    def test_counters_after_two_cycles(self, rig: Rig) -> None:
        """Cycle results, event outcomes, writes and requests add up across cycles."""
        rig.health.record_cycle(
            {"events_done": 3, "events_failed": 1, "notes_done": 2, "updates_done": 4,
             "hubspot_requests": 7, "tickets_seen": 9}, {}, duration_s=1.5, now=T0 + 10)
        rig.health.record_cycle(
            {"events_done": 2, "notes_done": 1, "reconciled_found": 1, "hubspot_requests": 5},
            {"acme:tickets": "HTTP 503: GET /crm/v3/objects/tickets/search"},
            duration_s=4.0, now=T0 + 40)
        assert rig.sample("hubsync_cycles_total", result="ok") == 1
        assert rig.sample("hubsync_cycles_total", result="failed") == 1
        assert rig.sample("hubsync_last_success_timestamp_seconds") == T0 + 10
        assert rig.sample("hubsync_cycle_duration_seconds_count") == 2
        assert rig.sample("hubsync_cycle_duration_seconds_sum") == 5.5
        assert rig.sample("hubsync_events_total", outcome="done") == 5
        assert rig.sample("hubsync_events_total", outcome="failed") == 1
        assert rig.sample("hubsync_writes_total", kind="notes_done") == 3
        assert rig.sample("hubsync_writes_total", kind="updates_done") == 4
        assert rig.sample("hubsync_writes_total", kind="reconciled_found") == 1
        assert rig.sample("hubsync_writes_total", kind="priority_raised") == 0
        assert rig.sample("hubsync_hubspot_requests_total") == 12

    def test_gauges_read_the_callables_at_scrape_time(self, rig: Rig) -> None:
        """Outbox states are summed over kinds; known states read 0 when absent."""
        rig.ops.update({("note", "pending"): 2, ("update", "pending"): 3, ("note", "dead"): 1})
        rig.events.update({"pending": 4, "done": 10})
        assert rig.sample("hubsync_outbox_items", state="pending") == 5
        assert rig.sample("hubsync_outbox_items", state="dead") == 1
        assert rig.sample("hubsync_outbox_items", state="unknown") == 0
        assert rig.sample("hubsync_ledger_events", status="done") == 10
        rig.ops.clear()
        rig.events["pending"] = 0
        assert rig.sample("hubsync_outbox_items", state="pending") == 0
        assert rig.sample("hubsync_ledger_events", status="pending") == 0

    def test_failing_source_leaves_the_rest_of_the_scrape(self) -> None:
        """A gauge source that raises drops its family, not the whole /metrics answer."""
        def broken() -> dict[str, int]:
            raise OSError("database is locked")
        health = health_mod.Health(INTERVAL_S, ledger_events=broken)
        text = health.metrics().decode()
        assert "hubsync_cycles_total" in text and "hubsync_ledger_events" not in text


class TestLiveness:
    def test_livez_follows_finished_cycles(self, rig: Rig) -> None:
        """Live for 2 × interval after start or after a cycle, then 503; /healthz agrees."""
        assert rig.get("/livez").status_code == 200
        rig.advance(2 * INTERVAL_S + 1)
        assert [rig.get(p).status_code for p in ("/livez", "/healthz")] == [503, 503]
        rig.health.record_cycle({}, {"acme:tickets": "HTTP 500"}, 1.0, now=rig.time[0])
        assert rig.get("/livez").json() == {"live": True, "last_cycle_age_s": 0.0}
        rig.advance(2 * INTERVAL_S)
        assert rig.get("/healthz").status_code == 200
        rig.advance(1)
        assert rig.get("/livez").status_code == 503


class TestReadiness:
    def test_problem_named_then_cleared(self, rig: Rig) -> None:
        """/readyz is 503 naming the problem while it is set, 200 once cleared."""
        rig.health.set_ready_problem("lock", "ledger lock not held")
        answer = rig.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {"ready": False, "problems": {"lock": "ledger lock not held"}}
        rig.health.set_ready_problem("lock", None)
        answer = rig.get("/readyz")
        assert (answer.status_code, answer.json()) == (200, {"ready": True, "problems": {}})

    def test_ledger_check(self, rig: Rig) -> None:
        """A failing ledger check makes hubsync not ready."""
        rig.ledger_ok[0] = False
        assert rig.get("/readyz").json()["problems"] == {"ledger": "ledger check failed"}

    def test_auth_failure_from_a_cycle(self, rig: Rig) -> None:
        """A rejected token flags its portal until a cycle passes without it, token unsaid."""
        rig.health.record_cycle({}, {
            "acme:verify": f"HTTP 401 INVALID_AUTHENTICATION: GET /x Bearer {TOKEN}",
            "beta:verify": "HubSpot is missing the custom properties ai_category"}, 1.0, T0)
        answer = rig.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"] == {"auth:acme": "HubSpot rejected the token",
                                             "properties:beta": "custom properties not verified"}
        assert rig.sample("hubsync_portal_auth_failed", portal="acme") == 1
        metrics = rig.get("/metrics").text
        assert TOKEN not in metrics and TOKEN not in answer.text

        rig.health.record_cycle({}, {"acme:tickets": "HTTP 503: GET /search"}, 1.0, T0 + 30)
        assert rig.get("/readyz").status_code == 200
        assert rig.sample("hubsync_portal_auth_failed", portal="acme") == 0

    def test_reasons_are_redacted(self, rig: Rig) -> None:
        """A reason that quotes a token shows it redacted."""
        rig.health.set_ready_problem("simpli", f"rejected {TOKEN}")
        assert rig.get("/readyz").json()["problems"] == {"simpli": "rejected [redacted]"}


class TestServing:
    @pytest.mark.parametrize("host", ["0.0.0.0", "", "192.0.2.10", "::"])
    def test_non_loopback_host_is_refused(self, host: str) -> None:
        """Without allow_remote, only loopback hosts may be bound."""
        with pytest.raises(ValueError, match="non-loopback"):
            health_mod.Health(INTERVAL_S).serve(host, 0)

    def test_unknown_path_is_404(self, rig: Rig) -> None:
        assert rig.get("/admin").status_code == 404

    def test_close_releases_the_port(self) -> None:
        """After close() nothing answers on the port."""
        health = health_mod.Health(INTERVAL_S)
        port = health.serve("localhost", 0).server_address[1]
        health.close()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/livez", timeout=2)

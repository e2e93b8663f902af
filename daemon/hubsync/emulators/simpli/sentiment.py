"""Sentiment stand-in: ``POST /analyze``, ``GET /customers/{id}/sentiment``, ``GET /alerts``.

The analysis is keyword based, like the real service's default analyser. Words match whole,
case-insensitively; every occurrence counts.

- ``score`` = ``clamp((positive - negative) * 0.25, -1, 1)`` with the word lists below;
- ``label`` = ``positive`` if score ≥ 0.3, ``negative`` if score ≤ -0.3, else ``neutral``;
- ``triggers`` = the distinct ``ESCALATION_WORDS`` present, in order of first appearance;
- ``escalation_risk`` = ``min(1, 0.2 * len(triggers) + (0.25 if label is negative else 0))``.

Scores are computed in integer hundredths, so they are exact two-decimal values.

Each analysis is appended to the customer's timeline (``limit`` 1..500, default 50; ``offset``
≥ 0, default 0; oldest first; an unknown customer has an empty timeline). An analysis with
``escalation_risk`` ≥ 0.5 also raises an alert (``GET /alerts``, oldest first).

Requests: ``customer_id`` must match ``^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`` (the whole string, so
an email address or a trailing newline is rejected), ``text`` 1..10000 characters, optional
``channel`` one of email, chat, phone, social, web (lower case) or null. The path parameter of
the timeline is checked against the same pattern.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Unpack

from hubsync.emulators.simpli import base

CUSTOMER_ID = base.Text(min_len=1, max_len=64, pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

NEGATIVE_WORDS = (
    "angry",
    "unacceptable",
    "terrible",
    "frustrated",
    "frustrating",
    "worst",
    "awful",
    "horrible",
    "disappointed",
    "useless",
    "hate",
    "ridiculous",
    "annoyed",
    "upset",
    "broken",
    "poor",
)
POSITIVE_WORDS = (
    "thanks",
    "thank",
    "great",
    "love",
    "awesome",
    "appreciate",
    "excellent",
    "happy",
    "helpful",
    "perfect",
    "wonderful",
    "amazing",
)
ESCALATION_WORDS = (
    "cancel",
    "lawsuit",
    "lawyer",
    "legal",
    "refund",
    "manager",
    "supervisor",
    "complaint",
    "escalate",
    "unacceptable",
    "chargeback",
)

ALERT_THRESHOLD = 0.5  # escalation_risk at which an alert is raised


def analyse(text: str) -> dict[str, Any]:
    """The ``/analyze`` answer for ``text``."""
    balance = base.count_keywords(text, POSITIVE_WORDS) - base.count_keywords(text, NEGATIVE_WORDS)
    score = max(-100, min(100, balance * 25))  # hundredths
    label = "positive" if score >= 30 else "negative" if score <= -30 else "neutral"
    triggers = base.find_keywords(text, ESCALATION_WORDS)
    risk = min(100, 20 * len(triggers) + (25 if label == "negative" else 0))
    return {
        "score": score / 100,
        "label": label,
        "escalation_risk": risk / 100,
        "triggers": triggers,
    }


class SentimentStandIn(base.StandIn):
    """The Sentiment service: per-message analysis, customer timelines and alerts."""

    service = "sentiment"

    def __init__(self, **options: Unpack[base.StandInOptions]) -> None:
        super().__init__(**options)
        self._state_lock = threading.Lock()
        self._timelines: dict[str, list[dict[str, Any]]] = {}
        self._alerts: list[dict[str, Any]] = []

    def routes(self) -> list[base.Route]:
        return [
            base.Route("POST", "/analyze", self._analyze),
            base.Route("GET", "/customers/{customer_id}/sentiment", self._timeline),
            base.Route("GET", "/alerts", self._list_alerts),
        ]

    def _analyze(self, request: base.Request) -> dict[str, Any]:
        fields = base.Fields(request.body)
        customer_id = fields.require_string("customer_id", CUSTOMER_ID)
        text = fields.require_string("text", base.Text(min_len=1, max_len=10_000))
        channel = fields.optional_string("channel", base.Text(choices=base.CHANNELS))
        fields.check()
        result = analyse(text)
        entry = {
            **result,
            "customer_id": customer_id,
            "channel": channel,
            "analyzed_at": datetime.now(UTC).isoformat(),
        }
        with self._state_lock:
            self._timelines.setdefault(customer_id, []).append(entry)
            if result["escalation_risk"] >= ALERT_THRESHOLD:
                self._alerts.append(entry)
        return result

    def _timeline(self, request: base.Request) -> dict[str, Any]:
        customer_id = request.path_params["customer_id"]
        problem = base.string_problem(customer_id, CUSTOMER_ID)
        if problem:
            raise base.validation_error([{"field": "path -> customer_id", "message": problem}])
        limit = base.query_integer(request, "limit", default=50, minimum=1, maximum=500)
        offset = base.query_integer(request, "offset", default=0, minimum=0)
        with self._state_lock:
            timeline = list(self._timelines.get(customer_id, []))
        return {
            "customer_id": customer_id,
            "total": len(timeline),
            "limit": limit,
            "offset": offset,
            "items": timeline[offset : offset + limit],
        }

    def _list_alerts(self, _request: base.Request) -> dict[str, Any]:
        with self._state_lock:
            return {"alerts": list(self._alerts)}

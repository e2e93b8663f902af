r"""Triage stand-in: ``POST /classify``, ``POST /route``, ``GET /rules``.

Classification is keyword based and deterministic. Keywords match as whole words (or phrases),
case-insensitively, in ``subject + "\n" + body``; typographic apostrophes count as ``'``.

- ``category``: the category whose keywords occur most often (every occurrence counts, ties go
  to the earlier category in ``CATEGORY_KEYWORDS``); no occurrence at all → ``general``.
- ``urgency``: ``critical`` if any critical keyword occurs, else ``high``, else ``low``, else
  ``medium`` (see ``URGENCY_KEYWORDS``).
- ``sentiment``: ``negative`` if any negative keyword occurs, else ``positive`` if any positive
  one does, else ``neutral``.
- ``confidence``: ``min(0.97, 0.55 + 0.08 * occurrences)`` of the chosen category's keywords;
  ``general`` → ``0.5``.

Routing follows ``ROUTING_RULES``, first match wins: critical urgency → ``A-001``, otherwise the
category's specialist. ``team`` is always the category.

Requests: ``/classify`` needs ``subject`` (string, 1..500) and ``body`` (string, 0..20000), and
takes an optional ``metadata`` object. ``/route`` needs ``ticket_id`` (non-empty string),
``category`` (one of the five) and ``urgency`` (one of the four), and takes optional
``sentiment`` (string) and ``confidence`` (number). Other fields are ignored.
"""

from __future__ import annotations

from typing import Any

from hubsync.emulators.simpli import base

CATEGORIES = ("billing", "technical", "account", "feature_request", "general")
URGENCIES = ("low", "medium", "high", "critical")

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "billing": (
        "charge",
        "charged",
        "invoice",
        "refund",
        "payment",
        "billing",
        "subscription",
        "price",
    ),
    "technical": (
        "error",
        "crash",
        "bug",
        "broken",
        "not working",
        "500",
        "timeout",
        "slow",
        "api",
    ),
    "account": ("password", "login", "log in", "account", "username", "2fa", "email address"),
    "feature_request": ("feature", "would be nice", "suggestion", "could you add", "roadmap"),
}

URGENCY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("critical", ("outage", "down for everyone", "security", "breach", "data loss", "urgent")),
    ("high", ("asap", "immediately", "cannot", "can't", "unable", "blocked", "charged twice")),
    ("low", ("question", "wondering", "curious", "feature", "suggestion")),
)

SENTIMENT_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "negative",
        ("angry", "unacceptable", "terrible", "frustrated", "worst", "cancel", "disappointed"),
    ),
    ("positive", ("thanks", "great", "love", "awesome", "appreciate")),
)

# (condition, agent): the first rule whose condition holds picks the agent.
ROUTING_RULES: tuple[tuple[dict[str, str], str], ...] = (
    ({"urgency": "critical"}, "A-001"),
    ({"category": "billing"}, "A-012"),
    ({"category": "technical"}, "A-021"),
    ({"category": "account"}, "A-033"),
    ({"category": "feature_request"}, "A-044"),
    ({"category": "general"}, "A-050"),
)


def categorise(text: str) -> tuple[str, int]:
    """The category of ``text`` and how many of its keywords occur (``("general", 0)`` if none)."""
    best, best_hits = "general", 0
    for category, keywords in CATEGORY_KEYWORDS.items():
        hits = base.count_keywords(text, keywords)
        if hits > best_hits:
            best, best_hits = category, hits
    return best, best_hits


def urgency_of(text: str) -> str:
    """The first urgency level whose keywords occur in ``text``, else ``medium``."""
    return _first_level(text, URGENCY_KEYWORDS, "medium")


def sentiment_of(text: str) -> str:
    """``negative`` or ``positive`` by keyword (negative wins), else ``neutral``."""
    return _first_level(text, SENTIMENT_KEYWORDS, "neutral")


def _first_level(text: str, levels: tuple[tuple[str, tuple[str, ...]], ...], default: str) -> str:
    for level, keywords in levels:
        if base.count_keywords(text, keywords):
            return level
    return default


def classify(subject: str, body: str) -> dict[str, Any]:
    """The ``/classify`` answer for a ticket."""
    text = f"{subject}\n{body}"
    category, hits = categorise(text)
    confidence = 50 if category == "general" else min(97, 55 + 8 * hits)  # hundredths
    return {
        "category": category,
        "urgency": urgency_of(text),
        "sentiment": sentiment_of(text),
        "confidence": confidence / 100,
    }


def route(category: str, urgency: str) -> dict[str, str]:
    """The ``/route`` answer for a classified ticket."""
    facts = {"category": category, "urgency": urgency}
    agent = next(
        agent
        for condition, agent in ROUTING_RULES
        if all(facts[key] == value for key, value in condition.items())
    )
    label = category.replace("_", " ")
    target = "on-call lead" if urgency == "critical" else "specialist"
    reason = f"{urgency.capitalize()} urgency {label} issue routed to {target}"
    return {"team": category, "agent": agent, "reason": reason}


class TriageStandIn(base.StandIn):
    """The Triage service: classification and routing."""

    service = "triage"

    def routes(self) -> list[base.Route]:
        return [
            base.Route("POST", "/classify", self._classify),
            base.Route("POST", "/route", self._route_ticket),
            base.Route("GET", "/rules", self._rules),
        ]

    def _classify(self, request: base.Request) -> dict[str, Any]:
        fields = base.Fields(request.body)
        subject = fields.require_string("subject", base.Text(min_len=1, max_len=500))
        body = fields.require_string("body", base.Text(max_len=20_000))
        fields.optional_object("metadata")
        fields.check()
        return classify(subject, body)

    def _route_ticket(self, request: base.Request) -> dict[str, str]:
        fields = base.Fields(request.body)
        fields.require_string("ticket_id", base.Text(min_len=1))
        category = fields.require_string("category", base.Text(choices=CATEGORIES))
        urgency = fields.require_string("urgency", base.Text(choices=URGENCIES))
        fields.optional_string("sentiment")
        fields.optional_number("confidence")
        fields.check()
        return route(category, urgency)

    def _rules(self, _request: base.Request) -> list[dict[str, Any]]:
        return [
            {"priority": index, "when": condition, "agent": agent}
            for index, (condition, agent) in enumerate(ROUTING_RULES, start=1)
        ]

"""QA stand-in: ``POST /evaluate``, also served at ``POST /api/v1/evaluate``.

Scores are deterministic, in integer hundredths, from the agent messages only (except
efficiency, which counts every message):

- ``empathy``: 0.40 + 0.15 per occurrence of an ``EMPATHY_WORDS`` word, at most 1.00;
- ``resolution``: 0.90 if any agent message contains a ``RESOLUTION_PHRASES`` phrase, else 0.30
  (a conversation without any agent message is accepted and scores 0.30);
- ``communication``: by the mean agent message length in characters: none → 0.20, under 20 →
  0.40, up to 400 → 0.90, up to 1000 → 0.70, longer → 0.50;
- ``efficiency``: by the number of messages: up to 4 → 0.90, 8 → 0.75, 14 → 0.60, more → 0.40;
- ``overall_score``: 0.3 empathy + 0.3 resolution + 0.25 communication + 0.15 efficiency,
  rounded half up to two decimals;
- ``coaching_notes``: one fixed note per dimension below 0.70, in the order above.

Words and phrases match whole, case-insensitively. Requests: ``messages`` a non-empty list of
``{role: customer|agent|system, content: 1..10000 chars}``; optional ``conversation_id`` and
``agent_id`` strings (or null).
"""

from __future__ import annotations

from typing import Any

from hubsync.emulators.simpli import base

EMPATHY_WORDS = (
    "sorry",
    "apologize",
    "apologise",
    "apologies",
    "thank",
    "thanks",
    "understand",
    "appreciate",
)
RESOLUTION_PHRASES = ("resolved", "fixed", "refund issued", "done")

WEIGHTS = {"empathy": 30, "resolution": 30, "communication": 25, "efficiency": 15}

COACHING_NOTES = {
    "empathy": "Acknowledge the customer's situation and thank them for their patience.",
    "resolution": "Confirm the issue is resolved, or state the next step and when it happens.",
    "communication": "Write complete, clear replies: neither one-liners nor walls of text.",
    "efficiency": "Reach a resolution in fewer back-and-forth messages.",
}


def evaluate(messages: list[base.Message]) -> dict[str, Any]:
    """The ``/evaluate`` answer for a conversation."""
    agent_texts = [m.content for m in messages if m.role == "agent"]
    scores = {
        "empathy": min(
            100, 40 + 15 * sum(base.count_keywords(t, EMPATHY_WORDS) for t in agent_texts)
        ),
        "resolution": 90
        if any(base.count_keywords(t, RESOLUTION_PHRASES) for t in agent_texts)
        else 30,
        "communication": _communication(agent_texts),
        "efficiency": _efficiency(len(messages)),
    }
    weighted = sum(WEIGHTS[name] * score for name, score in scores.items())  # 1/10000ths
    return {
        "overall_score": ((weighted + 50) // 100) / 100,
        "dimensions": {name: score / 100 for name, score in scores.items()},
        "coaching_notes": [COACHING_NOTES[name] for name, score in scores.items() if score < 70],
    }


def _communication(agent_texts: list[str]) -> int:
    if not agent_texts:
        return 20
    mean_length = sum(len(text) for text in agent_texts) / len(agent_texts)
    if mean_length < 20:
        return 40
    if mean_length <= 400:
        return 90
    return 70 if mean_length <= 1000 else 50


def _efficiency(message_count: int) -> int:
    if message_count <= 4:
        return 90
    if message_count <= 8:
        return 75
    return 60 if message_count <= 14 else 40


class QAStandIn(base.StandIn):
    """The QA service: conversation scoring."""

    service = "qa"

    def routes(self) -> list[base.Route]:
        return [
            base.Route("POST", "/evaluate", self._evaluate),
            base.Route("POST", "/api/v1/evaluate", self._evaluate),
        ]

    def _evaluate(self, request: base.Request) -> dict[str, Any]:
        fields = base.Fields(request.body)
        fields.optional_string("conversation_id")
        fields.optional_string("agent_id")
        messages = base.read_messages(fields, "messages")
        fields.check()
        return evaluate(messages)

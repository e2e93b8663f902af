"""Typed clients for the Simpli services hubsync calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hubsync.simpli.http import SimpliHTTP
from hubsync.simpli.records import Classification, Draft, Route

SUBJECT_MAX = 500
BODY_MAX = 20_000
MESSAGE_MAX = 10_000


@dataclass(frozen=True)
class Message:
    role: str       # customer | agent | system
    content: str


class Triage:
    def __init__(self, http: SimpliHTTP) -> None:
        self.http = http

    def classify(self, subject: str, body: str) -> Classification:
        answer = self.http.post("/classify", {
            "subject": (subject.strip() or "(no subject)")[:SUBJECT_MAX],
            "body": body[:BODY_MAX],
        })
        return Classification.from_api(answer, "triage")

    def route(self, ticket_id: str, category: str, c: Classification) -> Route:
        """Route with the *mapped* category: Simpli's route accepts only the five known."""
        answer = self.http.post("/route", {
            "ticket_id": ticket_id, "category": category, "urgency": c.urgency,
            "sentiment": c.sentiment or "neutral", "confidence": c.confidence,
        })
        return Route.from_api(answer, "triage")


class Reply:
    def __init__(self, http: SimpliHTTP, *, style: str, language: str) -> None:
        self.http = http
        self.style = style
        self.language = language

    def draft(self, ticket_id: str, conversation: Sequence[Message]) -> Draft:
        answer = self.http.post("/api/v1/draft", {
            "ticket_id": ticket_id,
            "conversation": [{"role": m.role, "content": m.content[:MESSAGE_MAX]}
                             for m in conversation if m.content.strip()],
            "style": self.style,
            "language": self.language,
        })
        return Draft.from_api(answer, "reply")

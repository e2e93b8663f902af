"""Typed clients for the Simpli services hubsync calls."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hubsync.simpli.http import SimpliHTTP
from hubsync.simpli.records import Classification, Draft, QAResult, Route, SentimentResult

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


# HubSpot channels → Simpli's channel values (email, chat, phone, social, web).
CHANNEL_IDS = {"1000": "chat", "1001": "social", "1002": "email"}
SOURCE_TYPES = {"EMAIL": "email", "CHAT": "chat", "PHONE": "phone", "FORM": "web"}
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def channel_for(channel_id: str | None = None, source_type: str | None = None) -> str | None:
    """Simpli's channel for a HubSpot channel id or ticket source; None when unknown."""
    if channel_id is not None and channel_id in CHANNEL_IDS:
        return CHANNEL_IDS[channel_id]
    if source_type is not None:
        return SOURCE_TYPES.get(source_type.upper())
    return None


class Sentiment:
    def __init__(self, http: SimpliHTTP) -> None:
        self.http = http

    def analyze(self, customer_id: str, text: str, channel: str | None) -> SentimentResult:
        """Analyze one message. Text beyond Simpli's 10,000 characters is cut off."""
        if not CUSTOMER_ID.match(customer_id):
            raise ValueError("customer id does not match Simpli's pattern")
        body: dict[str, str] = {"customer_id": customer_id, "text": text[:MESSAGE_MAX]}
        if channel is not None:
            body["channel"] = channel
        return SentimentResult.from_api(self.http.post("/analyze", body), "sentiment")


class QA:
    def __init__(self, http: SimpliHTTP, *, path: str) -> None:
        self.http = http
        self.path = path

    def evaluate(self, conversation_id: str, agent_id: str | None,
                 conversation: Sequence[Message]) -> QAResult:
        body: dict[str, object] = {
            "conversation_id": conversation_id,
            "messages": [{"role": m.role, "content": m.content[:MESSAGE_MAX]}
                         for m in conversation if m.content.strip()],
        }
        if agent_id:
            body["agent_id"] = agent_id
        return QAResult.from_api(self.http.post(self.path, body), "qa")

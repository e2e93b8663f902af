r"""Reply stand-in: ``POST /api/v1/draft``, ``GET /api/v1/styles``, ``POST /api/v1/feedback``.

The draft is built from fixed English text (whatever ``language`` says) in three paragraphs:

1. an opening that QUOTES the first customer message's first non-blank line verbatim (stripped
   of surrounding whitespace, never escaped or shortened), e.g.
   ``Hi there,\n\nThanks for getting in touch about "<line>".``; without a customer message
   the opening has no quote. This is deliberate: untrusted customer text (HTML, scripts, huge
   lines) travels back to the daemon, which must escape it before writing a HubSpot note;
2. a paragraph chosen by the Triage keyword category of all customer messages together;
3. a sign-off. ``formal`` uses different wording throughout.

``draft_id`` is ``"d-"`` + the first 8 hex digits of a SHA-256 over the validated input, so
the same request always gets the same id. ``confidence`` is 0.82 for a recognised category,
0.6 for ``general`` and 0.4 without any customer message. ``suggested_template`` names a
template per category, null for ``general``.

Requests: ``ticket_id`` (non-empty string); ``conversation`` or, when that is absent,
``messages``: a non-empty list of ``{role: customer|agent|system, content: 1..10000 chars}``;
``style`` ``friendly`` (default) or ``formal``; ``language`` two lower-case letters (default
``en``). Feedback needs ``draft_id`` (non-empty string) and ``accepted`` (boolean), and takes
an optional ``edited_text`` string; it is kept in ``feedback`` and answered
``{"status": "recorded"}``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from typing import Any, Unpack

from hubsync.emulators.simpli import base, triage

STYLES = ("friendly", "formal")

_OPENING = {
    "friendly": (
        'Hi there,\n\nThanks for getting in touch about "{line}".',
        "Hi there,\n\nThanks for getting in touch.",
    ),
    "formal": (
        'Dear customer,\n\nThank you for contacting us regarding "{line}".',
        "Dear customer,\n\nThank you for contacting us.",
    ),
}

_BODY = {
    "friendly": {
        "billing": "I've passed this to our billing team, who will review the charges on your "
        "account and put right anything that's wrong.",
        "technical": "Sorry for the trouble! Our engineers are looking into it. If you can tell "
        "us when it started and what you see on screen, we can fix it faster.",
        "account": "For your security we'll verify a few details before changing anything on "
        "your account. You can also reset your password from the sign-in page.",
        "feature_request": "Thanks for the suggestion! I've shared it with our product team, "
        "who review every request when planning the roadmap.",
        "general": "We've received your message and someone from the team will follow up shortly.",
    },
    "formal": {
        "billing": "Our billing department will review the charges on your account and correct "
        "any discrepancy.",
        "technical": "We apologise for the inconvenience. Our engineering team is investigating, "
        "and any details of when the issue began will help us resolve it.",
        "account": "For your security, we will verify your identity before making any changes "
        "to your account.",
        "feature_request": "We have forwarded your suggestion to our product team for "
        "consideration.",
        "general": "We have received your message and a member of our team will respond shortly.",
    },
}

_SIGN_OFF = {
    "friendly": "Best wishes,\nThe Support Team",
    "formal": "Kind regards,\nCustomer Support",
}

_TEMPLATES = {
    "billing": "billing-charge-review",
    "technical": "technical-troubleshooting",
    "account": "account-access",
    "feature_request": "feature-request-thanks",
    "general": None,
}


_CONFIDENCE = {category: 60 if category == "general" else 82 for category in _TEMPLATES}


@dataclasses.dataclass(frozen=True)
class Feedback:
    """One ``/api/v1/feedback`` call."""

    draft_id: str
    accepted: bool
    edited_text: str | None


def first_customer_line(messages: list[base.Message]) -> str | None:
    """The first non-blank line of the first customer message, stripped; None if there is none."""
    for message in messages:
        if message.role == "customer":
            return next(
                (line.strip() for line in message.content.splitlines() if line.strip()), None
            )
    return None


def draft(
    ticket_id: str, messages: list[base.Message], style: str, language: str
) -> dict[str, Any]:
    """The ``/api/v1/draft`` answer."""
    customer_text = "\n".join(m.content for m in messages if m.role == "customer")
    category, _ = triage.categorise(customer_text)
    line = first_customer_line(messages)
    with_quote, without_quote = _OPENING[style]
    opening = with_quote.replace("{line}", line) if line is not None else without_quote
    text = "\n\n".join((opening, _BODY[style][category], _SIGN_OFF[style]))
    confidence = _CONFIDENCE[category] if customer_text else 40  # hundredths
    return {
        "draft_id": make_draft_id(ticket_id, messages, style, language),
        "draft": text,
        "confidence": confidence / 100,
        "suggested_template": _TEMPLATES[category],
        "language": language,
    }


def make_draft_id(ticket_id: str, messages: list[base.Message], style: str, language: str) -> str:
    """``d-`` + 8 hex digits, a hash of everything that shapes the draft."""
    canonical = json.dumps([ticket_id, [dataclasses.astuple(m) for m in messages], style, language])
    return "d-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


class ReplyStandIn(base.StandIn):
    """The Reply service: draft responses for agents."""

    service = "reply"

    def __init__(self, **options: Unpack[base.StandInOptions]) -> None:
        super().__init__(**options)
        self._feedback_lock = threading.Lock()
        self._feedback: list[Feedback] = []

    @property
    def feedback(self) -> list[Feedback]:
        """Every accepted ``/api/v1/feedback`` call, oldest first."""
        with self._feedback_lock:
            return list(self._feedback)

    def routes(self) -> list[base.Route]:
        return [
            base.Route("POST", "/api/v1/draft", self._draft),
            base.Route("GET", "/api/v1/styles", lambda _request: {"styles": list(STYLES)}),
            base.Route("POST", "/api/v1/feedback", self._record_feedback),
        ]

    def _draft(self, request: base.Request) -> dict[str, Any]:
        fields = base.Fields(request.body)
        ticket_id = fields.require_string("ticket_id", base.Text(min_len=1))
        uses_messages = fields.has("messages") and not fields.has("conversation")
        source = "messages" if uses_messages else "conversation"
        messages = base.read_messages(fields, source)
        style = fields.defaulted_string("style", base.Text(choices=STYLES), default="friendly")
        language = fields.defaulted_string("language", base.Text(pattern="[a-z]{2}"), default="en")
        fields.check()
        return draft(ticket_id, messages, style, language)

    def _record_feedback(self, request: base.Request) -> dict[str, str]:
        fields = base.Fields(request.body)
        draft_id = fields.require_string("draft_id", base.Text(min_len=1))
        accepted = fields.require_boolean("accepted")
        edited_text = fields.optional_string("edited_text")
        fields.check()
        with self._feedback_lock:
            self._feedback.append(Feedback(draft_id, accepted, edited_text))
        return {"status": "recorded"}

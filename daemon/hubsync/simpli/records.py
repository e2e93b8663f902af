"""Simpli answers, validated before anything is written to HubSpot.

AI output is untrusted: enums are checked, numbers range-checked, text length-capped and
stripped of control characters. A bad answer raises ``errors.BadAIAnswer`` naming the field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hubsync import errors

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DRAFT_CHARS = 20_000


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_api(cls, raw: Any, service: str) -> Any:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(answer)"
            raise errors.BadAIAnswer(f"{service} answer: {where}: {first['msg']}") from None


class Classification(_Answer):
    """Triage ``/classify``. The category is kept raw here; ``mapping.category`` maps it."""

    category: str = Field(min_length=1, max_length=64)
    urgency: Literal["low", "medium", "high", "critical"]
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    confidence: float = Field(ge=0.0, le=1.0)


class Route(_Answer):
    """Triage ``/route``. ``agent`` is a Simpli agent id, never a HubSpot owner id."""

    team: str | None = Field(None, max_length=100)
    agent: str | None = Field(None, max_length=64)
    reason: str | None = Field(None, max_length=2000)


class Draft(_Answer):
    """Reply ``/api/v1/draft``."""

    draft_id: str | None = Field(None, max_length=100)
    draft: str = Field(min_length=1, max_length=MAX_DRAFT_CHARS)
    confidence: float = Field(ge=0.0, le=1.0)
    language: str | None = Field(None, max_length=16)

    @field_validator("draft")
    @classmethod
    def _no_control_chars(cls, value: str) -> str:
        return _CONTROL.sub("", value)


class SentimentResult(_Answer):
    """Sentiment ``/analyze``."""

    score: float = Field(ge=-1.0, le=1.0)
    label: Literal["positive", "neutral", "negative"]
    escalation_risk: float = Field(ge=0.0, le=1.0)
    triggers: list[str] = Field(default_factory=list, max_length=50)


class QAResult(_Answer):
    """QA ``/evaluate``: scores 0..1, per-dimension scores, coaching notes."""

    overall_score: float = Field(ge=0.0, le=1.0)
    dimensions: dict[str, float] = Field(default_factory=dict, max_length=20)
    coaching_notes: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("dimensions")
    @classmethod
    def _scores_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for name, score in value.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"dimension {name[:40]!r} is outside 0..1")
            if len(name) > 64:
                raise ValueError("dimension name longer than 64 characters")
        return value

    @field_validator("coaching_notes")
    @classmethod
    def _notes_are_short_text(cls, value: list[str]) -> list[str]:
        return [_CONTROL.sub("", note)[:2000] for note in value]

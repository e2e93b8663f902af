"""Simpli KB: push knowledge-base articles, read the gap report (``simpli-api.md``, "KB").

``push`` upserts one article by its HubSpot id (``external_id``), so sending it again is safe.
The service takes a title of 1..500 characters and content of 1..200,000; longer text is cut
here and logged (``kb_article_truncated``) rather than rejected with a 422. Retries live in
``SimpliHTTP``: a ``SimpliTransient`` here means the service stayed unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import structlog

from hubsync import errors
from hubsync.simpli.http import SimpliHTTP
from hubsync.streams.kb import KBArticle

log = structlog.get_logger(__name__)

TITLE_MAX: Final = 500
CONTENT_MAX: Final = 200_000
SIMPLI_ID_MAX: Final = 100  # kb_articles.simpli_id
SOURCE: Final = "hubspot-kb"


class EmptyArticle(errors.Permanent):
    """The article has no title or no content, which Simpli KB refuses."""


@dataclass(frozen=True)
class Gap:
    """A topic customers ask about that no article covers."""

    topic: str
    ticket_count: int
    example_subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GapReport:
    """``GET /gaps``, read tolerantly; ``raw`` is the answer as received (what the ledger keeps)."""

    gaps: list[Gap]
    generated_at: str | None
    raw: dict[str, Any]

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> GapReport:
        """Extra fields are ignored; a gap without a topic is dropped; missing counts are 0."""
        items = raw.get("gaps")
        gaps = [gap for gap in map(_gap, items if isinstance(items, list) else []) if gap]
        generated_at = raw.get("generated_at")
        return cls(gaps, generated_at if isinstance(generated_at, str) else None, raw)


def _gap(raw: Any) -> Gap | None:
    if not isinstance(raw, dict):
        return None
    topic = raw.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        return None
    count = raw.get("ticket_count")
    subjects = raw.get("example_subjects")
    return Gap(
        topic=topic.strip(),
        ticket_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        example_subjects=[s for s in subjects if isinstance(s, str)]
        if isinstance(subjects, list) else [],
    )


class KnowledgeBase:
    """The Simpli KB service."""

    def __init__(self, http: SimpliHTTP) -> None:
        self.http = http

    def push(self, article: KBArticle) -> str:
        """Upsert ``article``; returns Simpli's id for it.

        Raises ``EmptyArticle`` without calling the service when there is nothing to send,
        ``errors.BadAIAnswer`` when the answer has no usable id, and ``SimpliHTTP``'s errors.
        """
        title = _fit(article.title.strip(), TITLE_MAX, article.id, "title")
        content = _fit(article.body, CONTENT_MAX, article.id, "content")
        if not title or not content.strip():
            raise EmptyArticle(f"article {article.id} has no {'title' if not title else 'content'}")
        answer = self.http.post("/articles", {
            "title": title,
            "content": content,
            "tags": list(article.tags),
            "source": SOURCE,
            "external_id": article.id,
        })
        simpli_id = answer.get("id")
        if isinstance(simpli_id, int) and not isinstance(simpli_id, bool):
            simpli_id = str(simpli_id)
        if not isinstance(simpli_id, str) or not simpli_id or len(simpli_id) > SIMPLI_ID_MAX:
            raise errors.BadAIAnswer("kb answer: id: missing, empty or too long")
        return simpli_id

    def gaps(self) -> GapReport:
        """The current gap report."""
        return GapReport.from_api(self.http.get("/gaps"))


def _fit(text: str, limit: int, article_id: str, name: str) -> str:
    if len(text) <= limit:
        return text
    log.warning("kb_article_truncated", article_id=article_id, field=name, chars=len(text),
                limit=limit)
    return text[:limit]

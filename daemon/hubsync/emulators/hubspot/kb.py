"""The knowledge base: knowledge bases, articles, categories and tags (``docs/hubspot-api.md`` §11).

Shapes follow the 2027-03-beta Knowledge Base API spec: an article names its category by
``categoryId`` and its tags by ``tagIds`` (the names are on ``/categories`` and ``/tags``), and
carries ``body`` (HTML) only when the request includes it. Articles are seeded and edited
directly (as in HubSpot's editor); every edit moves ``updatedAt``, and an edit that leaves (or
puts) an article ``PUBLISHED`` republishes it, moving ``publishedAt``. An archived article is
gone from every read. The store shares the portal state's lock.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import errors

STATES = frozenset({"DRAFT", "PUBLISHED"})
_EDITABLE = frozenset({"title", "body_html", "state", "language", "tags", "category", "archived"})
_FIRST_ARTICLE_ID = 190_000_000_001
_FIRST_LABEL_ID = 52_000_000_001


@dataclass(frozen=True)
class KnowledgeBase:
    """One knowledge base (a help center) of the portal."""

    id: str
    name: str
    domain: str
    path: str
    language: str
    created_at: datetime

    @property
    def url(self) -> str:
        return f"https://{self.domain}/{self.path}"

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def to_json(self) -> dict[str, Any]:
        stamp = clocks.iso_ms(self.created_at)
        return {
            "id": self.id, "name": self.name, "domain": self.domain, "path": self.path,
            "url": self.url, "language": self.language, "accessType": "PUBLIC",
            "relatedArticlesEnabled": True, "translations": {}, "createdAt": stamp,
            "updatedAt": stamp,
        }  # fmt: skip


@dataclass
class Label:
    """A category or a tag: a name with an id, first used at ``created_at``."""

    id: str
    name: str
    knowledge_base_id: str
    language: str
    created_at: datetime

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def category_json(self, kb: KnowledgeBase) -> dict[str, Any]:
        stamp = clocks.iso_ms(self.created_at)
        return {
            "id": self.id, "name": self.name, "knowledgeBaseId": self.knowledge_base_id,
            "language": self.language, "position": 0, "translations": {},
            "url": f"{kb.url}/{slug(self.name)}", "visibleOnHomepage": True,
            "createdAt": stamp, "updatedAt": stamp,
        }  # fmt: skip

    def tag_json(self) -> dict[str, Any]:
        stamp = clocks.iso_ms(self.created_at)
        used_in = [{"knowledgeBaseId": self.knowledge_base_id, "languages": [self.language]}]
        return {"id": self.id, "name": self.name, "knowledgeBases": used_in,
                "createdAt": stamp, "updatedAt": stamp}  # fmt: skip


@dataclass
class Article:
    """One knowledge-base article (one language)."""

    id: str
    knowledge_base_id: str
    title: str
    body_html: str
    state: str
    language: str
    category: Label | None
    tags: list[Label]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    initial_published_at: datetime | None = None
    archived: bool = False
    path: str = field(default="")

    def to_json(self, kb: KnowledgeBase, *, body: bool, translations: bool) -> dict[str, Any]:
        """``KnowledgeArticle``: ``body`` and ``translations`` only when asked for."""
        result: dict[str, Any] = {
            "id": self.id, "knowledgeBaseId": self.knowledge_base_id, "title": self.title,
            "subtitle": "", "state": self.state, "language": self.language, "path": self.path,
            "url": f"{kb.url}/{self.path}", "tagIds": [t.id for t in self.tags],
            "accessType": "PUBLIC", "accessGroupIds": [], "archivedInDashboard": False,
            "createdAt": clocks.iso_ms(self.created_at),
            "updatedAt": clocks.iso_ms(self.updated_at),
        }  # fmt: skip
        if self.category is not None:
            result["categoryId"] = self.category.id
        if self.published_at is not None and self.initial_published_at is not None:
            result["publishedAt"] = clocks.iso_ms(self.published_at)
            result["initialPublishedAt"] = clocks.iso_ms(self.initial_published_at)
        if body:
            result["body"] = self.body_html
        if translations:
            result["translations"] = {}
        return result


class KnowledgeStore:
    """Knowledge bases, their articles, and the categories and tags articles use."""

    def __init__(self, lock: threading.RLock, knowledge_bases: Iterable[KnowledgeBase]) -> None:
        self.lock = lock
        self.knowledge_bases: list[KnowledgeBase] = list(knowledge_bases)
        self._articles: dict[str, Article] = {}
        self._categories: dict[tuple[str, str], Label] = {}
        self._tags: dict[tuple[str, str], Label] = {}
        self._article_ids = itertools.count(_FIRST_ARTICLE_ID)
        self._label_ids = itertools.count(_FIRST_LABEL_ID)

    # --- seeding and edits -----------------------------------------------------------------

    def seed(
        self,
        now: datetime,
        *,
        title: str,
        body_html: str,
        state: str,
        language: str,
        tags: Iterable[str],
        category: str | None,
    ) -> str:
        """Create an article in the first knowledge base; returns its id."""
        with self.lock:
            _check_state(state)
            _check_text(title=title, body_html=body_html)
            kb = self.knowledge_bases[0]
            article = Article(
                id=str(next(self._article_ids)), knowledge_base_id=kb.id, title=title,
                body_html=body_html, state=state, language=_language(language),
                category=None, tags=[], created_at=now, updated_at=now,
            )  # fmt: skip
            article.path = f"{slug(title)}-{article.id[-4:]}"
            self._label(article, now, tags=tags, category=category)
            if state == "PUBLISHED":
                article.published_at = article.initial_published_at = now
            self._articles[article.id] = article
            return article.id

    def update(self, now: datetime, article_id: str, fields: Mapping[str, Any]) -> None:
        """Edit an article as HubSpot's editor would; ``updatedAt`` moves to ``now``."""
        with self.lock:
            article = self._articles.get(article_id)
            if article is None or article.archived:
                raise ValueError(f"no article with id {article_id}")
            unknown = sorted(set(fields) - _EDITABLE)
            if unknown:
                raise ValueError(f"cannot update {unknown}; editable: {sorted(_EDITABLE)}")
            _check_state(fields.get("state", article.state))
            _check_text(**{k: v for k, v in fields.items() if k in ("title", "body_html")})
            if not isinstance(fields.get("archived", False), bool):
                raise ValueError("archived must be a boolean")
            for name in ("title", "body_html", "state", "archived"):
                if name in fields:
                    setattr(article, name, fields[name])
            if "language" in fields:
                article.language = _language(fields["language"])
            self._label(article, now, tags=fields.get("tags"), category=fields.get("category", ...))
            article.updated_at = now
            if article.state == "PUBLISHED":
                article.published_at = now
                article.initial_published_at = article.initial_published_at or now

    # --- reads -----------------------------------------------------------------------------

    def articles(self) -> list[Article]:
        """Every article that is not archived, in creation order."""
        with self.lock:
            return [a for a in self._articles.values() if not a.archived]

    def article(self, article_id: str) -> Article:
        """A live article; 404 otherwise."""
        with self.lock:
            found = self._articles.get(article_id)
            if found is None or found.archived:
                raise errors.not_found(f"Article {article_id} not found")
            return found

    def knowledge_base(self, kb_id: str) -> KnowledgeBase:
        """A knowledge base by id; 404 otherwise."""
        found = next((kb for kb in self.knowledge_bases if kb.id == kb_id), None)
        if found is None:
            raise errors.not_found(f"Knowledge base {kb_id} not found")
        return found

    def categories(self) -> list[Label]:
        with self.lock:
            return list(self._categories.values())

    def tags(self) -> list[Label]:
        with self.lock:
            return list(self._tags.values())

    # --- internals -------------------------------------------------------------------------

    def _label(
        self, article: Article, now: datetime, *, tags: Iterable[str] | None, category: Any
    ) -> None:
        """Point the article at (new or existing) labels; ``...`` leaves the category as is."""
        key = article.knowledge_base_id
        if category is not ...:
            article.category = None if category is None else self._named(
                self._categories, key, article.language, str(category), now
            )  # fmt: skip
        if tags is not None:
            if isinstance(tags, str):
                raise ValueError("tags must be a collection of names, not one string")
            names = list(dict.fromkeys(str(t) for t in tags))
            article.tags = [self._named(self._tags, key, article.language, n, now) for n in names]

    def _named(
        self, table: dict[tuple[str, str], Label], kb_id: str, language: str, name: str,
        now: datetime,
    ) -> Label:  # fmt: skip
        if not name.strip():
            raise ValueError("category and tag names must not be blank")
        label = table.get((kb_id, name))
        if label is None:
            label = Label(str(next(self._label_ids)), name, kb_id, language, now)
            table[(kb_id, name)] = label
        return label


def slug(text: str) -> str:
    """A URL path segment for a title or category name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "article"


def _check_state(state: Any) -> None:
    if state not in STATES:
        raise ValueError(f"state must be one of {sorted(STATES)}, got {state!r}")


def _check_text(**values: Any) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or (name == "title" and not value.strip()):
            raise ValueError(f"{name} must be a string" + (" and not blank" * (name == "title")))


def _language(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", value):
        raise ValueError(f"language must be an ISO 639 code such as 'en', got {value!r}")
    return value

"""KB stand-in: ``POST /articles``, ``GET /articles``, ``GET /gaps``, ``POST /api/v1/search``.

Articles live in memory. ``POST /articles`` answers 201 ``{"id", "title", "external_id",
"version"}``: a new article gets ``kb-0001``, ``kb-0002``... and version 1; posting an
``external_id`` that is already stored replaces that article's fields, keeps its id and adds
one to its version (still 201). Articles without ``external_id`` are always new.

Words are compared after removing HTML tags, unescaping entities, lower-casing and splitting on
anything that is not a letter or digit; a word longer than three letters that ends in ``s``
loses the ``s`` (a naive singular, so "refunds" and "refund" are the same word).

``GET /gaps`` checks the fixed ``GAP_TOPICS``: a topic is covered when every one of its words is
among the words of one article's title and content; each uncovered topic is a gap with its fixed
``ticket_count`` and example subjects. Only ``generated_at`` (the current UTC time) varies.

``POST /api/v1/search {query, top_k}`` scores each article by the share of the query's distinct
words found in it (two decimals), drops zero scores, sorts by score then id, keeps ``top_k``.

Requests: ``title`` 1..500 characters, ``content`` 1..200000, optional ``tags`` (list of
strings), ``source`` and ``external_id`` (strings); each optional field may be null. Search
needs ``query`` (1..1000 characters) and takes ``top_k`` (integer 1..100, default 5).
"""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from datetime import UTC, datetime
from typing import Any, Unpack

from hubsync.emulators.simpli import base

# topic → (ticket_count, example_subjects)
GAP_TOPICS: dict[str, tuple[int, tuple[str, ...]]] = {
    "billing": (14, ("Charged twice this month", "Invoice shows the wrong amount")),
    "password reset": (11, ("Password reset email never arrives", "Can't reset my password")),
    "api errors": (9, ("API returns 500 on /orders", "Timeout errors from the API")),
    "refunds": (7, ("How long does a refund take?", "Refund not received")),
    "integrations": (5, ("Slack integration stopped posting", "How do I connect Salesforce?")),
    "shipping": (3, ("Where is my order?", "Shipping to Canada")),
}


@dataclasses.dataclass(frozen=True)
class Article:
    """One stored article."""

    id: str
    title: str
    content: str
    tags: tuple[str, ...]
    source: str | None
    external_id: str | None
    version: int

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "tags": list(self.tags)}

    @property
    def words(self) -> frozenset[str]:
        return words_of(f"{self.title}\n{self.content}")


def words_of(text: str) -> frozenset[str]:
    """The normalised words of ``text`` (HTML removed, lower case, naive singular)."""
    plain = html.unescape(re.sub(r"<[^>]*>", " ", text)).lower()
    return frozenset(_singular(word) for word in re.findall(r"[^\W_]+", plain))


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def gaps(articles: list[Article]) -> list[dict[str, Any]]:
    """The ``GAP_TOPICS`` no article covers, in table order."""
    vocabularies = [article.words for article in articles]
    return [
        {"topic": topic, "ticket_count": count, "example_subjects": list(examples)}
        for topic, (count, examples) in GAP_TOPICS.items()
        if not any(words_of(topic) <= vocabulary for vocabulary in vocabularies)
    ]


def search(articles: list[Article], query: str, top_k: int) -> list[dict[str, Any]]:
    """The articles matching ``query`` best, as ``/api/v1/search`` results."""
    wanted = words_of(query)
    results = []
    for article in articles:
        matched = len(wanted & article.words)
        if matched:
            score = (100 * matched + len(wanted) // 2) // len(wanted)  # hundredths, half up
            results.append((-score, article.id, article))
    results.sort(key=lambda result: result[:2])
    return [
        {
            "id": article.id,
            "title": article.title,
            "external_id": article.external_id,
            "score": -negative_score / 100,
        }
        for negative_score, _, article in results[:top_k]
    ]


class KBStandIn(base.StandIn):
    """The KB service: article sync, gap report and search."""

    service = "kb"

    def __init__(self, **options: Unpack[base.StandInOptions]) -> None:
        super().__init__(**options)
        self._state_lock = threading.Lock()
        self._articles: dict[str, Article] = {}  # by id, in creation order

    @property
    def articles(self) -> list[Article]:
        """The stored articles, in creation order."""
        with self._state_lock:
            return list(self._articles.values())

    def routes(self) -> list[base.Route]:
        return [
            base.Route("POST", "/articles", self._upsert),
            base.Route("GET", "/articles", self._list),
            base.Route("GET", "/gaps", self._gaps),
            base.Route("POST", "/api/v1/search", self._search),
        ]

    def _upsert(self, request: base.Request) -> base.Answer:
        fields = base.Fields(request.body)
        title = fields.require_string("title", base.Text(min_len=1, max_len=500))
        content = fields.require_string("content", base.Text(min_len=1, max_len=200_000))
        tags = fields.optional_string_list("tags") or []
        source = fields.optional_string("source")
        external_id = fields.optional_string("external_id")
        fields.check()
        with self._state_lock:
            previous = self._find_external(external_id)
            article_id = previous.id if previous else f"kb-{len(self._articles) + 1:04d}"
            version = previous.version + 1 if previous else 1
            article = Article(article_id, title, content, tuple(tags), source, external_id, version)
            self._articles[article_id] = article
        return base.Answer(
            201,
            {
                "id": article.id,
                "title": article.title,
                "external_id": article.external_id,
                "version": article.version,
            },
        )

    def _find_external(self, external_id: str | None) -> Article | None:
        if external_id is None:
            return None
        return next((a for a in self._articles.values() if a.external_id == external_id), None)

    def _list(self, _request: base.Request) -> dict[str, Any]:
        articles = self.articles
        return {"articles": [article.as_json() for article in articles], "total": len(articles)}

    def _gaps(self, _request: base.Request) -> dict[str, Any]:
        return {"gaps": gaps(self.articles), "generated_at": datetime.now(UTC).isoformat()}

    def _search(self, request: base.Request) -> dict[str, Any]:
        fields = base.Fields(request.body)
        query = fields.require_string("query", base.Text(min_len=1, max_len=1000))
        top_k = fields.optional_integer("top_k", default=5, minimum=1, maximum=100)
        fields.check()
        return {"query": query, "results": search(self.articles, query, top_k)}

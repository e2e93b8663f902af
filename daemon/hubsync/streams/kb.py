"""Published knowledge-base articles of one HubSpot portal, read from the best source available.

The Knowledge Base API (beta, ``hubspot-api.md`` §11) is the primary source: every knowledge
base, published articles only, the body included, ``paging.next.after`` followed until absent;
articles name their tags by ``tagIds``, resolved to names with one read of ``/tags``.
When that API answers 403 or 404 (not enabled for the portal, or the token lacks the scope) the
source falls back to Site Search: each configured query is paged through with ``offset``/``limit``,
hits are deduplicated by id, and each article's text is read from its indexed data. Site Search
only returns published articles. The CMS blog-posts API is never used: it serves blog posts.

Raw JSON becomes a ``KBArticle`` only in the ``from_*`` constructors; an article that cannot be
read is skipped with a ``record_invalid`` log line and never stops the sync. Retries live in
``HubSpotHTTP``; other HubSpot errors propagate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import quote

import structlog

from hubsync import errors
from hubsync.clock import from_epoch_ms, parse_iso
from hubsync.hubspot.http import HubSpotHTTP

log = structlog.get_logger(__name__)

Source = Literal["kb_api", "site_search"]

KB_API: Final = "/cms/knowledge-base/2027-03-beta"
SITE_SEARCH: Final = "/cms/v3/site-search/search"
INDEXED_DATA: Final = "/cms/v3/site-search/indexed-data/{content_id}"
ARTICLE_TYPE: Final = "KNOWLEDGE_ARTICLE"
PUBLISHED: Final = "PUBLISHED"
BODY_FIELDS: Final = ("html_other", "body")  # indexed-data fields holding the body text
KB_PAGE_SIZE: Final = 100
SEARCH_PAGE_SIZE: Final = 100
SEARCH_MAX_RESULTS: Final = 10_000  # per query: a guard against a server that ignores offset
ID_MAX_CHARS: Final = 64  # kb_articles.article_id
NOT_ENABLED: Final = frozenset({403, 404})  # the KB API is not available to this portal/token


class BadArticle(errors.Permanent):
    """HubSpot returned a knowledge-base article hubsync cannot read."""


@dataclass(frozen=True)
class KBArticle:
    """One published knowledge-base article, as sent to Simpli KB."""

    id: str
    title: str
    body: str  # HTML from the KB API, plain text from Site Search
    tags: tuple[str, ...]
    language: str | None
    url: str | None
    updated_at: datetime | None
    source: Source

    @property
    def content_hash(self) -> str:
        """sha256 of what Simpli receives: title, body and tags (in any order)."""
        payload = json.dumps([self.title, self.body, sorted(self.tags)], ensure_ascii=False,
                             separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    @classmethod
    def from_kb_api(cls, raw: Any, tag_names: Mapping[str, str]) -> KBArticle:
        """An article of ``GET …/articles`` (asked with the body included).

        ``tag_names`` maps tag ids to names; an id it does not know is left out.
        """
        if not isinstance(raw, dict):
            raise BadArticle("article is not an object")
        body = raw.get("body")
        if not isinstance(body, str):
            raise BadArticle("article has no body text")
        return cls(
            id=_article_id(raw.get("id")),
            title=_title(raw.get("title")),
            body=body,
            tags=_tag_names(raw.get("tagIds"), tag_names),
            language=_optional_text(raw.get("language"), "language"),
            url=_optional_text(raw.get("url"), "url"),
            updated_at=_moment(raw.get("updatedAt"), "updatedAt"),
            source="kb_api",
        )

    @classmethod
    def from_site_search(cls, hit: Any, indexed: Any) -> KBArticle:
        """A Site Search hit and the article's indexed data (which holds the body text)."""
        if not isinstance(hit, dict):
            raise BadArticle("search result is not an object")
        fields = indexed.get("fields") if isinstance(indexed, dict) else None
        if not isinstance(fields, dict):
            raise BadArticle("indexed data has no fields object")
        body = next((text for name in BODY_FIELDS
                     if (text := _indexed_value(fields, name)) is not None), None)
        if body is None:
            raise BadArticle("indexed data has no body text")
        return cls(
            id=_article_id(hit.get("id")),
            title=_title(_indexed_value(fields, "title") or hit.get("title")),
            body=body,
            tags=_tags(hit.get("tags")),
            language=_optional_text(hit.get("language"), "language"),
            url=_optional_text(hit.get("url"), "url"),
            updated_at=_moment(hit.get("publishedDate"), "publishedDate"),
            source="site_search",
        )


# --- parsing helpers: each raises BadArticle naming the field, never dumping the record -------


def _article_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadArticle("article id is missing")
    text = str(value).strip()
    if not text or len(text) > ID_MAX_CHARS:
        raise BadArticle("article id is empty or too long")
    return text


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadArticle("article title is missing")
    return value.strip()


def _optional_text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadArticle(f"article {name} is not text")
    return value


def _tags(value: Any) -> tuple[str, ...]:
    """Tag names, from a list of strings or of ``{"name": …}`` objects; none when absent."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadArticle("article tags are not a list")
    names: list[str] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise BadArticle("article tags are not names")
        if name.strip():
            names.append(name.strip())
    return tuple(dict.fromkeys(names))


def _tag_names(value: Any, names: Mapping[str, str]) -> tuple[str, ...]:
    """The names of the tags an article points at by id; none when absent."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        raise BadArticle("article tagIds are not a list of ids")
    return tuple(dict.fromkeys(names[str(v)] for v in value if str(v) in names))


def _moment(value: Any, name: str) -> datetime | None:
    """An ISO-8601 string or epoch milliseconds; None when absent."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return from_epoch_ms(value)
        if isinstance(value, str):
            return from_epoch_ms(int(value)) if value.isdigit() else parse_iso(value)
    except (ValueError, OverflowError, OSError):
        pass
    raise BadArticle(f"article {name} is not a timestamp")


def _indexed_value(fields: Mapping[str, Any], name: str) -> str | None:
    """The text of one indexed field: ``{"name", "value", "values", …}`` or a bare string."""
    field = fields.get(name)
    if isinstance(field, str):
        return field
    if not isinstance(field, dict):
        return None
    value = field.get("value")
    if isinstance(value, str):
        return value
    values = field.get("values")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return "\n".join(values)
    return None


def _results(page: Any, what: str) -> list[Any]:
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        raise errors.HubSpotPermanent(f"{what}: the answer has no results list")
    results: list[Any] = page["results"]
    return results


def _next_after(page: Mapping[str, Any]) -> str | None:
    paging = page.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def _label_id(row: Any) -> str | None:
    """The id of a knowledge base or tag row; None (logged) when it has none."""
    value = row.get("id") if isinstance(row, dict) else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    log.warning("record_invalid", record="kb_listing", id="?", reason="row id is missing")
    return None


def _skip(article_id: Any, exc: BadArticle, source: Source) -> None:
    log.warning("record_invalid", record="kb_article", id=str(article_id or "?"),
                reason=str(exc), source=source)


# --- the source ------------------------------------------------------------------------------


class ArticleSource:
    """The published articles of one portal: the KB API, else Site Search.

    ``source`` tells which one the last ``articles()`` used (None before the first call).
    """

    def __init__(self, http: HubSpotHTTP, *, fallback_queries: Sequence[str]) -> None:
        self.http = http
        self.fallback_queries = [q.strip() for q in fallback_queries if q.strip()]
        self.source: Source | None = None

    def articles(self) -> Iterator[KBArticle]:
        """Every published article once, from the KB API or, if it is not enabled, Site Search.

        The fallback happens only while no KB API article has been yielded: a 403/404 after
        that raises, so one sync never mixes both sources.
        """
        self.source = "kb_api"
        yielded = False
        try:
            for article in self._kb_api_articles():
                yielded = True
                yield article
        except errors.HubSpotPermanent as exc:
            if exc.status not in NOT_ENABLED or yielded:
                raise
            log.warning("kb_source_fallback", reason="knowledge base API not available",
                        status=exc.status, category=exc.category, to="site_search",
                        queries=len(self.fallback_queries))
        else:
            return
        self.source = "site_search"
        yield from self._site_search_articles()

    # --- the Knowledge Base API --------------------------------------------------------------

    def _listed(self, what: str, params: Mapping[str, Any]) -> Iterator[Any]:
        """Every row of one KB API list, following ``paging.next.after`` until it is absent."""
        after: str | None = None
        while True:
            query = {**params, "limit": KB_PAGE_SIZE}
            if after is not None:
                query["after"] = after
            page = self.http.get(f"{KB_API}/{what}", query)
            yield from _results(page, what)
            after = _next_after(page)
            if after is None:
                return

    def _knowledge_base_ids(self) -> list[str]:
        ids = [_label_id(row) for row in self._listed("knowledge-bases", {})]
        return list(dict.fromkeys(kb_id for kb_id in ids if kb_id is not None))

    def _tag_names(self) -> dict[str, str]:
        """Tag id → name, for every tag of the portal."""
        names: dict[str, str] = {}
        try:
            rows = list(self._listed("tags", {}))
        except errors.HubSpotPermanent as exc:
            if exc.status not in NOT_ENABLED:
                raise
            log.warning("kb_tags_unavailable", status=exc.status, category=exc.category)
            return names
        for row in rows:
            tag_id, name = _label_id(row), row.get("name") if isinstance(row, dict) else None
            if tag_id is not None and isinstance(name, str) and name.strip():
                names[tag_id] = name.strip()
        return names

    def _kb_api_articles(self) -> Iterator[KBArticle]:
        knowledge_bases = self._knowledge_base_ids()
        tag_names = self._tag_names()
        seen: set[str] = set()
        for kb_id in knowledge_bases:
            params = {"knowledgeBaseId": kb_id, "state": PUBLISHED, "includeBody": "true",
                      "includeTranslations": "false"}
            for raw in self._listed("articles", params):
                if isinstance(raw, dict) and raw.get("state") not in (None, PUBLISHED):
                    continue  # the filter is the API's job; a stray draft is still never sent
                try:
                    article = KBArticle.from_kb_api(raw, tag_names)
                except BadArticle as exc:
                    _skip(raw.get("id") if isinstance(raw, dict) else None, exc, "kb_api")
                    continue
                if article.id not in seen:
                    seen.add(article.id)
                    yield article

    # --- the Site Search fallback ------------------------------------------------------------

    def _site_search_articles(self) -> Iterator[KBArticle]:
        seen: set[str] = set()
        for query in self.fallback_queries:
            for hit in self._search_hits(query):
                hit_id = hit.get("id") if isinstance(hit, dict) else None
                key = str(hit_id) if hit_id is not None else None
                if key is not None and key in seen:
                    continue
                article = self._read_indexed(hit)
                if key is not None:
                    seen.add(key)
                if article is not None:
                    yield article

    def _search_hits(self, query: str) -> Iterator[Any]:
        """Every hit for ``query``, page by page, until an empty page or the total is reached
        (or ``SEARCH_MAX_RESULTS``, logged)."""
        offset = 0
        while True:
            page = self.http.get(SITE_SEARCH, {"q": query, "type": ARTICLE_TYPE,
                                              "limit": SEARCH_PAGE_SIZE, "offset": offset})
            hits = _results(page, "site search")
            if not hits:
                return
            yield from hits
            offset += len(hits)
            total = page.get("total")
            if isinstance(total, int) and not isinstance(total, bool) and offset >= total:
                return
            if offset >= SEARCH_MAX_RESULTS:
                log.warning("kb_search_truncated", query=query, read=offset)
                return

    def _read_indexed(self, hit: Any) -> KBArticle | None:
        """The article behind one hit, or None (logged) when it cannot be read."""
        hit_id = hit.get("id") if isinstance(hit, dict) else None
        try:
            content_id = _article_id(hit_id)
            if isinstance(hit, dict) and hit.get("type") not in (None, ARTICLE_TYPE):
                raise BadArticle("search result is not a knowledge article")
            try:
                indexed = self.http.get(INDEXED_DATA.format(content_id=quote(content_id, safe="")),
                                        {"type": ARTICLE_TYPE})
            except errors.HubSpotNotFound:
                raise BadArticle("article has no indexed data (deleted since the search?)") from None
            return KBArticle.from_site_search(hit, indexed)
        except BadArticle as exc:
            _skip(hit_id, exc, "site_search")
            return None

"""HTTP handlers for the CMS Site Search API over the portal's knowledge-base articles.

Paths as in HubSpot's v3 spec (``cms-site-search-v3``): ``GET /cms/v3/site-search/search`` and
``GET /cms/v3/site-search/indexed-data/{contentId}``. Only published, unarchived articles are
indexed. A search needs a non-empty ``q``; it matches the words of ``q`` case-insensitively
against each article's title and plain-text body (an article matches if any word does, titles
weigh three times as much), best score first. Content types come in ``type`` or ``types``; the
emulator only holds ``KNOWLEDGE_ARTICLE`` content. Indexed data is looked up by ``type``, which
defaults to ``SITE_PAGE`` as in the spec's free-form parameter: without
``type=KNOWLEDGE_ARTICLE`` an article is not found.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import errors, params
from hubsync.emulators.hubspot.kb import Article, KnowledgeStore
from hubsync.emulators.hubspot.routes import Request, Response, Router

SEARCH_PATH = "/cms/v3/site-search/search"
INDEXED_PATH = "/cms/v3/site-search/indexed-data/(?P<id>[^/]+)"
KNOWLEDGE_ARTICLE = "KNOWLEDGE_ARTICLE"
CONTENT_TYPES = frozenset(
    {"LANDING_PAGE", "BLOG_POST", "SITE_PAGE", KNOWLEDGE_ARTICLE, "LISTING_PAGE",
     "STRUCTURED_CONTENT"}
)  # fmt: skip
DEFAULT_LIMIT, MAX_LIMIT = 10, 100
SNIPPET_CHARS = {"SHORT": 200, "LONG": 500}
_SEARCH_PARAMS = frozenset(
    {"analytics", "autocomplete", "boostLimit", "boostRecent", "domain", "groupId",
     "hubdbQuery", "language", "length", "limit", "matchPrefix", "offset", "pathPrefix",
     "popularityBoost", "property", "q", "tableId", "type", "types"}
)  # fmt: skip
_WORD = re.compile(r"\w+")
_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "tr", "td"})


def register(router: Router, store: KnowledgeStore) -> None:
    """Add the site-search routes."""
    api = _SiteSearchApi(store)
    router.add("GET", SEARCH_PATH, api.search)
    router.add("GET", INDEXED_PATH, api.indexed_data)


def plain_text(body_html: str) -> str:
    """The visible text of an HTML body, whitespace collapsed."""
    parser = _TextParser()
    parser.feed(body_html)
    parser.close()
    return " ".join("".join(parser.parts).split())


class _SiteSearchApi:
    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    def search(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, _SEARCH_PARAMS)
        term = (params.single(request, "q") or "").strip()
        if not term:
            raise errors.validation("q (the search term) is required")
        types = set(params.choices(request, "type", CONTENT_TYPES))
        types |= set(params.choices(request, "types", CONTENT_TYPES))
        for flag in ("analytics", "autocomplete", "matchPrefix"):
            request.bool_param(flag, False)
        limit = request.int_param("limit", DEFAULT_LIMIT, MAX_LIMIT)
        offset = request.int_param("offset", 0, None, minimum=0)
        snippet = SNIPPET_CHARS[params.choice(request, "length", SNIPPET_CHARS) or "SHORT"]
        hits = self._hits(request, term) if not types or KNOWLEDGE_ARTICLE in types else []
        chosen = hits[offset : offset + limit]
        with self._store.lock:
            results = [self._result(article, score, snippet) for article, score in chosen]
        return Response(
            200,
            {"total": len(hits), "offset": offset, "limit": limit, "searchTerm": term,
             "results": results, "page": offset // limit},
        )  # fmt: skip

    def indexed_data(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"type"})
        content_type = params.choice(request, "type", CONTENT_TYPES) or "SITE_PAGE"
        article = self._published().get(match["id"])
        if article is None or content_type != KNOWLEDGE_ARTICLE:
            raise errors.not_found(f"No indexed {content_type} with id {match['id']}")
        with self._store.lock:
            kb = self._store.knowledge_base(article.knowledge_base_id)
            text = plain_text(article.body_html)
            values: dict[str, tuple[Any, bool]] = {
                "title": (article.title, False),
                "description": (text[: SNIPPET_CHARS["SHORT"]], False),
                "html_other": (text, False),
                "url": (f"{kb.url}/{article.path}", True),
                "domain": (kb.domain, True),
                "language": (article.language, True),
                "publishedDate": (_epoch_ms(article), True),
            }
            if article.category is not None:
                values["category"] = (article.category.name, True)
        fields = {
            name: {"name": name, "value": value, "values": [value], "metadataField": meta}
            for name, (value, meta) in values.items()
        }
        return Response(200, {"id": article.id, "type": KNOWLEDGE_ARTICLE, "fields": fields})

    def _published(self) -> dict[str, Article]:
        return {a.id: a for a in self._store.articles() if a.state == "PUBLISHED"}

    def _hits(self, request: Request, term: str) -> list[tuple[Article, float]]:
        """Matching published articles with their scores, best first (ties by id)."""
        language = params.single(request, "language")
        wanted_language = None if language is None else params.language("language", language)
        domains = set(params.repeated(request, "domain"))
        prefixes = params.repeated(request, "pathPrefix")
        words = [w.lower() for w in _WORD.findall(term)]
        hits = []
        with self._store.lock:
            for article in self._published().values():
                kb = self._store.knowledge_base(article.knowledge_base_id)
                path = f"/{kb.path}/{article.path}"
                if wanted_language not in (None, article.language.lower()):
                    continue
                if (domains and kb.domain not in domains) or (
                    prefixes and not any(path.startswith(p) for p in prefixes)
                ):
                    continue
                score = _score(words, article)
                if score > 0:
                    hits.append((article, score))
        hits.sort(key=lambda hit: (-hit[1], int(hit[0].id)))
        return hits

    def _result(self, article: Article, score: float, snippet: int) -> dict[str, Any]:
        kb = self._store.knowledge_base(article.knowledge_base_id)
        result: dict[str, Any] = {
            "id": int(article.id), "score": score, "type": KNOWLEDGE_ARTICLE,
            "domain": kb.domain, "url": f"{kb.url}/{article.path}",
            "language": article.language, "title": article.title,
            "description": plain_text(article.body_html)[:snippet],
            "publishedDate": _epoch_ms(article),
        }  # fmt: skip
        if article.category is not None:
            result["category"] = article.category.name
        return result


def _score(words: list[str], article: Article) -> float:
    title = [w.lower() for w in _WORD.findall(article.title)]
    body = [w.lower() for w in _WORD.findall(plain_text(article.body_html))]
    return float(sum(3 * title.count(word) + body.count(word) for word in words))


def _epoch_ms(article: Article) -> int:
    moment = article.published_at or article.updated_at
    return clocks.to_epoch_ms(moment)


class _TextParser(HTMLParser):
    """Collects text nodes; block tags become spaces; script and style are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skipping = max(self._skipping - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

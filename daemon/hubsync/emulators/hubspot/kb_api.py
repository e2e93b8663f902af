"""HTTP handlers for the Knowledge Base API (BETA), ``/cms/knowledge-base/2027-03-beta/...``.

Read endpoints only: knowledge bases, articles, categories and tags, each listed and read by id.
Per the beta spec, lists page 25 rows by default (at most 100) with an opaque ``after``, sort by
``name``, ``createdAt`` or ``updatedAt`` (``-`` for descending; default ``-createdAt``), and filter
by ``created*``/``updated*`` timestamps (ISO-8601 or a plain date; ``After``/``Before`` are
exclusive). Articles also filter by ``knowledgeBaseId``, ``categoryId``, ``language`` and
``state``, and include ``body`` and ``translations`` unless ``includeBody=false`` /
``includeTranslations=false``.

When the portal is not in the beta (``enabled=False``) every path under the API's base answers
403 ``MISSING_SCOPES``, so a client has to fall back to site search.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from hubsync import clock as clocks
from hubsync.emulators.hubspot import cursors, errors, params
from hubsync.emulators.hubspot.cursors import Ordering
from hubsync.emulators.hubspot.kb import Article, KnowledgeStore
from hubsync.emulators.hubspot.routes import Request, Response, Router

BASE = "/cms/knowledge-base/2027-03-beta"
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
SCOPES = ("cms.knowledge_base.articles.read", "cms.knowledge_base.settings.read")
_SORT_FIELDS = frozenset({"name", "createdAt", "updatedAt"})
_WINDOW = (
    "createdAfter", "createdAt", "createdBefore", "updatedAfter", "updatedAt", "updatedBefore",
)  # fmt: skip
_COMMON = frozenset({"after", "limit", "sort", *_WINDOW})
_ARTICLE_PARAMS = frozenset(
    {"archivedInDashboard", "categoryId", "includeBody", "includeTranslations",
     "knowledgeBaseId", "language", "state"}
)  # fmt: skip
_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


class _Listed(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime: ...


R = TypeVar("R", bound=_Listed)


def register(router: Router, store: KnowledgeStore, *, enabled: bool) -> None:
    """Add the KB routes, and a catch-all under the base (403 when disabled, else 404)."""
    api = _KnowledgeBaseApi(store, enabled)
    routes: list[tuple[str, Callable[[Request, re.Match[str]], Response]]] = [
        ("/knowledge-bases", api.list_knowledge_bases),
        ("/knowledge-bases/(?P<id>[^/]+)", api.read_knowledge_base),
        ("/articles", api.list_articles),
        ("/articles/(?P<id>[^/]+)", api.read_article),
        ("/categories", api.list_categories),
        ("/categories/(?P<id>[^/]+)", api.read_category),
        ("/tags", api.list_tags),
        ("/tags/(?P<id>[^/]+)", api.read_tag),
    ]
    for suffix, handler in routes:
        router.add("GET", BASE + suffix, api.gated(handler))
    for method in _METHODS:
        router.add(method, f"{BASE}(/.*)?", api.gated(api.unknown))


class _KnowledgeBaseApi:
    def __init__(self, store: KnowledgeStore, enabled: bool) -> None:
        self._store = store
        self._enabled = enabled

    def gated(
        self, handler: Callable[[Request, re.Match[str]], Response]
    ) -> Callable[[Request, re.Match[str]], Response]:
        """The handler, behind the beta's 403 when the portal is not enrolled."""

        def handle(request: Request, match: re.Match[str]) -> Response:
            if not self._enabled:
                raise _missing_scopes()
            return handler(request, match)

        return handle

    def unknown(self, request: Request, match: re.Match[str]) -> Response:
        raise errors.not_found(f"Unable to route {request.method} request to {request.path}")

    # --- knowledge bases -------------------------------------------------------------------

    def list_knowledge_bases(self, request: Request, match: re.Match[str]) -> Response:
        bases = self._store.knowledge_bases
        page, after = _listing(request, bases, lambda kb: kb.name, set())
        return _page(request, [kb.to_json() for kb in page], after)

    def read_knowledge_base(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, set())
        return Response(200, self._store.knowledge_base(match["id"]).to_json())

    # --- articles --------------------------------------------------------------------------

    def list_articles(self, request: Request, match: re.Match[str]) -> Response:
        body, translations = _inclusions(request)
        wanted = _article_filter(request)
        rows = [a for a in self._store.articles() if wanted(a)]
        page, after = _listing(request, rows, lambda a: a.title, _ARTICLE_PARAMS)
        with self._store.lock:
            results = [self._article_json(a, body, translations) for a in page]
        return _page(request, results, after)

    def read_article(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"includeBody", "includeTranslations"})
        body, translations = _inclusions(request)
        article = self._store.article(match["id"])
        with self._store.lock:
            return Response(200, self._article_json(article, body, translations))

    def _article_json(self, article: Article, body: bool, translations: bool) -> dict[str, Any]:
        kb = self._store.knowledge_base(article.knowledge_base_id)
        return article.to_json(kb, body=body, translations=translations)

    # --- categories and tags ---------------------------------------------------------------

    def list_categories(self, request: Request, match: re.Match[str]) -> Response:
        extra = {"knowledgeBaseIds", "language", "parentCategoryIds"}
        rows = self._store.categories()
        kb_ids = set(params.repeated(request, "knowledgeBaseIds"))
        language = params.single(request, "language")
        if params.repeated(request, "parentCategoryIds"):
            rows = []  # the emulator's categories have no parents
        rows = [c for c in rows if not kb_ids or c.knowledge_base_id in kb_ids]
        if language is not None:
            rows = [c for c in rows if c.language == params.language("language", language)]
        page, after = _listing(request, rows, lambda c: c.name, extra)
        return _page(request, [c.category_json(self._kb(c.knowledge_base_id)) for c in page], after)

    def read_category(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, set())
        found = next((c for c in self._store.categories() if c.id == match["id"]), None)
        if found is None:
            raise errors.not_found(f"Category {match['id']} not found")
        return Response(200, found.category_json(self._kb(found.knowledge_base_id)))

    def list_tags(self, request: Request, match: re.Match[str]) -> Response:
        kb_ids = set(params.repeated(request, "knowledgeBaseIds"))
        languages = {params.language("language", v) for v in params.repeated(request, "language")}
        rows = [
            t for t in self._store.tags()
            if (not kb_ids or t.knowledge_base_id in kb_ids)
            and (not languages or t.language in languages)
        ]  # fmt: skip
        page, after = _listing(request, rows, lambda t: t.name, {"knowledgeBaseIds", "language"})
        return _page(request, [t.tag_json() for t in page], after)

    def read_tag(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, set())
        found = next((t for t in self._store.tags() if t.id == match["id"]), None)
        if found is None:
            raise errors.not_found(f"Tag {match['id']} not found")
        return Response(200, found.tag_json())

    def _kb(self, kb_id: str) -> Any:
        return self._store.knowledge_base(kb_id)


def _listing(
    request: Request, rows: Sequence[R], name_of: Callable[[R], str], extra: Collection[str]
) -> tuple[list[R], str | None]:
    """One page of rows after the common parameters: window filters, sort, limit, cursor."""
    params.reject_unknown(request, _COMMON | set(extra))
    in_window = _window(request)
    specs = params.repeated(request, "sort") or ["-createdAt"]
    ordering = Ordering(tuple(Ordering.parse(spec) for spec in specs))
    for name, _ in ordering.fields:
        if name not in _SORT_FIELDS:
            raise errors.validation(f"sort must name one of {sorted(_SORT_FIELDS)}, got {name!r}")
    values: dict[str, Callable[[R], str]] = {
        "name": lambda row: name_of(row).lower(),
        "createdAt": lambda row: clocks.iso_ms(row.created_at),
        "updatedAt": lambda row: clocks.iso_ms(row.updated_at),
    }

    def key(row: R) -> cursors.Key:
        return (*(values[name](row) for name, _ in ordering.fields), int(row.id))

    limit = request.int_param("limit", DEFAULT_LIMIT, MAX_LIMIT)
    chosen = [row for row in rows if in_window(row)]
    page = cursors.keyset_page(chosen, key, ordering, params.single(request, "after"), limit)
    return page.rows, page.next_after


def _window(request: Request) -> Callable[[_Listed], bool]:
    """The ``created*``/``updated*`` filters as one predicate."""
    bounds = {name: params.date_time(request, name, plain_date=True) for name in _WINDOW}

    def check(moment: datetime, after: datetime | None, at: datetime | None,
              before: datetime | None) -> bool:  # fmt: skip
        return (
            (after is None or moment > after)
            and (at is None or moment == at)
            and (before is None or moment < before)
        )

    def inside(row: _Listed) -> bool:
        created = check(row.created_at, *(bounds[n] for n in _WINDOW[:3]))
        return created and check(row.updated_at, *(bounds[n] for n in _WINDOW[3:]))

    return inside


def _article_filter(request: Request) -> Callable[[Article], bool]:
    kb_ids = set(params.repeated(request, "knowledgeBaseId"))
    category_ids = set(params.repeated(request, "categoryId"))
    languages = {params.language("language", v) for v in params.repeated(request, "language")}
    state = params.choice(request, "state", {"DRAFT", "PUBLISHED"})
    archived = request.bool_param("archivedInDashboard", False)

    def wanted(article: Article) -> bool:
        category = article.category.id if article.category is not None else None
        return (
            (not kb_ids or article.knowledge_base_id in kb_ids)
            and (not category_ids or category in category_ids)
            and (not languages or article.language.lower() in languages)
            and state in (None, article.state)
            and not archived  # no article is archived in the dashboard
        )

    return wanted


def _inclusions(request: Request) -> tuple[bool, bool]:
    return request.bool_param("includeBody", True), request.bool_param("includeTranslations", True)


def _page(request: Request, results: list[dict[str, Any]], after: str | None) -> Response:
    return Response(200, cursors.paged_body(request.path, results, after))


def _missing_scopes() -> errors.ApiError:
    return errors.ApiError(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(SCOPES)},
            }
        ],
    )

"""Knowledge-base sync without I/O: hashing, parsing, sources, the Simpli client, the gap table.

HubSpot and Simpli are replaced by small fakes that answer from dicts and record every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from hubsync import errors, kbsync
from hubsync.simpli import kb as simpli_kb
from hubsync.streams import kb
from hubsync.streams.kb import KBArticle

Handler = Callable[[Mapping[str, Any]], Any]


def article(**overrides: Any) -> KBArticle:
    fields: dict[str, Any] = {
        "id": "101", "title": "Reset your password", "body": "<p>Click reset.</p>",
        "tags": ("account", "login"), "language": "en", "url": "https://kb.example/reset",
        "updated_at": None, "source": "kb_api",
    }
    return KBArticle(**{**fields, **overrides})


class FakeHubSpot:
    """Answers GETs from handlers keyed by path; records (path, params)."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((path, dict(params or {})))
        return self.handlers[path](params or {})

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


def missing_scopes(_params: Mapping[str, Any]) -> Any:
    raise errors.HubSpotPermanent("no", status=403, category="MISSING_SCOPES")


def paged(pages: list[list[Any]]) -> Handler:
    """A KB API list answered in pages; ``after`` is the next page's index."""
    def handler(params: Mapping[str, Any]) -> Any:
        index = int(params.get("after", 0))
        answer: dict[str, Any] = {"results": pages[index]}
        if index + 1 < len(pages):
            answer["paging"] = {"next": {"after": str(index + 1)}}
        return answer
    return handler


def raw_article(article_id: str, **overrides: Any) -> dict[str, Any]:
    return {"id": article_id, "title": f"Article {article_id}", "body": f"<p>{article_id}</p>",
            "state": "PUBLISHED", "language": "en", "tagIds": ["t1"],
            "updatedAt": "2026-01-02T03:04:05.000Z", **overrides}


# --- KBArticle ---------------------------------------------------------------------------------


class TestContentHash:
    def test_same_content_same_hash(self) -> None:
        """The hash depends on content only: the url, language, date and source do not count."""
        other = article(url=None, language="de", source="site_search",
                        updated_at=datetime(2026, 1, 1, tzinfo=UTC))
        assert article().content_hash == other.content_hash
        assert len(article().content_hash) == 64

    @pytest.mark.parametrize("change", [{"title": "Reset it"}, {"body": "<p>Click.</p>"},
                                        {"tags": ("account",)}])
    def test_title_body_and_tags_change_the_hash(self, change: dict[str, Any]) -> None:
        """Editing the title, the body or the tags gives a new hash."""
        assert article(**change).content_hash != article().content_hash

    def test_tag_order_does_not_matter(self) -> None:
        """Tags are a set for hashing: reordering them sends nothing."""
        assert article(tags=("login", "account")).content_hash == article().content_hash

    def test_fields_cannot_bleed_into_each_other(self) -> None:
        """Moving text between title and body changes the hash (no plain concatenation)."""
        assert article(title="ab", body="c").content_hash != article(title="a",
                                                                     body="bc").content_hash


class TestParsing:
    def test_kb_api_article(self) -> None:
        """A KB API article becomes a typed record with its tags and update time."""
        names = {"t1": "faq", "t2": "billing"}
        parsed = KBArticle.from_kb_api(raw_article("7", tagIds=["t2", "t1", "gone"],
                                                   url="https://kb.example/7"), names)
        assert parsed == KBArticle("7", "Article 7", "<p>7</p>", ("billing", "faq"), "en",
                                   "https://kb.example/7",
                                   datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "kb_api")

    @pytest.mark.parametrize(("overrides", "reason"), [
        ({"id": None}, "id"), ({"id": "x" * 65}, "id"), ({"title": "  "}, "title"),
        ({"body": None}, "body"), ({"tagIds": "t1"}, "tagIds"), ({"updatedAt": "soon"}, "updatedAt"),
    ])
    def test_malformed_kb_api_article(self, overrides: dict[str, Any], reason: str) -> None:
        """A malformed article raises BadArticle naming the field."""
        with pytest.raises(kb.BadArticle, match=reason):
            KBArticle.from_kb_api(raw_article("7", **overrides), {})

    def test_site_search_article(self) -> None:
        """A search hit plus its indexed fields: the body comes from the indexed data."""
        hit = {"id": 55, "title": "Snippet title", "url": "https://kb.example/55",
               "description": "snippet…", "tags": ["faq"], "language": "en",
               "publishedDate": 1767225600000, "type": "KNOWLEDGE_ARTICLE"}
        indexed = {"id": "55", "type": "KNOWLEDGE_ARTICLE", "fields": {
            "title": {"name": "title", "value": "Full title", "values": ["Full title"]},
            "html_other": {"name": "html_other", "value": "The whole text.",
                           "values": ["The whole text."], "metadataField": False},
        }}
        parsed = KBArticle.from_site_search(hit, indexed)
        assert (parsed.id, parsed.title, parsed.body, parsed.source) == (
            "55", "Full title", "The whole text.", "site_search")
        assert parsed.updated_at == datetime(2026, 1, 1, tzinfo=UTC)

    def test_site_search_without_body_is_malformed(self) -> None:
        """Indexed data without a body field cannot become an article."""
        with pytest.raises(kb.BadArticle, match="body"):
            KBArticle.from_site_search({"id": 1, "title": "T"}, {"fields": {}})


# --- ArticleSource -----------------------------------------------------------------------------


KBS = f"{kb.KB_API}/knowledge-bases"
ARTICLES = f"{kb.KB_API}/articles"
TAGS = f"{kb.KB_API}/tags"


def no_tags(_params: Mapping[str, Any]) -> Any:
    return {"results": []}


class TestKnowledgeBaseAPI:
    def test_pages_through_every_knowledge_base(self) -> None:
        """Both knowledge bases are read, each page followed until paging is absent."""
        by_kb = {"kb1": [[raw_article("1"), raw_article("2")], [raw_article("3")]],
                 "kb2": [[raw_article("4")]]}
        http = FakeHubSpot({
            KBS: paged([[{"id": "kb1"}], [{"id": "kb2"}]]), TAGS: no_tags,
            ARTICLES: lambda p: paged(by_kb[p["knowledgeBaseId"]])(p),
        })
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        assert [a.id for a in source.articles()] == ["1", "2", "3", "4"]
        assert source.source == "kb_api"
        article_params = [params for path, params in http.calls if path == ARTICLES]
        assert all(p["state"] == "PUBLISHED" for p in article_params)
        assert kb.SITE_SEARCH not in http.paths()

    def test_malformed_article_is_skipped_and_logged(self) -> None:
        """One unreadable article is skipped with record_invalid; the others still come."""
        http = FakeHubSpot({KBS: paged([[{"id": "kb1"}]]), TAGS: no_tags,
                            ARTICLES: paged([[raw_article("1", title=None), raw_article("2")]])})
        source = kb.ArticleSource(http, fallback_queries=[])  # type: ignore[arg-type]
        with capture_logs() as logs:
            ids = [a.id for a in source.articles()]
        assert ids == ["2"]
        assert [(e["event"], e["id"]) for e in logs if e["event"] == "record_invalid"] == [
            ("record_invalid", "1")]

    def test_stray_drafts_and_duplicates_are_not_yielded(self) -> None:
        """A draft the filter let through is dropped, and an id seen twice comes once."""
        http = FakeHubSpot({KBS: paged([[{"id": "kb1"}, {"id": "kb2"}]]), TAGS: no_tags,
                            ARTICLES: paged([[raw_article("1"), raw_article("2", state="DRAFT")]])})
        source = kb.ArticleSource(http, fallback_queries=[])  # type: ignore[arg-type]
        assert [a.id for a in source.articles()] == ["1"]

    def test_tag_ids_become_names(self) -> None:
        """Tags are read once (paged) and each article's tagIds become names."""
        http = FakeHubSpot({KBS: paged([[{"id": "kb1"}]]),
                            TAGS: paged([[{"id": "t1", "name": "faq"}], [{"id": 9, "name": "vip"}]]),
                            ARTICLES: paged([[raw_article("1", tagIds=["t1", 9])]])})
        source = kb.ArticleSource(http, fallback_queries=[])  # type: ignore[arg-type]
        assert [a.tags for a in source.articles()] == [("faq", "vip")]
        assert http.paths().count(TAGS) == 2

    def test_unreadable_tags_leave_articles_untagged(self) -> None:
        """A 403 on /tags alone is logged; the articles still come, without tag names."""
        http = FakeHubSpot({KBS: paged([[{"id": "kb1"}]]), TAGS: missing_scopes,
                            ARTICLES: paged([[raw_article("1")]])})
        source = kb.ArticleSource(http, fallback_queries=[])  # type: ignore[arg-type]
        with capture_logs() as logs:
            assert [a.tags for a in source.articles()] == [()]
        assert [e["event"] for e in logs] == ["kb_tags_unavailable"]

    def test_other_errors_are_not_a_fallback(self) -> None:
        """A 401 is not "API not enabled": it propagates."""
        def unauthorized(_params: Mapping[str, Any]) -> Any:
            raise errors.HubSpotAuthError("bad token", status=401)
        source = kb.ArticleSource(FakeHubSpot({KBS: unauthorized}),  # type: ignore[arg-type]
                                  fallback_queries=["how"])
        with pytest.raises(errors.HubSpotAuthError):
            list(source.articles())


def search_handler(index: dict[str, list[dict[str, Any]]], page_size: int) -> Handler:
    def handler(params: Mapping[str, Any]) -> Any:
        hits = index.get(params["q"], [])
        offset = int(params["offset"])
        return {"total": len(hits), "offset": offset, "limit": page_size,
                "results": hits[offset:offset + page_size]}
    return handler


def indexed_handler(article_id: str) -> Handler:
    return lambda _p: {"id": article_id, "type": "KNOWLEDGE_ARTICLE", "fields": {
        "title": {"name": "title", "value": f"Title {article_id}"},
        "html_other": {"name": "html_other", "value": f"Body {article_id}"}}}


class TestSiteSearchFallback:
    def make(self, index: dict[str, list[dict[str, Any]]], ids: list[str],
             page_size: int = 2) -> FakeHubSpot:
        handlers: dict[str, Handler] = {KBS: missing_scopes,
                                        kb.SITE_SEARCH: search_handler(index, page_size)}
        for article_id in ids:
            handlers[kb.INDEXED_DATA.format(content_id=article_id)] = indexed_handler(article_id)
        return FakeHubSpot(handlers)

    def test_falls_back_pages_and_dedupes(self) -> None:
        """403 → each query is paged through, each article read once, the fallback logged once."""
        hits = {"how": [{"id": i} for i in (1, 2, 3)], "billing": [{"id": 2}, {"id": 4}]}
        http = self.make(hits, ["1", "2", "3", "4"])
        source = kb.ArticleSource(http, fallback_queries=["how", "billing"])  # type: ignore[arg-type]
        with capture_logs() as logs:
            found = list(source.articles())
        assert [a.id for a in found] == ["1", "2", "3", "4"]
        assert {a.source for a in found} == {"site_search"}
        assert found[0].body == "Body 1"
        assert source.source == "site_search"
        fallbacks = [e for e in logs if e["event"] == "kb_source_fallback"]
        assert len(fallbacks) == 1 and fallbacks[0]["status"] == 403
        indexed_reads = [p for p in http.paths() if "indexed-data" in p]
        assert len(indexed_reads) == 4  # article 2 is read once although found twice
        searches = [p for path, p in http.calls if path == kb.SITE_SEARCH]
        assert [(p["q"], p["offset"]) for p in searches] == [("how", 0), ("how", 2),
                                                             ("billing", 0)]
        assert all(p["type"] == "KNOWLEDGE_ARTICLE" for p in searches)

    def test_articles_refused_after_knowledge_bases_also_falls_back(self) -> None:
        """A token that may list knowledge bases but not articles (403) still falls back."""
        http = self.make({"how": [{"id": 1}]}, ["1"])
        http.handlers.update({KBS: paged([[{"id": "kb1"}]]), TAGS: no_tags,
                              ARTICLES: missing_scopes})
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        assert [a.id for a in source.articles()] == ["1"]
        assert source.source == "site_search"

    def test_refusal_after_articles_were_read_raises(self) -> None:
        """Once KB API articles were yielded, a 403 raises instead of mixing two sources."""
        def second_kb_refused(params: Mapping[str, Any]) -> Any:
            if params["knowledgeBaseId"] == "kb2":
                missing_scopes(params)
            return {"results": [raw_article("1")]}
        http = self.make({"how": [{"id": 1}]}, ["1"])
        http.handlers.update({KBS: paged([[{"id": "kb1"}, {"id": "kb2"}]]), TAGS: no_tags,
                              ARTICLES: second_kb_refused})
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        with pytest.raises(errors.HubSpotPermanent):
            list(source.articles())
        assert kb.SITE_SEARCH not in http.paths()

    def test_a_server_ignoring_offset_cannot_loop_forever(self) -> None:
        """Pages that never end (no total, offset ignored) stop at SEARCH_MAX_RESULTS."""
        http = self.make({}, ["1"])
        http.handlers[kb.SITE_SEARCH] = lambda _p: {"results": [{"id": 1}] * 100}
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        with capture_logs() as logs:
            assert [a.id for a in source.articles()] == ["1"]
        assert http.paths().count(kb.SITE_SEARCH) == kb.SEARCH_MAX_RESULTS // 100
        assert any(e["event"] == "kb_search_truncated" for e in logs)

    def test_empty_page_stops_even_without_total(self) -> None:
        """A page with no results ends the query even when ``total`` is missing."""
        def no_total(params: Mapping[str, Any]) -> Any:
            return {"results": [{"id": 1}] if int(params["offset"]) == 0 else []}
        http = self.make({}, ["1"])
        http.handlers[kb.SITE_SEARCH] = no_total
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        assert [a.id for a in source.articles()] == ["1"]
        assert http.paths().count(kb.SITE_SEARCH) == 2

    def test_vanished_article_is_skipped(self) -> None:
        """A hit whose indexed data is gone (404) is skipped with record_invalid."""
        def gone(_params: Mapping[str, Any]) -> Any:
            raise errors.HubSpotNotFound("gone", status=404)
        http = self.make({"how": [{"id": 1}, {"id": 2}]}, ["2"])
        http.handlers[kb.INDEXED_DATA.format(content_id="1")] = gone
        source = kb.ArticleSource(http, fallback_queries=["how"])  # type: ignore[arg-type]
        with capture_logs() as logs:
            assert [a.id for a in source.articles()] == ["2"]
        assert any(e["event"] == "record_invalid" and e["id"] == "1" for e in logs)


# --- the Simpli KB client ----------------------------------------------------------------------


class FakeSimpli:
    """Answers POST /articles and GET /gaps from queues of answers or errors; records bodies."""

    def __init__(self, answers: list[Any] | None = None, gaps: Any = None) -> None:
        self.answers = list(answers or [])
        self.gap_answer = gaps if gaps is not None else {"gaps": []}
        self.posted: list[dict[str, Any]] = []

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        assert path == "/articles"
        self.posted.append(dict(body))
        answer = self.answers.pop(0) if self.answers else {"id": f"kb-{len(self.posted)}"}
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        assert path == "/gaps"
        if isinstance(self.gap_answer, Exception):
            raise self.gap_answer
        return dict(self.gap_answer)


class TestKnowledgeBaseClient:
    def test_push_sends_the_contract_and_returns_the_id(self) -> None:
        """POST /articles carries title, content, tags, source and the HubSpot id."""
        simpli = FakeSimpli([{"id": "kb-0001", "version": 1}])
        assert simpli_kb.KnowledgeBase(simpli).push(article()) == "kb-0001"  # type: ignore[arg-type]
        assert simpli.posted == [{"title": "Reset your password", "content": "<p>Click reset.</p>",
                                  "tags": ["account", "login"], "source": "hubspot-kb",
                                  "external_id": "101"}]

    def test_oversized_text_is_cut_and_logged(self) -> None:
        """A title over 500 and content over 200,000 characters are cut, not rejected."""
        simpli = FakeSimpli()
        long = article(title="T" * 600, body="b" * 250_000)
        with capture_logs() as logs:
            simpli_kb.KnowledgeBase(simpli).push(long)  # type: ignore[arg-type]
        assert len(simpli.posted[0]["title"]) == simpli_kb.TITLE_MAX
        assert len(simpli.posted[0]["content"]) == simpli_kb.CONTENT_MAX
        assert sorted(e["field"] for e in logs if e["event"] == "kb_article_truncated") == [
            "content", "title"]

    def test_empty_body_is_refused_without_a_call(self) -> None:
        """An article with no content fails locally (a 422 would say the same)."""
        simpli = FakeSimpli()
        with pytest.raises(simpli_kb.EmptyArticle):
            simpli_kb.KnowledgeBase(simpli).push(article(body="  "))  # type: ignore[arg-type]
        assert simpli.posted == []

    @pytest.mark.parametrize("answer", [{}, {"id": ""}, {"id": None}, {"id": "x" * 101}])
    def test_answer_without_a_usable_id_is_rejected(self, answer: dict[str, Any]) -> None:
        """The answer is validated: no id means a BadAIAnswer (a permanent failure)."""
        with pytest.raises(errors.BadAIAnswer):
            simpli_kb.KnowledgeBase(FakeSimpli([answer])).push(article())  # type: ignore[arg-type]

    def test_gap_report_is_read_tolerantly(self) -> None:
        """Extra fields are ignored, missing ones defaulted, unusable gaps dropped."""
        raw = {"gaps": [{"topic": "billing", "ticket_count": 14, "example_subjects": ["a", 3],
                         "severity": "high"},
                        {"topic": "refunds"}, {"ticket_count": 2}, "junk"],
               "extra": True}
        report = simpli_kb.GapReport.from_api(raw)
        assert report.gaps == [simpli_kb.Gap("billing", 14, ["a"]), simpli_kb.Gap("refunds", 0, [])]
        assert report.generated_at is None
        assert report.raw is raw

    def test_gap_report_without_gaps_list(self) -> None:
        """A report whose ``gaps`` is not a list has no gaps (and is still kept raw)."""
        assert simpli_kb.GapReport.from_api({"gaps": "none", "generated_at": "t"}).gaps == []


# --- sync (with in-memory fakes) -----------------------------------------------------------


class FakeSource:
    def __init__(self, articles: list[KBArticle]) -> None:
        self._articles = articles
        self.source = "kb_api"

    def articles(self) -> Any:
        yield from self._articles


class FakeStore:
    def __init__(self) -> None:
        self.synced: dict[str, tuple[str, str]] = {}
        self.reports: list[dict[str, Any]] = []

    def hashes(self, portal: str) -> dict[str, str]:
        return {aid: h for aid, (h, _) in self.synced.items()}

    def record_synced(self, portal: str, article: KBArticle, simpli_id: str) -> None:
        self.synced[article.id] = (article.content_hash, simpli_id)

    def save_gaps(self, portal: str, report_json: dict[str, Any]) -> None:
        self.reports.append(report_json)


def run(articles: list[KBArticle], simpli: FakeSimpli, store: FakeStore) -> kbsync.KBSyncReport:
    return kbsync.sync("p1", FakeSource(articles), simpli_kb.KnowledgeBase(simpli),  # type: ignore[arg-type]
                       store)  # type: ignore[arg-type]


class TestSync:
    def test_only_new_or_changed_articles_are_sent(self) -> None:
        """A second run sends nothing; an edited article is sent again alone."""
        store, simpli = FakeStore(), FakeSimpli()
        first = run([article(id="1"), article(id="2")], simpli, store)
        assert (first.seen, first.sent, first.unchanged) == (2, 2, 0)
        again = run([article(id="1"), article(id="2", body="<p>new</p>")], simpli, store)
        assert (again.seen, again.sent, again.unchanged) == (2, 1, 1)
        assert [p["external_id"] for p in simpli.posted] == ["1", "2", "2"]

    def test_permanent_failure_fails_one_article(self) -> None:
        """A 422 fails that article (reported, logged, not recorded); the rest are sent."""
        rejected = errors.SimpliPermanent("invalid", service="kb", status=422)
        store, simpli = FakeStore(), FakeSimpli([rejected])
        with capture_logs() as logs:
            report = run([article(id="1"), article(id="2")], simpli, store)
        assert report.sent == 1 and [aid for aid, _ in report.failed] == ["1"]
        assert set(store.synced) == {"2"}
        assert any(e["event"] == "kb_article_failed" and e["article_id"] == "1" for e in logs)

    def test_transient_failure_stops_the_sync(self) -> None:
        """Simpli down: the sync raises and only what was accepted is recorded."""
        down = errors.SimpliTransient("down", service="kb", status=503)
        store, simpli = FakeStore(), FakeSimpli([{"id": "kb-1"}, down])
        with pytest.raises(errors.SimpliTransient):
            run([article(id="1"), article(id="2"), article(id="3")], simpli, store)
        assert set(store.synced) == {"1"}
        assert store.reports == []

    def test_gap_report_is_saved_and_counted(self) -> None:
        """The gap report is fetched at the end, stored raw, and its gaps counted."""
        gaps = {"gaps": [{"topic": "billing", "ticket_count": 3, "example_subjects": []}]}
        store = FakeStore()
        with capture_logs() as logs:
            report = run([], FakeSimpli(gaps=gaps), store)
        assert (report.gaps, report.source, store.reports) == (1, "kb_api", [gaps])
        finished = [e for e in logs if e["event"] == "kb_sync_finished"]
        assert finished and finished[0]["gaps"] == 1 and finished[0]["seen"] == 0

    def test_permanent_gap_failure_does_not_fail_the_sync(self) -> None:
        """A rejected /gaps call is logged; the articles stay synced and gaps is None."""
        broken = FakeSimpli(gaps=errors.SimpliPermanent("nope", service="kb", status=404))
        store = FakeStore()
        report = run([article()], broken, store)
        assert (report.sent, report.gaps, store.reports) == (1, None, [])


# --- format_gaps -------------------------------------------------------------------------------


FETCHED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class TestFormatGaps:
    def test_no_report(self) -> None:
        """Before the first sync there is nothing to show, and it says so."""
        assert kbsync.format_gaps(None, None) == "no gap report yet"

    def test_table_most_tickets_first(self) -> None:
        """Topic, ticket count and example subjects line up, busiest topic first."""
        report = {"generated_at": "2026-01-05T08:59:00+00:00", "gaps": [
            {"topic": "refunds", "ticket_count": 7, "example_subjects": ["Refund not received"]},
            {"topic": "password reset", "ticket_count": 11,
             "example_subjects": ["Can't reset", "No email"]}]}
        assert kbsync.format_gaps(report, FETCHED).splitlines() == [
            ("Knowledge-base gaps (fetched 2026-01-05 09:00:00 UTC, "
             "generated 2026-01-05T08:59:00+00:00)"),
            "",
            "TOPIC           TICKETS  EXAMPLE SUBJECTS",
            "password reset       11  Can't reset; No email",
            "refunds               7  Refund not received",
        ]

    def test_no_gaps(self) -> None:
        """A report with no gaps says every topic is covered."""
        text = kbsync.format_gaps({"gaps": []}, FETCHED)
        assert text.endswith("no gaps: every topic in the report is covered")

    def test_untrusted_text_stays_on_one_line(self) -> None:
        """Newlines and escape codes in a topic or subject cannot break the table."""
        report = {"gaps": [{"topic": "a\nb\x1b[2J", "ticket_count": 1,
                            "example_subjects": ["x" * 200]}]}
        lines = kbsync.format_gaps(report, None).splitlines()
        assert len(lines) == 4 and "\x1b" not in lines[3]
        assert lines[3].endswith("…") and len(lines[3]) < 120

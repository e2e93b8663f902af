"""The knowledge-base sync end to end: the HubSpot emulator and the Simpli KB stand-in over real
HTTP, the ledger on SQLite and PostgreSQL (``ledger`` fixture).

Backoff waits go to the FakeClock, so retries cost no real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from structlog.testing import capture_logs

from hubsync import errors, kbsync
from hubsync.clock import FakeClock
from hubsync.emulators.hubspot import HubSpotEmulator
from hubsync.emulators.simpli import KBStandIn
from hubsync.hubspot.budget import RateBudget
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.ledger.kb_store import KBStore
from hubsync.ledger.store import Ledger
from hubsync.simpli.http import SimpliHTTP
from hubsync.simpli.kb import KnowledgeBase
from hubsync.streams.kb import ArticleSource, KBArticle

PORTAL = "portal-1"
TOKEN = "pat-na1-kb-test"
QUERIES = ("billing", "password", "refunds", "integrations")


@dataclass
class Seeded:
    billing: str
    password: str
    refunds: str
    draft: str

    @property
    def published(self) -> set[str]:
        return {self.billing, self.password, self.refunds}


@dataclass
class Rig:
    """Everything one sync needs, wired to the emulators."""

    emu: HubSpotEmulator
    kb_stand_in: KBStandIn
    store: KBStore
    source: ArticleSource
    kb: KnowledgeBase
    clock: FakeClock

    def sync(self) -> kbsync.KBSyncReport:
        return kbsync.sync(PORTAL, self.source, self.kb, self.store)

    def posted(self) -> int:
        return sum(1 for call in self.kb_stand_in.calls
                   if call.method == "POST" and call.path == "/articles")


def seed(emu: HubSpotEmulator) -> Seeded:
    return Seeded(
        billing=emu.seed_kb_article(
            "Billing questions", "<p>How <b>billing</b> works and when invoices are sent.</p>",
            tags=("billing", "faq"), category="Payments"),
        password=emu.seed_kb_article(
            "Password reset", "<p>Use the password reset link on the sign-in page.</p>",
            tags=("account",)),
        refunds=emu.seed_kb_article(
            "Refunds", "<p>Refunds reach your card within five days.</p>"),
        draft=emu.seed_kb_article(
            "Integrations (draft)", "<p>Connect Slack integrations here.</p>", state="DRAFT"),
    )


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def kb_stand_in() -> Iterator[KBStandIn]:
    with KBStandIn() as started:
        yield started


def make_rig(emu: HubSpotEmulator, kb_stand_in: KBStandIn, ledger: Ledger, clock: FakeClock,
             session: requests.Session) -> Rig:
    hubspot = HubSpotHTTP(session=session, base_url=emu.base_url, token=TOKEN,
                          budget=RateBudget(clock=clock), clock=clock)
    simpli = SimpliHTTP(service="kb", session=session, base_url=kb_stand_in.base_url,
                        api_key=None, clock=clock)
    return Rig(emu, kb_stand_in, KBStore(ledger.engine, clock),
               ArticleSource(hubspot, fallback_queries=QUERIES), KnowledgeBase(simpli), clock)


@pytest.fixture
def rig(kb_stand_in: KBStandIn, ledger: Ledger, clock: FakeClock,
        session: requests.Session) -> Iterator[Rig]:
    with HubSpotEmulator(TOKEN, clock=clock, burst_limit=None) as emu:
        yield make_rig(emu, kb_stand_in, ledger, clock, session)


@pytest.fixture
def fallback_rig(kb_stand_in: KBStandIn, ledger: Ledger, clock: FakeClock,
                 session: requests.Session) -> Iterator[Rig]:
    with HubSpotEmulator(TOKEN, clock=clock, burst_limit=None, kb_api=False) as emu:
        yield make_rig(emu, kb_stand_in, ledger, clock, session)


class TestKnowledgeBaseAPISync:
    def test_first_sync_sends_published_articles_and_stores_gaps(self, rig: Rig) -> None:
        """Every published article (no draft) reaches Simpli KB; the gap report is stored."""
        seeded = seed(rig.emu)
        report = rig.sync()
        assert (report.seen, report.sent, report.unchanged, report.failed) == (3, 3, 0, [])
        assert report.source == "kb_api"
        stored = {a.external_id: a for a in rig.kb_stand_in.articles}
        assert set(stored) == seeded.published
        billing = stored[seeded.billing]
        assert (billing.title, billing.source) == ("Billing questions", "hubspot-kb")
        assert "<b>billing</b>" in billing.content  # the KB API gives the HTML body
        assert sorted(billing.tags) == ["billing", "faq"]
        assert set(rig.store.hashes(PORTAL)) == seeded.published
        latest = rig.store.latest_gaps(PORTAL)
        assert latest is not None
        gaps, fetched_at = latest
        topics = {gap["topic"] for gap in gaps["gaps"]}
        assert report.gaps == len(topics)
        assert {"billing", "refunds", "password reset"}.isdisjoint(topics)
        assert "integrations" in topics  # only the draft covers it
        assert fetched_at == rig.clock.now()
        assert "integrations" in kbsync.format_gaps(gaps, fetched_at)

    def test_second_sync_sends_nothing(self, rig: Rig) -> None:
        """Unchanged articles are not sent again."""
        seed(rig.emu)
        rig.sync()
        before = rig.posted()
        report = rig.sync()
        assert rig.posted() - before == 0
        assert (report.seen, report.sent, report.unchanged) == (3, 0, 3)

    def test_edited_article_is_sent_alone(self, rig: Rig) -> None:
        """Editing one article's body sends exactly that article, as an update in Simpli."""
        seeded = seed(rig.emu)
        rig.sync()
        before = rig.posted()
        rig.clock.advance(60)
        rig.emu.update_kb_article(seeded.refunds, body_html="<p>Refunds take ten days.</p>")
        report = rig.sync()
        assert rig.posted() - before == 1 and report.sent == 1 and report.unchanged == 2
        refunds = next(a for a in rig.kb_stand_in.articles if a.external_id == seeded.refunds)
        assert (refunds.version, refunds.content) == (2, "<p>Refunds take ten days.</p>")
        assert len(rig.kb_stand_in.articles) == 3

    def test_unpublished_article_is_no_longer_read(self, rig: Rig) -> None:
        """An article moved back to draft is not among the articles read."""
        seeded = seed(rig.emu)
        rig.emu.update_kb_article(seeded.refunds, state="DRAFT")
        assert {a.id for a in rig.source.articles()} == {seeded.billing, seeded.password}


class TestSiteSearchFallback:
    def test_fallback_finds_and_sends_published_articles(self, fallback_rig: Rig) -> None:
        """With the KB API refused (403), site search finds the published articles."""
        seeded = seed(fallback_rig.emu)
        with capture_logs() as logs:
            report = fallback_rig.sync()
        assert report.source == "site_search"
        assert (report.seen, report.sent, report.failed) == (3, 3, [])
        stored = {a.external_id: a for a in fallback_rig.kb_stand_in.articles}
        assert set(stored) == seeded.published
        assert stored[seeded.billing].content == (
            "How billing works and when invoices are sent.")  # indexed text, not HTML
        fallbacks = [e for e in logs if e["event"] == "kb_source_fallback"]
        assert len(fallbacks) == 1 and fallbacks[0]["status"] == 403
        assert fallback_rig.store.latest_gaps(PORTAL) is not None

    def test_fallback_second_sync_sends_nothing(self, fallback_rig: Rig) -> None:
        """Hashes work the same for site-search articles."""
        seed(fallback_rig.emu)
        fallback_rig.sync()
        before = fallback_rig.posted()
        assert fallback_rig.sync().unchanged == 3
        assert fallback_rig.posted() == before


class TestFailures:
    def test_rejected_article_fails_alone(self, rig: Rig) -> None:
        """A 422 for one article fails it; the rest are sent, and the next sync retries it."""
        seed(rig.emu)
        rig.kb_stand_in.inject("/articles", 422, times=1)
        with capture_logs() as logs:
            report = rig.sync()
        assert (report.sent, len(report.failed)) == (2, 1)
        failed_id = report.failed[0][0]
        assert "422" in report.failed[0][1]
        assert failed_id not in rig.store.hashes(PORTAL)
        assert [e["article_id"] for e in logs if e["event"] == "kb_article_failed"] == [failed_id]
        retry = rig.sync()
        assert (retry.sent, retry.unchanged, retry.failed) == (1, 2, [])

    def test_simpli_down_stops_the_sync_and_records_nothing(self, rig: Rig) -> None:
        """Simpli KB answering 503 after every retry: the sync raises, nothing is recorded."""
        seed(rig.emu)
        rig.kb_stand_in.inject("/articles", 503, times=50)
        with pytest.raises(errors.SimpliTransient):
            rig.sync()
        assert rig.store.hashes(PORTAL) == {}
        assert rig.store.latest_gaps(PORTAL) is None
        assert rig.kb_stand_in.articles == []


class TestKBStore:
    def article(self, article_id: str, body: str) -> KBArticle:
        return KBArticle(article_id, "Title", body, ("t",), "en", None, None, "kb_api")

    def test_record_synced_upserts(self, ledger: Ledger, clock: FakeClock) -> None:
        """Recording an article twice keeps one row with the newest hash, per portal."""
        store = KBStore(ledger.engine, clock)
        first, edited = self.article("1", "a"), self.article("1", "b")
        store.record_synced(PORTAL, first, "kb-1")
        store.record_synced(PORTAL, edited, "kb-1")
        store.record_synced("other", first, "kb-9")
        assert store.hashes(PORTAL) == {"1": edited.content_hash}
        assert store.hashes("other") == {"1": first.content_hash}

    def test_latest_gaps_is_the_newest(self, ledger: Ledger, clock: FakeClock) -> None:
        """The newest report of the portal comes back, with when it was fetched."""
        store = KBStore(ledger.engine, clock)
        assert store.latest_gaps(PORTAL) is None
        store.save_gaps(PORTAL, {"gaps": [], "n": 1})
        clock.advance(10)
        store.save_gaps(PORTAL, {"gaps": [], "n": 2})
        store.save_gaps("other", {"gaps": [], "n": 3})
        assert store.latest_gaps(PORTAL) == ({"gaps": [], "n": 2}, clock.now())

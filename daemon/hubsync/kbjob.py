"""The KB job: for each portal, sync HubSpot's articles to Simpli KB and keep the gaps.

It reuses the runtime's per-portal HTTP access, so the KB job and the sync cycle share one
rate budget per portal even when the scheduler runs them at the same time.
"""

from __future__ import annotations

import structlog

from hubsync import errors, kbsync
from hubsync.config import Config
from hubsync.ledger.kb_store import KBStore
from hubsync.ledger.store import Ledger
from hubsync.simpli.kb import KnowledgeBase
from hubsync.streams.kb import ArticleSource
from hubsync.wiring import Runtime, simpli_http

log = structlog.get_logger(__name__)


def run(rt: Runtime) -> dict[str, kbsync.KBSyncReport]:
    """Sync every portal; one portal's failure is logged and spares the others."""
    kb = KnowledgeBase(simpli_http("kb", rt.config.simpli.kb, rt.session, rt.clock))
    store = KBStore(rt.ledger.engine, rt.clock)
    reports: dict[str, kbsync.KBSyncReport] = {}
    for portal in rt.portals:
        source = ArticleSource(portal.http, fallback_queries=rt.config.kb.fallback_queries)
        try:
            reports[portal.config.id] = kbsync.sync(portal.config.id, source, kb, store)
        except errors.HubsyncError as exc:
            log.error("kb_sync_failed", portal=portal.config.id, error=str(exc))
    return reports


def gaps_text(config: Config, ledger: Ledger) -> str:
    """The newest gap report of each portal, readable."""
    store = KBStore(ledger.engine, ledger.clock)
    parts = []
    for portal in config.portals:
        latest = store.latest_gaps(portal.id)
        body = kbsync.format_gaps(*latest) if latest else "no gap report yet (run `hubsync kb sync`)"
        parts.append(f"[{portal.id}]\n{body}")
    return "\n\n".join(parts)

"""The ledger's knowledge-base tables: what was sent to Simpli KB, and the gap reports.

Every method is one short transaction (``engine.begin()``), none spans an HTTP call. An article
is recorded only after Simpli KB accepted it, so a sync that stops half-way resends the rest.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hubsync.clock import Clock
from hubsync.ledger import tables as t
from hubsync.ledger.records import aware

if TYPE_CHECKING:
    from hubsync.streams.kb import KBArticle


class KBStore:
    """Synced article hashes and gap reports, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def hashes(self, portal: str) -> dict[str, str]:
        """Article id → content hash of every article already sent for ``portal``."""
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t.kb_articles.c.article_id,
                                          t.kb_articles.c.content_hash)
                                .where(t.kb_articles.c.portal == portal)).all()
        return {row.article_id: row.content_hash for row in rows}

    def record_synced(self, portal: str, article: KBArticle, simpli_id: str) -> None:
        """Remember that Simpli KB holds ``article`` as it is now (insert or replace)."""
        row = {
            "portal": portal, "article_id": article.id, "title": article.title,
            "content_hash": article.content_hash, "simpli_id": simpli_id,
            "source": article.source, "synced_at": self.clock.now(),
        }
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.kb_articles).values(**row)
        key = ("portal", "article_id")
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={k: stmt.excluded[k] for k in row if k not in key})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def save_gaps(self, portal: str, report_json: dict[str, Any]) -> None:
        """Keep one fetched gap report (older ones stay, as history)."""
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.kb_gap_reports).values(
                portal=portal, report=json.dumps(report_json, sort_keys=True),
                fetched_at=self.clock.now()))

    def latest_gaps(self, portal: str) -> tuple[dict[str, Any], datetime] | None:
        """The newest gap report of ``portal`` and when it was fetched; None if there is none."""
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.kb_gap_reports.c.report, t.kb_gap_reports.c.fetched_at)
                .where(t.kb_gap_reports.c.portal == portal)
                .order_by(t.kb_gap_reports.c.fetched_at.desc(), t.kb_gap_reports.c.id.desc())
                .limit(1)).first()
        if row is None:
            return None
        report = json.loads(row.report)
        return (report if isinstance(report, dict) else {}), aware(row.fetched_at)

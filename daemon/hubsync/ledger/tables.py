"""The ledger's tables: the single source of truth for what hubsync saw and did.

Only Alembic migrations create or change these tables; ``tests/migration`` checks that the
migrations and this module agree (``alembic check``). Every row carries its portal.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Stamp = DateTime(timezone=True)

# Where each stream has read up to: (portal, stream, lane) -> an opaque position.
cursors = Table(
    "cursors", metadata,
    Column("portal", String(32), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("lane", String(32), primary_key=True),
    Column("position", String(200), nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

# The last state of each ticket that hubsync saw, to classify the next change.
ticket_snapshots = Table(
    "ticket_snapshots", metadata,
    Column("portal", String(32), primary_key=True),
    Column("ticket_id", String(32), primary_key=True),
    Column("pipeline", String(64), nullable=True),
    Column("stage", String(64), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("owner_id", String(32), nullable=True),
    Column("last_modified", Stamp, nullable=False),
    Column("first_seen_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

# The events inbox: one row per thing that happened, deduplicated on its key.
events = Table(
    "events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("portal", String(32), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("object_id", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Stamp, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    UniqueConstraint("portal", "dedupe_key", name="uq_events_portal_dedupe_key"),
    Index("ix_events_status_next_attempt_at", "status", "next_attempt_at"),
)

# Memoized AI answers, so a replay writes the same text and pays Simpli once.
ai_results = Table(
    "ai_results", metadata,
    Column("portal", String(32), primary_key=True),
    Column("event_key", String(200), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("result", Text, nullable=False),
    Column("created_at", Stamp, nullable=False),
)

# The write outbox: every HubSpot write is recorded here before it is made.
outbox = Table(
    "outbox", metadata,
    Column("op_key", String(64), primary_key=True),
    Column("portal", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target_id", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("remote_id", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("event_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("next_attempt_at", Stamp, nullable=False),
    Column("last_attempt_at", Stamp, nullable=True),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Index("ix_outbox_portal_state", "portal", "state"),
)

# Knowledge-base articles sent to Simpli KB, by content hash: unchanged ones are not resent.
kb_articles = Table(
    "kb_articles", metadata,
    Column("portal", String(32), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("simpli_id", String(100), nullable=True),
    Column("source", String(32), nullable=False),
    Column("synced_at", Stamp, nullable=False),
)

# Simpli KB gap reports as fetched; the newest per portal is what `hubsync kb gaps` shows.
kb_gap_reports = Table(
    "kb_gap_reports", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("portal", String(32), nullable=False),
    Column("report", Text, nullable=False),
    Column("fetched_at", Stamp, nullable=False),
    Index("ix_kb_gap_reports_portal_fetched_at", "portal", "fetched_at"),
)

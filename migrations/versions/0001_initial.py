"""The initial ledger: cursors, ticket snapshots, events inbox, AI memo, write outbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "cursors",
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("stream", sa.String(32), nullable=False),
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("portal", "stream", "lane", name="pk_cursors"),
    )
    op.create_table(
        "ticket_snapshots",
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.String(32), nullable=False),
        sa.Column("pipeline", sa.String(64), nullable=True),
        sa.Column("stage", sa.String(64), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True),
        sa.Column("last_modified", Stamp, nullable=False),
        sa.Column("first_seen_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("portal", "ticket_id", name="pk_ticket_snapshots"),
    )
    op.create_table(
        "events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("portal", "dedupe_key", name="uq_events_portal_dedupe_key"),
    )
    op.create_index("ix_events_status_next_attempt_at", "events",
                    ["status", "next_attempt_at"])
    op.create_table(
        "ai_results",
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("portal", "event_key", "kind", name="pk_ai_results"),
    )
    op.create_table(
        "outbox",
        sa.Column("op_key", sa.String(64), nullable=False),
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("event_id", Id, nullable=True),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("last_attempt_at", Stamp, nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("op_key", name="pk_outbox"),
    )
    op.create_index("ix_outbox_portal_state", "outbox", ["portal", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_portal_state", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("ai_results")
    op.drop_index("ix_events_status_next_attempt_at", table_name="events")
    op.drop_table("events")
    op.drop_table("ticket_snapshots")
    op.drop_table("cursors")

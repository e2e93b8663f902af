"""Knowledge-base sync: articles sent to Simpli KB and the gap reports fetched back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("simpli_id", sa.String(100), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("synced_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("portal", "article_id", name="pk_kb_articles"),
    )
    op.create_table(
        "kb_gap_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("fetched_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_gap_reports"),
    )
    op.create_index("ix_kb_gap_reports_portal_fetched_at", "kb_gap_reports",
                    ["portal", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_gap_reports_portal_fetched_at", table_name="kb_gap_reports")
    op.drop_table("kb_gap_reports")
    op.drop_table("kb_articles")

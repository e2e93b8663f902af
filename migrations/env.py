"""Alembic environment for the hubsync ledger.

The URL comes from the Alembic config (``hubsync migrate`` sets it) or, when run as plain
``alembic`` from the repository, from ``$HUBSYNC_LEDGER_URL``.
"""

from __future__ import annotations

import os

from alembic import context

from hubsync.ledger import db, tables

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("HUBSYNC_LEDGER_URL")
if not url:
    raise SystemExit("set HUBSYNC_LEDGER_URL (or use `hubsync migrate`)")


def run_migrations_online() -> None:
    engine = db.create_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=tables.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=db.normalize_url(url), target_metadata=tables.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

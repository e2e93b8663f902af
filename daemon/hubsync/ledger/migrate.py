"""Run the Alembic migrations that ship inside the package (``hubsync.migrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import hubsync.migrations
from hubsync.ledger import db


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(hubsync.migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", db.normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the ledger at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def is_current(engine: Engine, url: str) -> bool:
    """True when the database is at the newest migration."""
    script = ScriptDirectory.from_config(alembic_config(url))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())

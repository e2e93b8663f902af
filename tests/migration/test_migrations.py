"""Alembic is the only thing that creates the schema, and it matches the tables module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from hubsync.clock import FakeClock
from hubsync.ledger import db, migrate
from hubsync.ledger.store import Ledger

ROOT = Path(__file__).parents[2]


def test_upgrade_head_then_check_finds_no_drift(ledger_url: str) -> None:
    migrate.upgrade(ledger_url)
    command.check(migrate.alembic_config(ledger_url))   # raises on any model/schema drift
    engine = db.create_engine(ledger_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert {"cursors", "ticket_snapshots", "events", "ai_results", "outbox"} <= names
        assert migrate.is_current(engine, ledger_url)
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(ledger_url: str) -> None:
    cfg = migrate.alembic_config(ledger_url)
    migrate.upgrade(ledger_url)
    command.downgrade(cfg, "base")
    engine = db.create_engine(ledger_url)
    try:
        assert "events" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    migrate.upgrade(ledger_url)


def test_ledger_refuses_an_unmigrated_database(ledger_url: str) -> None:
    from hubsync import errors
    with pytest.raises(errors.HubsyncError, match="hubsync migrate"):
        Ledger.open(ledger_url, FakeClock())


def test_plain_alembic_cli_from_the_repository(sqlite_url: str) -> None:
    """`alembic upgrade head` and `alembic check` work from a checkout, too."""
    env = {"HUBSYNC_LEDGER_URL": sqlite_url, "PATH": "/usr/bin:/bin"}
    alembic = str(Path(sys.executable).with_name("alembic"))
    for args in (["upgrade", "head"], ["check"]):
        proc = subprocess.run([alembic, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_sqlite_connections_are_durable(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = db.create_engine(sqlite_url)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2   # FULL
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()

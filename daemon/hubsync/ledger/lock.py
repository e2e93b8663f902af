"""One daemon per ledger: a kernel file lock for SQLite, an advisory lock for PostgreSQL.

Both are released by the operating system or the server when the process dies, SIGKILL
included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from hubsync import errors
from hubsync.ledger import db

ADVISORY_KEY = 0x68756273796E63  # "hubsync"


class InstanceLock:
    def __init__(self, url: str, lock_path: Path | None = None) -> None:
        self.url = url
        path = db.sqlite_path(url)
        self.path = lock_path or (path.with_name(path.name + ".lock") if path else None)
        self._file: IO[str] | None = None
        self._conn: Any = None
        self._engine: Any = None

    def acquire(self) -> None:
        """Take the lock or raise ``LedgerLocked`` naming the holder."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held open)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise errors.LedgerLocked(
                    f"another hubsync (pid {holder}) holds {self.path}") from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self._file = handle
            return
        self._engine = sa.create_engine(db.normalize_url(self.url), poolclass=sa.pool.NullPool)
        self._conn = self._engine.connect()
        got = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                 {"k": ADVISORY_KEY}).scalar()
        self._conn.commit()
        if not got:
            self.release()
            raise errors.LedgerLocked("another hubsync holds this PostgreSQL ledger")

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

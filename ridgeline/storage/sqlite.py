"""SQLite backend: one file, WAL journal, durable commits.

Durability: `synchronous=FULL` in WAL mode makes a commit wait for the WAL to reach the
disk, so a write that returned survives a killed process and a power cut.

Concurrency: writers open their transaction with `BEGIN IMMEDIATE`, which takes SQLite's
write lock up front. A deferred transaction that reads first and writes later can fail
with SQLITE_BUSY at the write without waiting on the busy timeout; taking the lock at
the start makes every writer wait its turn instead. If the lock is still held after the
busy timeout, the attempt is retried a bounded number of times and then reported.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ridgeline.errors import StorageError
from ridgeline.storage import migrations
from ridgeline.storage.base import Cursor, Params, Row, Storage

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
LOCK_RETRIES = 5


class _SQLiteCursor(Cursor):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._connection.executemany(sql, rows)


class SQLiteStorage(Storage):
    """A ledger in one SQLite file.

    Args:
        path: the database file; its folder is created if missing.
        artifact_dir: where artifacts live; by default a folder beside the database.
    """

    dialect = "sqlite"

    def __init__(self, path: str | Path, artifact_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.artifact_dir = artifact_dir or self.path.with_name(self.path.stem + "-artifacts")
        self._lock = threading.RLock()
        self._connection = self._connect()
        self._migrate()

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # we issue BEGIN and COMMIT ourselves
                check_same_thread=False,  # guarded by self._lock instead
            )
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal(connection)
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as error:
            raise StorageError(f"{self.path}: cannot open as a SQLite ledger: {error}") from error
        except OSError as error:
            raise StorageError(f"{self.path}: cannot create the ledger: {error}") from error
        return connection

    def _set_wal(self, connection: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment of exclusive access; when another process is
        # mid-write on a fresh file, wait for it rather than fail.
        for attempt in range(LOCK_RETRIES):
            try:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    logger.warning("%s: journal mode is %s, not WAL", self.path, mode)
                return
            except sqlite3.OperationalError as error:
                if not _is_lock_error(error) or attempt == LOCK_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    # -- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock:
            self._begin_immediate()
            try:
                yield _SQLiteCursor(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            try:
                self._connection.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                with contextlib.suppress(sqlite3.DatabaseError):
                    self._connection.execute("ROLLBACK")
                raise StorageError(f"{self.path}: commit failed: {error}") from error

    def _begin_immediate(self) -> None:
        for attempt in range(LOCK_RETRIES):
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_lock_error(error):
                    raise StorageError(f"{self.path}: cannot start a write: {error}") from error
                logger.info("%s: write lock busy (attempt %d)", self.path, attempt + 1)
        raise StorageError(
            f"{self.path}: the ledger stayed locked by another writer for "
            f"{LOCK_RETRIES * BUSY_TIMEOUT_MS // 1000} s; nothing was written, try again"
        )

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._lock:
            try:
                return self._connection.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                raise StorageError(f"{self.path}: query failed: {error}") from error

    def integrity_check(self) -> list[str]:
        rows = self.query("PRAGMA integrity_check")
        problems = [row[0] for row in rows if row[0] != "ok"]
        problems += [
            f"foreign key: {row}" for row in self.query("PRAGMA foreign_key_check")
        ]
        return problems

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None  # type: ignore[assignment]

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction() as cursor:
            migrations.apply_pending(cursor, self.dialect, str(self.path))

    def schema_version(self) -> int:
        row = self.query_one("SELECT MAX(version) FROM schema_migrations")
        return int(row[0] or 0) if row else 0


def _is_lock_error(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text

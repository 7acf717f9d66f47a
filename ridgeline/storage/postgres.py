"""PostgreSQL backend: one database on a server that many agents share.

SQL arrives in the portable subset (`?` placeholders); `translate` turns it into
psycopg's `%s` style once per distinct statement. Migration DDL is rendered for the
`postgresql` dialect (BIGSERIAL keys, DOUBLE PRECISION floats, BYTEA).

Concurrency: every write transaction first takes one transaction-scoped advisory lock,
so writers run one after another exactly as SQLite's `BEGIN IMMEDIATE` makes them. The
ledger's read-then-write steps (create a version if missing, refuse a cycle of parents)
then see every earlier commit, with no serialization failures to retry. A writer that
waits longer than `lock_timeout` is retried a bounded number of times, then reported.
Migrations take a second advisory lock, so two processes opening a new database at once
do not both create the tables.

Durability: the server's `synchronous_commit` (on by default) makes a commit wait for
the write-ahead log to reach its disk before the call returns.

Artifacts: a server has no folder beside it, so artifact files live in RIDGELINE_ARTIFACTS
when it is set, else in `$XDG_DATA_HOME/ridgeline/artifacts/<host>-<port>-<database>`
(`~/.local/share/...` when XDG_DATA_HOME is unset).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ridgeline.errors import StorageError
from ridgeline.storage import migrations
from ridgeline.storage.base import Cursor, Params, Row, Storage

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql as pg_sql
    from psycopg.adapt import Loader
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise StorageError(
        "a postgresql:// ledger needs psycopg 3; install it with: "
        "pip install 'ridgeline[postgres]'"
    ) from missing

logger = logging.getLogger(__name__)

ARTIFACTS_VARIABLE = "RIDGELINE_ARTIFACTS"
LOCK_TIMEOUT_MS = 10_000
LOCK_RETRIES = 5
CONNECT_TIMEOUT_S = 10

# Advisory lock keys (any 64-bit numbers, fixed so every ridgeline process agrees).
_WRITE_LOCK = 0x5249_4447_0001
_MIGRATION_LOCK = 0x5249_4447_0002

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=1024)
def translate(statement: str) -> str:
    """Portable SQL to psycopg's style: `?` outside quotes becomes `%s`, `%` becomes `%%`.

    psycopg scans the whole statement for `%` placeholders, string literals included, so
    every literal percent sign must be doubled; a `?` inside a literal stays a `?`.
    """
    out: list[str] = []
    quote: str | None = None
    for char in statement:
        if char == "%":
            out.append("%%")
            continue
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append(char)
    return "".join(out)


class _AggregateLoader(Loader):
    """NUMERIC results (SUM and AVG over integers) as int or float, as SQLite gives them.

    The schema has no NUMERIC column, so such values only come from aggregates; loading
    them as Decimal would make the two backends answer the same query in different types.
    """

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        if text.lstrip("-").isdigit():
            return int(text)
        return float(text)


class _PostgresCursor(Cursor):
    def __init__(self, cursor: psycopg.Cursor, location: str) -> None:
        self._cursor = cursor
        self._location = location

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            self._cursor.execute(translate(sql), tuple(params))
            return self._cursor.fetchall() if self._cursor.description else []
        except psycopg.Error as error:
            raise _storage_error(self._location, error) from error

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        try:
            self._cursor.executemany(translate(sql), [tuple(row) for row in rows])
        except psycopg.Error as error:
            raise _storage_error(self._location, error) from error


class PostgresStorage(Storage):
    """A ledger in one PostgreSQL database.

    Args:
        url: a `postgresql://user[:password]@host[:port]/database` URL.
        artifact_dir: where artifacts live; by default RIDGELINE_ARTIFACTS or a folder
            under the user's data directory named for the server and database.
    """

    dialect = "postgresql"

    def __init__(self, url: str, artifact_dir: Path | None = None) -> None:
        self.url = url
        self.location = redact_url(url)
        self.artifact_dir = artifact_dir or default_artifact_dir(url)
        self._lock = threading.RLock()
        self._connection: psycopg.Connection | None = self._connect()
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        try:
            connection = psycopg.connect(
                self.url,
                autocommit=True,  # transactions are opened explicitly with transaction()
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="ridgeline",
            )
        except psycopg.Error as error:
            raise StorageError(
                f"{self.location}: cannot connect to PostgreSQL: {_first_line(error)}"
            ) from error
        connection.adapters.register_loader("numeric", _AggregateLoader)
        connection.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS:d}")
        return connection

    def _live_connection(self) -> psycopg.Connection:
        if self._connection is None:
            raise StorageError(f"{self.location}: the ledger is closed")
        return self._connection

    # -- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock, self._locked_transaction(_WRITE_LOCK) as cursor:
            yield cursor

    @contextlib.contextmanager
    def _locked_transaction(self, lock_key: int) -> Iterator[Cursor]:
        connection = self._live_connection()
        self._begin_locked(connection, lock_key)
        try:
            with connection.cursor() as cursor:
                yield _PostgresCursor(cursor, self.location)
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except psycopg.Error as error:
            with contextlib.suppress(psycopg.Error):
                connection.execute("ROLLBACK")
            raise _storage_error(self.location, error, "commit failed") from error

    def _begin_locked(self, connection: psycopg.Connection, lock_key: int) -> None:
        # The lock is taken before the caller's block runs, so a busy lock can be retried
        # without replaying any of the caller's statements.
        for attempt in range(LOCK_RETRIES):
            try:
                # One round trip for both: without parameters psycopg sends the two
                # statements as one simple query. The key is one of the integers above.
                connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock({lock_key:d})")
                return
            except pg_errors.LockNotAvailable:
                connection.execute("ROLLBACK")
                logger.info("%s: write lock busy (attempt %d)", self.location, attempt + 1)
            except psycopg.Error as error:
                with contextlib.suppress(psycopg.Error):
                    connection.execute("ROLLBACK")
                raise _storage_error(self.location, error, "cannot start a write") from error
        raise StorageError(
            f"{self.location}: the ledger stayed locked by another writer for "
            f"{LOCK_RETRIES * LOCK_TIMEOUT_MS // 1000} s; nothing was written, try again"
        )

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._lock:
            connection = self._live_connection()
            try:
                with connection.cursor() as cursor:
                    cursor.execute(translate(sql), tuple(params))
                    return cursor.fetchall() if cursor.description else []
            except psycopg.Error as error:
                raise _storage_error(self.location, error, "query failed") from error

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- checks -----------------------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """Unvalidated constraints and rows whose foreign key points at nothing.

        PostgreSQL enforces its constraints itself, so this finds damage done around it
        (a constraint added NOT VALID, a restore with triggers off).
        """
        problems = [
            f"constraint {name} on {table} is not validated"
            for name, table in self.query(
                "SELECT c.conname, t.relname FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = current_schema() AND NOT c.convalidated"
            )
        ]
        for child, column, parent, parent_column in self._foreign_keys():
            orphans = self._count_orphans(child, column, parent, parent_column)
            if orphans:
                problems.append(
                    f"foreign key: {orphans} row(s) of {child}.{column} name a missing "
                    f"{parent}.{parent_column}"
                )
        return problems

    def _foreign_keys(self) -> list[Row]:
        return self.query(
            "SELECT kcu.table_name, kcu.column_name, ccu.table_name, ccu.column_name "
            "FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu "
            "  ON kcu.constraint_name = tc.constraint_name "
            "  AND kcu.constraint_schema = tc.constraint_schema "
            "JOIN information_schema.constraint_column_usage ccu "
            "  ON ccu.constraint_name = tc.constraint_name "
            "  AND ccu.constraint_schema = tc.constraint_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' "
            "AND tc.constraint_schema = current_schema() ORDER BY 1, 2"
        )

    def _count_orphans(self, child: str, column: str, parent: str, parent_column: str) -> int:
        statement = pg_sql.SQL(
            "SELECT COUNT(*) FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM {parent} p WHERE p.{parent_column} = c.{column})"
        ).format(
            child=pg_sql.Identifier(child),
            column=pg_sql.Identifier(column),
            parent=pg_sql.Identifier(parent),
            parent_column=pg_sql.Identifier(parent_column),
        )
        with self._lock:
            connection = self._live_connection()
            return connection.execute(statement).fetchone()[0]

    def restart_sequences(self) -> None:
        """Point every id sequence past the largest id, after rows were copied in with ids."""
        tables = self.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'"
        )
        with self.transaction() as cursor:
            for table, column in tables:
                if not (_IDENTIFIER.fullmatch(table) and _IDENTIFIER.fullmatch(column)):
                    raise StorageError(f"{self.location}: unexpected table name {table!r}")
                # Identifiers come from the catalog and were checked above.
                cursor.execute(
                    f'SELECT setval(pg_get_serial_sequence(?, ?), '
                    f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)',
                    (table, column),
                )

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock, self._locked_transaction(_MIGRATION_LOCK) as cursor:
            self._apply_migrations(cursor)

    def _apply_migrations(self, cursor: Cursor) -> None:
        for name in migrations.apply_pending(cursor, self.dialect, self.location):
            logger.info("%s: applied migration %s", self.location, name)

    def schema_version(self) -> int:
        row = self.query_one("SELECT MAX(version) FROM schema_migrations")
        return int(row[0] or 0) if row else 0


def redact_url(url: str) -> str:
    """The URL without its password, for messages and `Ledger.location`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def default_artifact_dir(url: str) -> Path:
    """RIDGELINE_ARTIFACTS, else a folder under the user's data directory for this database."""
    configured = os.environ.get(ARTIFACTS_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or parts.username or "postgres"
    name = f"{parts.hostname or 'local'}-{parts.port or 5432}-{database}"
    return Path(data_home) / "ridgeline" / "artifacts" / re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _storage_error(location: str, error: psycopg.Error, what: str = "") -> StorageError:
    prefix = f"{location}: {what}: " if what else f"{location}: "
    return StorageError(prefix + _first_line(error))

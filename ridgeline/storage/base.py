"""The storage boundary: the only place that talks to a database driver.

A `Storage` hands out transactions and read queries over SQL written once, in the subset
that SQLite and PostgreSQL share: `?` placeholders, `RETURNING`, `ON CONFLICT ... DO
NOTHING`. A backend translates what differs (placeholders, column types in DDL, locking),
so that everything above this package is the same for both.

Promises every backend keeps:

- `transaction()` is atomic and durable: when the `with` block exits without an exception
  the data is on disk (or acknowledged by the server), and when it raises nothing is kept.
- Writers serialize: two processes writing at once both succeed, one after the other,
  or the loser gets a `StorageError` after a bounded wait; neither is silently dropped.
- One `Storage` object may be shared by threads; it serializes their use of its connection.
  It must not be shared across a `fork()`.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Params = Sequence[Any]
Row = tuple[Any, ...]


class Cursor(abc.ABC):
    """What a transaction block may do: run statements and read their rows."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement and return all rows it produced (empty for most writes)."""

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement once per parameter row."""

    def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None


class Storage(abc.ABC):
    """A ledger database. Subclasses: `SQLiteStorage`, `PostgresStorage`."""

    #: "sqlite" or "postgresql"; migrations render their DDL for it.
    dialect: str

    #: Where the ledger keeps artifact files (logs, profiles). Paths stored in the ledger are
    #: relative to it and may not leave it.
    artifact_dir: Path

    #: How a user would name this ledger again (a file path or a URL without password).
    location: str

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """A write transaction, committed durably on a clean exit, rolled back otherwise."""

    @abc.abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """A read outside any write transaction, seeing every committed write."""

    def query_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @abc.abstractmethod
    def integrity_check(self) -> list[str]:
        """Problems the database finds in itself; empty when it is sound."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection. Safe to call twice."""

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def iterate_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Slices of at most `size` items, for statements with a bounded number of parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

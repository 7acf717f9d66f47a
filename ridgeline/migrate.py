"""Copy a whole ledger from one backend to another (SQLite to PostgreSQL and back).

The copy is row for row: every table with its ids, keys and history, so runs keep their
numbers and lessons keep the runs they point at. Both ledgers are opened by this ridgeline
first, which brings each to the newest schema; the tables then match column for column.
Tables are filled parents first (in the order their foreign keys require), inside one
destination transaction, so an interrupted copy leaves the destination as it was.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from ridgeline.errors import ConflictError, StorageError
from ridgeline.storage import Cursor, Storage
from ridgeline.storage.base import Row

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_BATCH = 1000

#: Tables the copy leaves alone: each ledger keeps its own migration history.
_SKIPPED = frozenset({"schema_migrations"})


@dataclass(frozen=True)
class CopyReport:
    """What a copy moved: rows per table, in the order the tables were filled."""

    rows: dict[str, int]
    artifacts: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def table_names(storage: Storage) -> list[str]:
    """The ledger's tables (schema_migrations left out), in the order they can be filled."""
    names = [name for name in _all_tables(storage) if name not in _SKIPPED]
    graph = {name: set(_referenced_tables(storage, name)) - {name} for name in names}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise StorageError(f"{storage.location}: tables reference each other in a cycle") from error


def column_names(storage: Storage, table: str) -> list[str]:
    """A table's columns in declaration order."""
    table = _checked(table)
    if storage.dialect == "sqlite":
        rows = storage.query(f'PRAGMA table_info("{table}")')
        return [row[1] for row in rows]
    rows = storage.query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [row[0] for row in rows]


def dump(storage: Storage) -> dict[str, list[Row]]:
    """Every row of every table, sorted, for comparing two ledgers."""
    dumped = {}
    for table in sorted(table_names(storage)):
        columns = ", ".join(f'"{c}"' for c in column_names(storage, table))
        rows = storage.query(f'SELECT {columns} FROM "{table}"')
        dumped[table] = sorted(rows, key=_sort_key)
    return dumped


def copy_ledger(source: Storage, destination: Storage, *, replace: bool = False) -> CopyReport:
    """Copy every row (and every artifact file) of `source` into `destination`.

    Args:
        source: the ledger to read; it is not changed.
        destination: the ledger to fill; it must be empty unless `replace` is true.
        replace: delete everything in `destination` first.

    Returns:
        A `CopyReport` with the number of rows copied per table.

    Raises:
        ConflictError: `destination` already holds rows and `replace` is false.
        StorageError: the two ledgers' schemas differ, or a write failed.
    """
    tables = table_names(source)
    _check_same_schema(source, destination, tables)
    counts: dict[str, int] = {}
    with destination.transaction() as cursor:
        _make_room(destination, cursor, tables, replace)
        for table in tables:
            counts[table] = _copy_table(source, cursor, table)
    if destination.dialect == "postgresql":
        destination.restart_sequences()  # type: ignore[attr-defined]
    artifacts = _copy_artifacts(source, destination)
    logger.info("copied %d rows from %s to %s", sum(counts.values()), source.location,
                destination.location)
    return CopyReport(counts, artifacts)


def _all_tables(storage: Storage) -> list[str]:
    if storage.dialect == "sqlite":
        # Ordinary tables only: full-text indexes (virtual tables and their shadow
        # tables) are rebuilt by triggers as the rows they index are copied.
        rows = [
            (name,)
            for schema, name, kind, *_ in storage.query("PRAGMA table_list")
            if schema == "main" and kind == "table" and not name.startswith("sqlite_")
        ]
    else:
        rows = storage.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(_checked(row[0]) for row in rows)


def _referenced_tables(storage: Storage, table: str) -> list[str]:
    if storage.dialect == "sqlite":
        return [row[2] for row in storage.query(f'PRAGMA foreign_key_list("{table}")')]
    rows = storage.query(
        "SELECT ccu.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "ON ccu.constraint_name = tc.constraint_name "
        "AND ccu.constraint_schema = tc.constraint_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() "
        "AND tc.table_name = ?",
        (table,),
    )
    return [row[0] for row in rows]


def _check_same_schema(source: Storage, destination: Storage, tables: list[str]) -> None:
    theirs_tables = set(_all_tables(destination)) - _SKIPPED
    if theirs_tables != set(tables):
        raise StorageError(
            f"{destination.location} has tables {sorted(theirs_tables)}, but "
            f"{source.location} has {sorted(tables)}; open both with the same ridgeline first"
        )
    for table in tables:
        theirs = column_names(destination, table)
        ours = column_names(source, table)
        if theirs != ours:
            raise StorageError(
                f"{destination.location}: table {table} has columns {theirs}, but "
                f"{source.location} has {ours}; open both with the same ridgeline first"
            )


def _make_room(storage: Storage, cursor: Cursor, tables: list[str], replace: bool) -> None:
    filled = [t for t in tables if cursor.execute(f'SELECT 1 FROM "{t}" LIMIT 1')]
    if filled and not replace:
        raise ConflictError(
            f"{storage.location} is not empty (it has rows in {', '.join(filled)}); "
            "copy into an empty ledger, or pass --replace to delete what it holds"
        )
    # Children first, so no foreign key points at a deleted row.
    for table in reversed(tables):
        cursor.execute(f'DELETE FROM "{table}"')


def _copy_table(source: Storage, cursor: Cursor, table: str) -> int:
    columns = column_names(source, table)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    rows = source.query(f'SELECT {names} FROM "{table}" ORDER BY 1')
    for start in range(0, len(rows), _BATCH):
        cursor.executemany(insert, rows[start : start + _BATCH])
    return len(rows)


def _copy_artifacts(source: Storage, destination: Storage) -> int:
    origin = source.artifact_dir
    if not origin.is_dir() or origin.resolve() == destination.artifact_dir.resolve():
        return 0
    files = [path for path in origin.rglob("*") if path.is_file() and not path.is_symlink()]
    shutil.copytree(origin, destination.artifact_dir, dirs_exist_ok=True, symlinks=True)
    return len(files)


def _checked(name: str) -> str:
    # Table names reach SQL as identifiers; only plain lower-case names are accepted.
    if not _IDENTIFIER.fullmatch(name):
        raise StorageError(f"unexpected table or column name {name!r}")
    return name


def _sort_key(row: Row) -> tuple:
    return tuple((value is None, type(value).__name__, value) for value in row)

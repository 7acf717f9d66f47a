"""Schema migrations, numbered and applied once each, in order.

Each migration is a function `mNNN_what(dialect) -> list[str]` returning DDL statements;
its number is the NNN in its name (numbers must grow, gaps are allowed).
DDL is written once with three placeholders that differ between SQLite and PostgreSQL:
`{pk}` (an auto-numbered integer primary key), `{float}` (a 64-bit float: PostgreSQL's
REAL is only 32 bits) and `{blob}`. The table `schema_migrations` records what was applied,
so a ledger written by an older ridgeline is brought forward on open, and one written by a
newer ridgeline is refused with the version that wrote it.

Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ridgeline.errors import SchemaVersionError

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY", "float": "REAL", "blob": "BLOB"},
    "postgresql": {"pk": "BIGSERIAL PRIMARY KEY", "float": "DOUBLE PRECISION", "blob": "BYTEA"},
}


def render(ddl: str, dialect: str) -> str:
    return ddl.format(**_TYPES[dialect])


def m001_core(dialect: str) -> list[str]:
    """Objectives, regimes, versions with parents, runs with metrics, memory, events."""
    statements = [
        """CREATE TABLE objectives (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            direction TEXT NOT NULL CHECK (direction IN ('max', 'min')),
            unit TEXT,
            baseline {float},
            ideal {float},
            created_at {float} NOT NULL
        )""",
        """CREATE TABLE regimes (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            description TEXT,
            created_at {float} NOT NULL
        )""",
        """CREATE TABLE versions (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            regime_id BIGINT REFERENCES regimes (id),
            commit_sha TEXT,
            status TEXT NOT NULL DEFAULT 'exploring'
                CHECK (status IN ('committed', 'failed', 'exploring')),
            description TEXT,
            created_at {float} NOT NULL
        )""",
        """CREATE TABLE version_parents (
            version_id BIGINT NOT NULL REFERENCES versions (id),
            parent_id BIGINT NOT NULL REFERENCES versions (id),
            position INTEGER NOT NULL,
            PRIMARY KEY (version_id, parent_id)
        )""",
        """CREATE TABLE runs (
            id {pk},
            key TEXT NOT NULL UNIQUE,
            at {float} NOT NULL,
            version_id BIGINT REFERENCES versions (id),
            intent TEXT NOT NULL CHECK (intent IN ('attempt', 'validation', 'debug')),
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'crash')),
            reason TEXT,
            commit_sha TEXT,
            dirty INTEGER,
            diff_hash TEXT,
            tool_calls BIGINT,
            duration {float},
            command TEXT,
            exit_status INTEGER,
            description TEXT,
            source TEXT,
            source_line INTEGER,
            agent TEXT,
            session TEXT,
            created_at {float} NOT NULL
        )""",
        "CREATE INDEX runs_at ON runs (at, id)",
        "CREATE INDEX runs_version ON runs (version_id)",
        "CREATE INDEX runs_source ON runs (source, source_line)",
        """CREATE TABLE run_metrics (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            name TEXT NOT NULL,
            value {float},
            PRIMARY KEY (run_id, name)
        )""",
        """CREATE TABLE run_artifacts (
            run_id BIGINT NOT NULL REFERENCES runs (id),
            path TEXT NOT NULL,
            PRIMARY KEY (run_id, path)
        )""",
        """CREATE TABLE memory_items (
            id {pk},
            kind TEXT NOT NULL CHECK (kind IN ('lesson', 'note')),
            text TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT 'ledger',
            run_id BIGINT REFERENCES runs (id),
            seen INTEGER NOT NULL DEFAULT 1,
            created_at {float} NOT NULL,
            updated_at {float} NOT NULL,
            deleted_at {float},
            key TEXT UNIQUE
        )""",
        "CREATE INDEX memory_items_kind ON memory_items (kind, created_at)",
        """CREATE TABLE memory_tags (
            item_id BIGINT NOT NULL REFERENCES memory_items (id),
            tag TEXT NOT NULL,
            PRIMARY KEY (item_id, tag)
        )""",
        """CREATE TABLE memory_history (
            id {pk},
            item_id BIGINT NOT NULL REFERENCES memory_items (id),
            at {float} NOT NULL,
            action TEXT NOT NULL,
            text TEXT,
            tags TEXT,
            run_id BIGINT
        )""",
        "CREATE INDEX memory_history_item ON memory_history (item_id, id)",
        """CREATE TABLE events (
            id {pk},
            at {float} NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            key TEXT UNIQUE
        )""",
        "CREATE INDEX events_kind ON events (kind, at)",
        """CREATE TABLE settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    ]
    return [render(statement, dialect) for statement in statements]


def m002_memory_search(dialect: str) -> list[str]:
    """Full-text search over memory items and run descriptions, and stored embeddings.

    SQLite keeps two external-content FTS5 tables in step with their source tables
    through triggers (Porter stemming, accents folded); PostgreSQL needs no copy and
    searches GIN expression indexes over `to_tsvector('english', ...)`, which queries must
    repeat word for word to use them.
    """
    statements = [
        "CREATE INDEX memory_items_updated ON memory_items (updated_at)",
        "CREATE INDEX memory_items_scope ON memory_items (scope, kind)",
        """CREATE TABLE memory_vectors (
            source TEXT NOT NULL CHECK (source IN ('memory', 'run')),
            ref_id BIGINT NOT NULL,
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector {blob} NOT NULL,
            PRIMARY KEY (source, ref_id, model)
        )""",
    ]
    if dialect == "postgresql":
        statements += [
            "CREATE INDEX memory_items_fts ON memory_items "
            "USING GIN (to_tsvector('english', text))",
            "CREATE INDEX runs_description_fts ON runs "
            "USING GIN (to_tsvector('english', coalesce(description, '')))",
        ]
        return [render(statement, dialect) for statement in statements]
    return [render(statement, dialect) for statement in statements] + _sqlite_fts_tables()


def _sqlite_fts_tables() -> list[str]:
    # Not rendered: the trigger bodies hold no placeholders, and FTS5 DDL is SQLite's own.
    tokenize = "tokenize = 'porter unicode61 remove_diacritics 2'"
    statements = []
    for fts, table, column in (("memory_fts", "memory_items", "text"),
                               ("run_fts", "runs", "description")):
        statements += [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content = '{table}', "
            f"content_rowid = 'id', {tokenize})",
            # External content: FTS5 must be told the old text to remove it.
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts} (rowid, {column}) VALUES (new.id, new.{column}); END",
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts} ({fts}, rowid, {column}) "
            f"VALUES ('delete', old.id, old.{column}); END",
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} BEGIN "
            f"INSERT INTO {fts} ({fts}, rowid, {column}) "
            f"VALUES ('delete', old.id, old.{column}); "
            f"INSERT INTO {fts} (rowid, {column}) VALUES (new.id, new.{column}); END",
            f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
        ]
    return statements


def m004_summary_indexes(dialect: str) -> list[str]:
    """Indexes that let the brief read a 100,000-run ledger with aggregates, not scans."""
    statements = [
        # The best value of one metric: walk this index from its top and stop at once.
        "CREATE INDEX run_metrics_name_value ON run_metrics (name, value)",
        # The newest crashes and validation runs, without reading every run.
        "CREATE INDEX runs_outcome_at ON runs (outcome, at, id)",
        "CREATE INDEX runs_intent_at ON runs (intent, at, id)",
        "CREATE INDEX runs_tool_calls ON runs (tool_calls)",
    ]
    return [render(statement, dialect) for statement in statements]


#: Every migration, in order of number.
def m008_parent_index(dialect: str) -> list[str]:
    """Children by parent, for the loop check that runs whenever parents are set."""
    return ["CREATE INDEX version_parents_parent ON version_parents (parent_id)"]


MIGRATIONS: list[Callable[[str], list[str]]] = [
    m001_core,
    m002_memory_search,
    m004_summary_indexes,
    m008_parent_index,
]


def number(migration: Callable[[str], list[str]]) -> int:
    """The NNN of a migration named `mNNN_what`."""
    return int(migration.__name__[1:4])


LATEST = max(number(m) for m in MIGRATIONS)


def apply_pending(cursor: Any, dialect: str, location: str) -> list[str]:
    """Bring a ledger's schema up to date inside the caller's transaction.

    Args:
        cursor: a `Cursor` of an open write transaction; the caller holds whatever lock
            keeps two processes from migrating at once.
        dialect: "sqlite" or "postgresql".
        location: how to name the ledger in an error.

    Returns:
        The names of the migrations applied now.

    Raises:
        SchemaVersionError: the ledger was written by a newer ridgeline.
    """
    cursor.execute(render(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {float} NOT NULL)",
        dialect,
    ))
    applied = {row[0] for row in cursor.execute("SELECT version FROM schema_migrations")}
    newest = max(applied, default=0)
    if newest > LATEST:
        raise SchemaVersionError(
            f"{location}: this ledger has schema version {newest}, written by a newer "
            f"ridgeline; this one knows up to {LATEST}. "
            "Upgrade with: pip install --upgrade ridgeline"
        )
    done = []
    for migration in MIGRATIONS:
        if number(migration) in applied:
            continue
        for statement in migration(dialect):
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (number(migration), migration.__name__, time.time()),
        )
        done.append(migration.__name__)
    return done


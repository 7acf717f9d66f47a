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

from collections.abc import Callable

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


#: Every migration, in order of number.
MIGRATIONS: list[Callable[[str], list[str]]] = [
    m001_core,
]


def number(migration: Callable[[str], list[str]]) -> int:
    """The NNN of a migration named `mNNN_what`."""
    return int(migration.__name__[1:4])


LATEST = max(number(m) for m in MIGRATIONS)

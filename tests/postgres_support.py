"""Temporary PostgreSQL databases for tests (one per test, dropped afterwards).

`RIDGELINE_TEST_POSTGRES_URL` names a server and a database to connect to for
administration (`.ci/run` starts a throwaway cluster and sets it); each test gets a new
database on that server, created empty and dropped when the test ends.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def database_url(base_url: str, name: str) -> str:
    """`base_url` with its database replaced by `name`."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextlib.contextmanager
def temporary_database(base_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the server of `base_url`, yield its URL, then drop it."""
    psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg 3")
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"not a plain database name: {name!r}")

    # CREATE and DROP DATABASE cannot run inside a transaction, hence autocommit.
    try:
        admin = psycopg.connect(base_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(f"cannot reach the PostgreSQL server of RIDGELINE_TEST_POSTGRES_URL: {error}")
    with admin:
        # The name was checked against a plain-identifier pattern above.
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(base_url, name)
        finally:
            # FORCE ends connections a test left open (a killed writer's, say).
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Temporary PostgreSQL databases for tests (one per test, dropped afterwards)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def temporary_database(base_url: str, name: str) -> Iterator[str]:
    # Not yet: the PostgreSQL backend; until it lands these tests skip.
    import pytest

    pytest.skip("the PostgreSQL backend is not built yet")
    yield base_url

"""Fixtures shared by the whole suite.

Every test that touches a ledger takes `db_location` (a string for `--db`) or `ledger`
(an open Ledger). Both are parametrized over the backends: SQLite always, PostgreSQL when
RIDGELINE_TEST_POSTGRES_URL names a server (`.ci/run` starts one), so one suite checks both.
Each test gets a fresh, empty ledger and its own HOME and working directory.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ridgeline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
POSTGRES_URL_VARIABLE = "RIDGELINE_TEST_POSTGRES_URL"

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and working directory, and no ledger inherited from the caller."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("RIDGELINE_DB", raising=False)
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data` beside the project; tests skip where a fresh clone has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real input files not found at {SHARED_DATA} (only present beside CI)")
    return SHARED_DATA


def _postgres_location(request: pytest.FixtureRequest) -> Iterator[str]:
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (set by .ci/run)")
    from tests.postgres_support import temporary_database

    with temporary_database(base_url, f"t_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger location for each backend: a file path or a URL."""
    if request.param == "postgresql":
        yield from _postgres_location(request)
    else:
        yield str(tmp_path / "ledger.db")


@pytest.fixture
def sqlite_location(tmp_path: Path) -> str:
    """A fresh SQLite ledger file, for tests about SQLite itself."""
    return str(tmp_path / "ledger.db")


@pytest.fixture
def ledger(db_location: str) -> Iterator[ridgeline.Ledger]:
    with ridgeline.open(db_location) as opened:
        yield opened


@pytest.fixture
def ridgeline_bin() -> str:
    """The installed console script, so CLI tests run what a user runs."""
    # `.venv/bin/python -m pytest` does not put the venv's bin on PATH; look there first.
    beside = Path(sys.executable).parent / "ridgeline"
    found = str(beside) if beside.is_file() else shutil.which("ridgeline")
    if found is None:
        pytest.fail("the ridgeline console script is not on PATH; install with pip install -e .")
    return found

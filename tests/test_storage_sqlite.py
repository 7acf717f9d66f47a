"""The SQLite backend and where the default ledger lives."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import ridgeline
from ridgeline.errors import SchemaVersionError, StorageError
from ridgeline.location import default_location, resolve_location
from ridgeline.storage import migrations


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_sqlite_ledger_uses_wal_full_sync_and_foreign_keys(sqlite_location):
    with ridgeline.open(sqlite_location) as ledger:
        connection = ledger.storage._connection
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_newer_schema_is_refused_with_upgrade_advice(sqlite_location):
    ridgeline.open(sqlite_location).close()
    with sqlite3.connect(sqlite_location) as connection:
        connection.execute(
            "INSERT INTO schema_migrations VALUES (?, 'm999_future', 0)", (999,)
        )

    with pytest.raises(SchemaVersionError, match="schema version 999.*pip install --upgrade"):
        ridgeline.open(sqlite_location)


def test_migrations_are_recorded_once(sqlite_location):
    ridgeline.open(sqlite_location).close()
    ridgeline.open(sqlite_location).close()

    with sqlite3.connect(sqlite_location) as connection:
        applied = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    assert applied == [migrations.number(m) for m in migrations.MIGRATIONS]


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not sqlite\n" * 100)

    with pytest.raises(StorageError, match="notes.txt"):
        ridgeline.open(str(bogus))
    assert bogus.read_text().startswith("this is not sqlite")


def test_default_ledger_lives_in_the_git_directory_and_survives_clean(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    location = default_location(repo)

    assert Path(location) == repo / ".git" / "ridgeline" / "ledger.db"
    with ridgeline.open(location) as ledger:
        ledger.record(version="a", metrics={"x": 1})
    git("clean", "-fdxq", cwd=repo)
    with ridgeline.open(default_location(repo)) as ledger:
        assert ledger.count_runs() == 1


def test_worktrees_share_the_ledger_of_their_repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
        "-m", "start", cwd=repo)
    git("worktree", "add", "-q", str(tmp_path / "other"), cwd=repo)

    from_worktree = default_location(tmp_path / "other" )

    assert Path(from_worktree).resolve() == (repo / ".git" / "ridgeline" / "ledger.db").resolve()


def test_outside_a_repository_the_ledger_is_in_the_working_directory(tmp_path):
    assert default_location(tmp_path) == str(tmp_path / "ridgeline.db")


def test_explicit_location_beats_the_environment(monkeypatch):
    monkeypatch.setenv("RIDGELINE_DB", "/from/env.db")

    assert resolve_location("/explicit.db") == "/explicit.db"
    assert resolve_location(None) == "/from/env.db"

"""The PostgreSQL backend, and copying ledgers between backends (`ridgeline migrate`)."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator

import pytest

import ridgeline
from ridgeline import migrate
from ridgeline.errors import ConflictError, SchemaVersionError, StorageError
from tests.conftest import POSTGRES_URL_VARIABLE

pytest.importorskip("psycopg", reason="the PostgreSQL backend needs psycopg 3")

from ridgeline.storage import postgres  # noqa: E402 - only importable with psycopg

# -- without a server ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ("SELECT * FROM runs WHERE id = ?", "SELECT * FROM runs WHERE id = %s"),
        ("SELECT '?' , ? FROM t", "SELECT '?' , %s FROM t"),
        ("SELECT \"a?\" FROM t WHERE x LIKE 'p%' AND y = ?",
         "SELECT \"a?\" FROM t WHERE x LIKE 'p%%' AND y = %s"),
        ("SELECT 'it''s ?' WHERE z = ?", "SELECT 'it''s ?' WHERE z = %s"),
    ],
)
def test_translate_turns_only_bare_question_marks_into_placeholders(portable, expected):
    assert postgres.translate(portable) == expected


def test_location_never_shows_the_password():
    url = "postgresql://team:s3cret@db.internal:6543/ledger"

    assert postgres.redact_url(url) == "postgresql://team@db.internal:6543/ledger"
    assert postgres.redact_url("postgresql://team@h/ledger") == "postgresql://team@h/ledger"


def test_artifacts_go_to_the_variable_or_the_user_data_folder(monkeypatch, tmp_path):
    url = "postgresql://team@db.internal:6543/ledger"
    monkeypatch.delenv("RIDGELINE_ARTIFACTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    default = postgres.default_artifact_dir(url)
    monkeypatch.setenv("RIDGELINE_ARTIFACTS", str(tmp_path / "shared-artifacts"))

    assert default == tmp_path / "data" / "ridgeline" / "artifacts" / "db.internal-6543-ledger"
    assert postgres.default_artifact_dir(url) == tmp_path / "shared-artifacts"


def test_unreachable_server_is_a_storage_error_naming_it():
    with socket.socket() as probe:  # a local port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(StorageError, match=f"127.0.0.1:{port}/nothing: cannot connect"):
        ridgeline.open(f"postgresql://nobody:pw@127.0.0.1:{port}/nothing")


# -- on both backends ------------------------------------------------------------------


def test_newer_schema_is_refused_with_the_version_that_wrote_it(db_location):
    with ridgeline.open(db_location) as ledger, ledger.storage.transaction() as cursor:
        cursor.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (999, "m999_future", 0.0),
        )

    with pytest.raises(SchemaVersionError, match="schema version 999.*pip install --upgrade"):
        ridgeline.open(db_location)


def test_a_block_that_raises_keeps_none_of_its_writes(ledger):
    ledger.record(version="a", metrics={"x": 1.0})

    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.record(version="b", metrics={"x": 2.0})
        ledger.add_note("written inside the failed block")
        raise RuntimeError("stop")

    assert [run.version for run in ledger.runs()] == ["a"]
    assert ledger.notes() == []
    assert [v.name for v in ledger.versions()] == ["a"]


def test_aggregates_come_back_as_plain_numbers(ledger):
    for value in (1, 2, 4):
        ledger.record(version="a", metrics={"x": value}, tool_calls=value)

    total, mean = ledger.storage.query_one("SELECT SUM(tool_calls), AVG(tool_calls) FROM runs")

    assert (total, type(total)) == (7, int)
    assert mean == pytest.approx(7 / 3) and isinstance(mean, float)


def test_fresh_ledger_passes_its_integrity_check(ledger):
    ledger.record(version="a", metrics={"x": 1.0}, artifacts=["log.txt"])

    assert ledger.storage.integrity_check() == []


# -- PostgreSQL only -------------------------------------------------------------------


@pytest.fixture
def postgres_location() -> Iterator[str]:
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (set by .ci/run)")
    from tests.postgres_support import temporary_database

    with temporary_database(base_url, f"t_{uuid.uuid4().hex[:12]}") as url:
        yield url


def _open_and_record(url: str, index: int) -> int:
    with ridgeline.open(url) as ledger:
        return ledger.record(version=f"v{index}", metrics={"x": float(index)}).id


def test_processes_opening_a_new_database_at_once_migrate_it_once(postgres_location):
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        ids = pool.starmap(_open_and_record, [(postgres_location, i) for i in range(4)])

    with ridgeline.open(postgres_location) as ledger:
        applied = ledger.storage.query("SELECT version FROM schema_migrations ORDER BY version")
        assert sorted(ids) == [1, 2, 3, 4]
        assert len(applied) == len({row[0] for row in applied})
        assert ledger.count_runs() == 4


def test_integrity_check_finds_a_row_pointing_at_nothing(postgres_location):
    with ridgeline.open(postgres_location) as ledger:
        ledger.record(version="a", metrics={"x": 1.0})
        with ledger.storage.transaction() as cursor:
            # Triggers off (as a careless restore would) lets a dangling key in.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("INSERT INTO run_metrics (run_id, name, value) VALUES (?, ?, ?)",
                           (4242, "x", 1.0))

        problems = ledger.storage.integrity_check()

    assert problems == [
        "foreign key: 1 row(s) of run_metrics.run_id name a missing runs.id"
    ]


# -- migrate ---------------------------------------------------------------------------


def _fill(ledger: ridgeline.Ledger) -> None:
    """A small ledger that touches every table the core schema has."""
    ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)
    ledger.add_objective("watts", "min")
    ledger.set_regime("simd", "vectorized inner loops")
    ledger.set_version("v2", parents=["v1", "v0"], regime="simd", status="committed",
                       commit="3f2a9c1", description="fused")
    first = ledger.record(version="v1", metrics={"tok_per_sec": 43.25, "watts": 210.0},
                          at="2026-04-20T05:30:00Z", tool_calls=12, key="k-1",
                          artifacts=["logs/v1.txt"], description="first try")
    ledger.record(version="v2", outcome="crash", reason="NaN in attention", key="k-2")
    ledger.record(version="v2", metrics={"tok_per_sec": 0.1 + 0.2, "watts": None},
                  intent="validation", dirty=True, duration=1.5e-7, command="make bench")
    ledger.add_lesson("check the scale before fusing", run=first.id, tags=["attention"])
    ledger.add_note("profile: 60% in matmul", tags=["profile", "gpu"])
    ledger.add_event("compaction", {"tokens": 180_000}, key="c-1")
    ledger.set_setting("budget", {"hours": 8})


def test_migrate_round_trip_keeps_every_row_and_id(tmp_path, postgres_location):
    origin = ridgeline.open(tmp_path / "origin.db")
    _fill(origin)
    back = ridgeline.open(tmp_path / "back.db")

    with ridgeline.open(postgres_location) as server:
        origin.copy_into(server)
        on_server = migrate.dump(server.storage)
        server.copy_into(back)
        next_id = server.record(version="v3", metrics={"watts": 1.0}).id

    assert on_server == migrate.dump(origin.storage)
    assert migrate.dump(back.storage) == migrate.dump(origin.storage)
    assert next_id == origin.count_runs() + 1
    assert back.run(1).key == "k-1" and back.run(1).artifacts == ("logs/v1.txt",)
    origin.close()
    back.close()


def test_migrate_refuses_a_destination_with_rows_unless_told(tmp_path, db_location):
    origin = ridgeline.open(tmp_path / "origin.db")
    _fill(origin)
    with ridgeline.open(db_location) as target:
        target.record(version="stranger", metrics={"x": 1.0})

        with pytest.raises(ConflictError, match="not empty.*--replace"):
            origin.copy_into(target)
        assert [run.version for run in target.runs()] == ["stranger"]

        origin.copy_into(target, replace=True)
        assert migrate.dump(target.storage) == migrate.dump(origin.storage)
    origin.close()


def test_migrate_copies_artifact_files(tmp_path, db_location):
    origin = ridgeline.open(tmp_path / "origin.db")
    (origin.artifact_dir / "logs").mkdir(parents=True)
    (origin.artifact_dir / "logs" / "v1.txt").write_text("hello\n")
    origin.record(version="v1", metrics={"x": 1.0}, artifacts=["logs/v1.txt"])

    with ridgeline.open(db_location) as target:
        report = origin.copy_into(target)
        copied = target.artifact_dir / "logs" / "v1.txt"

        assert report.artifacts == 1
        assert copied.read_text() == "hello\n"
    origin.close()


def test_migrate_command_copies_and_reports_json(tmp_path, ridgeline_bin, db_location):
    origin = tmp_path / "origin.db"
    with ridgeline.open(origin) as ledger:
        _fill(ledger)

    done = subprocess.run(
        [ridgeline_bin, "migrate", "--from", str(origin), "--to", db_location, "--json"],
        capture_output=True, text=True, check=False,
    )
    again = subprocess.run(
        [ridgeline_bin, "migrate", "--from", str(origin), "--to", db_location],
        capture_output=True, text=True, check=False,
    )

    assert done.returncode == 0, done.stderr
    tables = {item["table"]: item["rows"] for item in json.loads(done.stdout)["tables"]}
    assert tables["runs"] == 3 and tables["version_parents"] == 2
    assert again.returncode == 1
    assert again.stderr.startswith("error: ") and "--replace" in again.stderr


def test_a_writer_kept_waiting_too_long_gets_a_storage_error(postgres_location, monkeypatch):
    import psycopg

    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_MS", 100)
    monkeypatch.setattr(postgres, "LOCK_RETRIES", 2)
    with ridgeline.open(postgres_location) as ledger, psycopg.connect(
        postgres_location, autocommit=True
    ) as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (postgres._WRITE_LOCK,))

        with pytest.raises(StorageError, match="stayed locked.*nothing was written"):
            ledger.record(version="v", metrics={"x": 1.0})
        holder.execute("ROLLBACK")
        ledger.record(version="v", metrics={"x": 2.0})

        assert [run.metrics["x"] for run in ledger.runs()] == [2.0]

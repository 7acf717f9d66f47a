"""Where `--db` points: mistakes are refused instead of creating an empty ledger."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(ridgeline_bin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ridgeline_bin, *args], capture_output=True, text=True, timeout=60)


def test_read_command_on_a_missing_ledger_is_refused(ridgeline_bin, tmp_path):
    missing = tmp_path / "typo.db"

    result = run(ridgeline_bin, "--db", str(missing), "runs")

    assert result.returncode == 1
    assert f"no ledger at {missing}" in result.stderr
    assert not missing.exists()


def test_write_into_a_missing_folder_is_refused_but_init_creates_it(ridgeline_bin, tmp_path):
    target = tmp_path / "new" / "ledger.db"

    refused = run(ridgeline_bin, "--db", str(target), "record", "--metric", "x=1")
    created = run(ridgeline_bin, "--db", str(target), "init")

    assert refused.returncode == 1 and "no folder" in refused.stderr
    assert created.returncode == 0 and Path(target).exists()


def test_unknown_url_scheme_is_refused(ridgeline_bin, tmp_path):
    result = run(ridgeline_bin, "--db", "mysql://localhost/x", "runs")

    assert result.returncode == 1
    assert "postgresql://" in result.stderr
    assert "Traceback" not in result.stderr


def test_infinite_metric_from_the_cli_is_one_line_error(ridgeline_bin, tmp_path):
    db = str(tmp_path / "l.db")

    result = run(ridgeline_bin, "--db", db, "record", "--version", "a", "--metric", "x=inf")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: field 'x': expected a finite number, got 'inf'; record a broken result as a crash"
    )


def test_migrate_from_a_mistyped_source_leaves_the_destination_alone(ridgeline_bin, tmp_path):
    target = str(tmp_path / "kept.db")
    run(ridgeline_bin, "--db", target, "record", "--version", "a", "--metric", "x=1")

    result = run(ridgeline_bin, "migrate", "--from", str(tmp_path / "tpyo.db"), "--to", target,
                  "--replace")

    assert result.returncode == 1 and "no ledger at" in result.stderr
    assert not (tmp_path / "tpyo.db").exists()
    listed = run(ridgeline_bin, "--db", target, "runs", "--json")
    assert len(__import__("json").loads(listed.stdout)) == 1


def test_empty_db_and_empty_version_are_refused(ridgeline_bin, tmp_path):
    empty_db = run(ridgeline_bin, "--db", "", "runs")
    empty_version = run(ridgeline_bin, "--db", str(tmp_path / "l.db"), "record",
                        "--version", "", "--metric", "x=1")

    assert empty_db.returncode == 1 and "field '--db'" in empty_db.stderr
    assert empty_version.returncode == 1 and "field '--version'" in empty_version.stderr

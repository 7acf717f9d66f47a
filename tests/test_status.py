"""`ridgeline status`: where the checkout stands, after a rollback especially."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ridgeline
from ridgeline import benchrun
from tests.drive_support import commit_variant, git, make_repo, set_control

# -S skips site-packages: the script needs only the standard library and starts 4x faster.
BENCH = [sys.executable, "-S", "bench.py"]


@pytest.fixture
def history(tmp_path: Path, ridgeline_bin: str, db_location: str,
            monkeypatch: pytest.MonkeyPatch):
    """v1 -> v2 (the best) -> v3 (slower, failed), each benchmarked on its own commit."""
    return build_history(tmp_path, ridgeline_bin, db_location, monkeypatch)


@pytest.fixture
def sqlite_history(tmp_path: Path, ridgeline_bin: str, sqlite_location: str,
                   monkeypatch: pytest.MonkeyPatch):
    """The same history on SQLite only, for tests about git rather than storage."""
    return build_history(tmp_path, ridgeline_bin, sqlite_location, monkeypatch)


def build_history(tmp_path, ridgeline_bin, db_location, monkeypatch):
    repo = make_repo(tmp_path / "repo", "v1")
    control = tmp_path / "control.json"
    monkeypatch.setenv("BENCH_CONTROL", str(control))
    commits = {}
    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("latency_ms", "min")
        for variant, centre in (("v1", 100.0), ("v2", 80.0), ("v3", 90.0)):
            if variant != "v1":
                commit_variant(repo, variant)
            commits[variant] = git(repo, "rev-parse", "HEAD")
            set_control(control, centre=centre, noise=0.0)
            benchrun.bench(ledger, BENCH, cwd=repo, version=variant)
        ledger.set_version("v3", status="failed")
    return repo, [ridgeline_bin, "--db", db_location], commits


def status(repo: Path, cli: list[str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli, "status", *extra], cwd=repo, capture_output=True, text=True)


def test_rollback_to_an_older_commit_is_named_with_the_best_version(history):
    repo, cli, commits = history
    git(repo, "reset", "--hard", "--quiet", commits["v1"])

    data = json.loads(status(repo, cli, "--json").stdout)

    assert data["head"] == commits["v1"] and data["version"] == "v1"
    assert data["rolled_back"] is True and data["superseded"] is True
    best = data["best"]["latency_ms"]
    assert best["version"] == "v2" and best["commit"] == commits["v2"]
    assert best["value"] == 80.0
    assert [c["version"] for c in data["tried_from_here"]] == ["v2"]


def test_rollback_text_says_superseded_and_lists_what_was_tried(history):
    repo, cli, commits = history
    git(repo, "reset", "--hard", "--quiet", commits["v2"])

    text = status(repo, cli).stdout

    # v2 is the best itself: not superseded, but v3 was already tried on top of it.
    assert f"HEAD {commits['v2'][:10]} is version v2" in text
    assert "superseded" not in text
    assert "v3: failed" in text and "latency_ms=90" in text

    git(repo, "reset", "--hard", "--quiet", commits["v1"])
    text = status(repo, cli).stdout
    assert f"superseded on latency_ms: the best is v2 (80, commit {commits['v2'][:10]})" in text
    assert "reset to an older commit" in text


def test_head_at_the_newest_commit_is_not_a_rollback(sqlite_history):
    repo, cli, commits = sqlite_history

    data = json.loads(status(repo, cli, "--json").stdout)

    assert data["version"] == "v3" and data["rolled_back"] is False
    assert data["superseded"] is False


def test_new_commits_past_a_version_are_counted(sqlite_history):
    repo, cli, commits = sqlite_history
    commit_variant(repo, "v4-work-in-progress")

    (repo / "variant.txt").write_text("v5-uncommitted\n")

    data = json.loads(status(repo, cli, "--json").stdout)

    assert data["version"] == "v3" and data["commits_ahead"] == 1
    assert data["dirty"] is True and "changes not yet committed" in " ".join(data["message"])


def test_status_outside_a_repository_is_an_error(ridgeline_bin, sqlite_location):
    done = subprocess.run([ridgeline_bin, "status", "--db", sqlite_location],
                          capture_output=True, text=True)

    assert done.returncode == 1 and "not inside a git repository" in done.stderr

"""`ridgeline validate`: re-running versions in temporary worktrees, and the rank test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ridgeline
from ridgeline import benchrun
from ridgeline.analysis.validation import (
    ALPHA,
    compare_samples,
    due_versions,
    mann_whitney_exact,
    mann_whitney_normal,
)
from ridgeline.errors import InputError
from tests.drive_support import bench_env, commit_variant, git, make_repo, set_control

# -S skips site-packages: the script needs only the standard library and starts 4x faster.
BENCH = [sys.executable, "-S", "bench.py"]


@pytest.fixture
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "control.json"
    set_control(path)
    monkeypatch.setenv("BENCH_CONTROL", str(path))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", "v1")


@pytest.fixture
def sqlite_ledger(sqlite_location: str):
    """For tests about worktrees and processes rather than storage: SQLite only."""
    with ridgeline.open(sqlite_location) as opened:
        yield opened


def worktree_count(repo: Path) -> int:
    return git(repo, "worktree", "list", "--porcelain").count("worktree ")


# -- the test itself -------------------------------------------------------------------


def test_planted_slowdown_is_flagged_and_the_working_tree_is_untouched(
    ridgeline_bin, db_location, repo, control
):
    set_control(control, seed=1, noise=0.02)
    env = bench_env(control)
    cli = [ridgeline_bin, "--db", db_location]
    subprocess.run([*cli, "objective", "add", "latency_ms", "--direction", "min"], check=True,
                   capture_output=True)
    subprocess.run([*cli, "bench", "--version", "v1", "--repeat", "5", "--", *BENCH],
                   cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "version", "set", "v1", "--status", "committed"], check=True,
                   capture_output=True)
    commit_variant(repo, "v2")
    subprocess.run([*cli, "bench", "--version", "v2", "--repeat", "5", "--", *BENCH],
                   cwd=repo, env=env, check=True, capture_output=True)
    head = git(repo, "rev-parse", "HEAD")
    # v1 is now superseded; something outside its code makes it 25% slower.
    set_control(control, seed=1, noise=0.02, slowdown={"v1": 1.25})

    done = subprocess.run([*cli, "validate", "v1", "--json"], cwd=repo, env=env,
                          capture_output=True, text=True)

    assert done.returncode == 3, done.stderr
    [verdict] = json.loads(done.stdout)
    assert verdict["verdict"] == "regression" and verdict["version"] == "v1"
    comparison = verdict["comparisons"][0]
    assert comparison["method"] == "mann-whitney exact" and comparison["p_value"] <= ALPHA
    assert comparison["relative_shift"] > 0.15
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "variant.txt").read_text() == "v2\n"
    assert worktree_count(repo) == 1
    with ridgeline.open(db_location) as ledger:
        validation_runs = ledger.runs(intent="validation")
        [event] = ledger.events("validation")
    assert len(validation_runs) == 5 and {r.version for r in validation_runs} == {"v1"}
    assert event.data["verdict"] == "regression"
    # The worktree ran v1's code, not the checked-out v2.
    assert all(r.commit != head for r in validation_runs)
    listed = subprocess.run([*cli, "validations", "--json"], capture_output=True, text=True)
    assert [(v["version"], v["verdict"]) for v in json.loads(listed.stdout)] == [
        ("v1", "regression")
    ]


def test_unchanged_version_is_not_flagged_in_19_of_20_noisy_checks(
    sqlite_location, repo, control
):
    # About statistics, not storage: one backend is enough for this slow test.
    flagged = 0
    with ridgeline.open(sqlite_location) as ledger:
        ledger.add_objective("latency_ms", "min")
        for check in range(20):
            set_control(control, seed=check, noise=0.05)
            name = f"check{check}"
            benchrun.bench(ledger, BENCH, cwd=repo, version=name, repeat=5)
            [verdict] = benchrun.validate(ledger, [name], cwd=repo, repeat=5)
            assert verdict.verdict in {"regression", "confirmed"}
            flagged += verdict.verdict == "regression"

    assert flagged <= 1
    assert worktree_count(repo) == 1


def test_validate_without_arguments_picks_the_longest_unvalidated_committed_versions(
    ledger, repo, control
):
    ledger.add_objective("latency_ms", "min")
    for name in ("a", "b", "c"):
        commit_variant(repo, name)
        benchrun.bench(ledger, BENCH, cwd=repo, version=name, repeat=2)
        ledger.set_version(name, status="committed")
    ledger.set_version("b", status="exploring")
    benchrun.validate(ledger, ["a"], cwd=repo, repeat=2)

    picked = benchrun.validate(ledger, cwd=repo, repeat=2, limit=1)

    assert [v.version for v in picked] == ["c"]
    assert due_versions(ledger.versions(), ledger.runs(), ledger.events()) == []


def test_worktree_is_removed_when_the_benchmark_cannot_start(sqlite_ledger, repo, control):
    sqlite_ledger.add_objective("latency_ms", "min")
    benchrun.bench(sqlite_ledger, BENCH, cwd=repo, version="v1")

    with pytest.raises(InputError, match="cannot run"):
        benchrun.validate(sqlite_ledger, ["v1"], cwd=repo, repeat=2, argv=["./missing-benchmark"])

    assert worktree_count(repo) == 1
    assert git(repo, "status", "--porcelain") == ""


def test_version_without_a_commit_is_skipped_with_a_reason(sqlite_ledger, repo, control):
    sqlite_ledger.record(version="imported", metrics={"x": 1.0})

    [verdict] = benchrun.validate(sqlite_ledger, ["imported"], cwd=repo, repeat=2)

    assert verdict.verdict == "skipped" and "no commit" in verdict.reason


def test_version_that_now_always_crashes_is_a_regression(sqlite_ledger, repo, control):
    sqlite_ledger.add_objective("latency_ms", "min")
    benchrun.bench(sqlite_ledger, BENCH, cwd=repo, version="v1", repeat=2)
    set_control(control, exit=1)

    [verdict] = benchrun.validate(sqlite_ledger, ["v1"], cwd=repo, repeat=2)

    assert verdict.verdict == "regression" and "crashed" in verdict.reason


def test_validate_outside_a_repository_is_an_error(sqlite_ledger, tmp_path):
    with pytest.raises(InputError, match="not inside a git repository"):
        benchrun.validate(sqlite_ledger, ["v1"], cwd=tmp_path / "home", repeat=2)


# -- the statistics --------------------------------------------------------------------


def test_rank_test_false_positive_rate_stays_near_alpha():
    rng = np.random.default_rng(7)
    flagged = sum(
        compare_samples("t", "min", rng.lognormal(0, 0.05, 5), rng.lognormal(0, 0.05, 5),
                        min_effect=0.0).verdict == "regression"
        for _ in range(2000)
    )

    assert flagged / 2000 <= 2 * ALPHA


def test_t_fallback_with_two_earlier_runs_keeps_false_positives_near_alpha():
    rng = np.random.default_rng(9)
    verdicts = [
        compare_samples("t", "min", rng.normal(1, 0.05, 2), rng.normal(1, 0.05, 5),
                        min_effect=0.0)
        for _ in range(2000)
    ]

    assert {v.method for v in verdicts} == {"prediction t"}
    assert sum(v.verdict == "regression" for v in verdicts) / 2000 <= 2 * ALPHA


def test_rank_test_finds_a_ten_percent_slowdown_with_five_runs_a_side():
    rng = np.random.default_rng(8)
    found = sum(
        compare_samples("t", "min", rng.normal(1.0, 0.02, 5), rng.normal(1.1, 0.02, 5))
        .verdict == "regression"
        for _ in range(200)
    )

    assert found >= 190


def test_direction_decides_which_way_is_worse():
    low, high = [1.0, 1.01, 0.99, 1.0, 1.02], [2.0, 2.01, 1.99, 2.0, 2.02]

    assert compare_samples("t", "max", high, low).verdict == "regression"
    assert compare_samples("t", "max", low, high).verdict == "confirmed"
    assert compare_samples("t", "min", low, high).verdict == "regression"


def test_one_earlier_run_falls_back_to_the_prediction_test():
    fresh = [0.80, 0.81, 0.79, 0.80, 0.82]

    worse = compare_samples("t", "max", [1.0], fresh)
    same = compare_samples("t", "max", [0.81], fresh)

    assert worse.method == "prediction t" and worse.verdict == "regression"
    assert same.verdict == "confirmed"


def test_small_consistent_drift_below_the_effect_threshold_is_not_a_regression():
    earlier = [1.000, 1.001, 1.002, 1.000, 1.001]
    fresh = [1.004, 1.005, 1.006, 1.004, 1.005]  # worse by 0.4%, every time

    assert compare_samples("t", "min", earlier, fresh).verdict == "confirmed"
    assert compare_samples("t", "min", earlier, fresh, min_effect=0.001).verdict == "regression"


def test_too_few_values_is_inconclusive():
    assert compare_samples("t", "min", [], [1.0, 2.0]).verdict == "inconclusive"
    assert compare_samples("t", "min", [1.0], [float("nan"), 2.0]).verdict == "inconclusive"


def test_exact_and_normal_p_values_agree_on_larger_samples():
    old = np.arange(8, dtype=float)
    new = old + 3.5

    assert mann_whitney_exact(old, new) == pytest.approx(mann_whitney_normal(old, new), abs=0.01)
    # Reference: with no overlap at all, p is 1 / C(10, 5).
    assert mann_whitney_exact(np.arange(5.0), np.arange(5.0) + 10) == pytest.approx(1 / 252)

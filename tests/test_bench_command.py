"""`ridgeline bench`: running a benchmark, recording runs and crashes, passing output through."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ridgeline
from ridgeline import benchrun
from ridgeline.benchrun import artifact_path
from ridgeline.errors import InputError
from tests.drive_support import bench_env, git, make_repo, set_control

# -S skips site-packages: the script needs only the standard library and starts 4x faster.
BENCH = [sys.executable, "-S", "bench.py"]

# Tests about the wrapper rather than the storage take `sqlite_location` only; those that
# write runs of every kind take `db_location` and run on both backends.


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def control(tmp_path: Path) -> Path:
    path = tmp_path / "control.json"
    set_control(path)
    return path


def run_bench(ridgeline_bin, db, repo, control, *options, command=BENCH):
    return subprocess.run(
        [ridgeline_bin, "bench", "--db", db, *options, "--", *command],
        cwd=repo, env=bench_env(control), capture_output=True, text=True, timeout=120,
    )


def runs_of(db: str) -> list[ridgeline.Run]:
    with ridgeline.open(db) as ledger:
        return ledger.runs()


def test_ok_run_is_recorded_with_commit_duration_command_and_log(
    ridgeline_bin, db_location, repo, control
):
    done = run_bench(ridgeline_bin, db_location, repo, control)

    assert done.returncode == 0, done.stderr
    assert "bench starting v1" in done.stdout and "latency_ms:" in done.stdout
    assert "to stderr" in done.stderr
    [run] = runs_of(db_location)
    head = git(repo, "rev-parse", "HEAD")
    assert run.outcome == "ok" and run.intent == "attempt"
    assert run.commit == head and run.dirty is False and run.diff_hash is None
    assert run.version == head[:10]
    assert run.exit_status == 0 and run.duration > 0
    assert run.command.endswith("bench.py")
    assert 90 < run.metrics["latency_ms"] < 110
    with ridgeline.open(db_location) as ledger:
        log = artifact_path(ledger, run.artifacts[0])
        assert ledger.get_setting("bench.command") == run.command
        assert ledger.version(run.version).commit == head
    assert not Path(run.artifacts[0]).is_absolute()
    assert "bench starting v1" in log.read_text() and "to stderr" in log.read_text()


def test_json_output_is_extracted_and_verdict_says_record_then_no_record(
    ridgeline_bin, db_location, repo, control
):
    subprocess.run([ridgeline_bin, "objective", "add", "latency_ms", "--direction", "min",
                    "--db", db_location], check=True, capture_output=True)
    set_control(control, shape="json", centre=100.0, noise=0.0)
    first = run_bench(ridgeline_bin, db_location, repo, control, "--version", "a")
    set_control(control, shape="json", centre=120.0, noise=0.0)
    second = run_bench(ridgeline_bin, db_location, repo, control, "--version", "b")

    assert "NEW RECORD" in first.stderr
    assert "no record" in second.stderr and "best 100 (a) +20.00%" in second.stderr
    assert [r.metrics for r in runs_of(db_location)] == [
        {"latency_ms": 100.0}, {"latency_ms": 120.0}
    ]


def test_json_flag_prints_results_and_keeps_benchmark_stdout_off_stdout(
    ridgeline_bin, db_location, repo, control
):
    done = run_bench(ridgeline_bin, db_location, repo, control, "--json", "--repeat", "2",
                     "--tool-calls", "42")

    results = json.loads(done.stdout)
    assert [r["run"]["outcome"] for r in results] == ["ok", "ok"]
    assert [r["run"]["tool_calls"] for r in results] == [42, 42]
    assert "bench starting" in done.stderr


def test_nonzero_exit_is_a_crash_and_is_ridgelines_exit_status(
    ridgeline_bin, db_location, repo, control
):
    set_control(control, exit=3)

    done = run_bench(ridgeline_bin, db_location, repo, control)

    assert done.returncode == 3
    assert "latency_ms:" in done.stdout
    [run] = runs_of(db_location)
    assert run.outcome == "crash" and run.reason == "exit status 3" and run.exit_status == 3


def test_timeout_is_a_crash_with_its_reason(ridgeline_bin, sqlite_location, repo, control):
    set_control(control, sleep=30)

    done = run_bench(ridgeline_bin, sqlite_location, repo, control, "--timeout", "0.5")

    assert done.returncode == 124
    [run] = runs_of(sqlite_location)
    assert run.outcome == "crash" and run.reason == "timeout after 0.5 s"
    assert run.duration < 25


def test_missing_metric_of_a_declared_objective_is_a_crash(
    ridgeline_bin, db_location, repo, control
):
    set_control(control, metric="something_else")

    done = run_bench(ridgeline_bin, db_location, repo, control, "--objective", "latency_ms:min")

    assert done.returncode == 0  # the benchmark itself succeeded
    [run] = runs_of(db_location)
    assert run.outcome == "crash"
    assert run.reason == "metric latency_ms missing from the output"
    assert run.metrics == {"something_else": pytest.approx(run.metrics["something_else"])}


def test_nan_metric_is_a_crash(ridgeline_bin, sqlite_location, repo, control):
    set_control(control, nan=True)

    run_bench(ridgeline_bin, sqlite_location, repo, control, "--objective", "latency_ms:min")

    [run] = runs_of(sqlite_location)
    assert run.outcome == "crash" and run.reason == "metric latency_ms is NaN"


def test_output_with_no_metric_at_all_is_a_crash(ridgeline_bin, sqlite_location, repo, control):
    set_control(control, shape="none")

    run_bench(ridgeline_bin, sqlite_location, repo, control)

    [run] = runs_of(sqlite_location)
    assert run.outcome == "crash" and run.reason == "no metric in the output"


def test_configured_pattern_reads_a_custom_format(ridgeline_bin, sqlite_location, repo, control):
    set_control(control, shape="custom", noise=0.0)
    added = subprocess.run(
        [ridgeline_bin, "bench-pattern", "add", r"RESULT latency_ms=(?P<latency_ms>[0-9.]+)",
         "--db", sqlite_location], capture_output=True, text=True,
    )
    assert added.returncode == 0, added.stderr

    run_bench(ridgeline_bin, sqlite_location, repo, control)

    assert runs_of(sqlite_location)[0].metrics == {"latency_ms": 100.0}


def test_bad_pattern_is_refused(ridgeline_bin, sqlite_location):
    done = subprocess.run([ridgeline_bin, "bench-pattern", "add", "(x", "--db", sqlite_location],
                          capture_output=True, text=True)

    assert done.returncode == 1 and "regular expression" in done.stderr


def test_dirty_tree_gets_a_diff_hash_that_follows_the_edit(
    ridgeline_bin, sqlite_location, repo, control
):
    (repo / "variant.txt").write_text("v1-edited\n")
    run_bench(ridgeline_bin, sqlite_location, repo, control)
    run_bench(ridgeline_bin, sqlite_location, repo, control)
    (repo / "notes.txt").write_text("an untracked file changes the state too\n")
    run_bench(ridgeline_bin, sqlite_location, repo, control)

    first, again, untracked = runs_of(sqlite_location)
    assert first.dirty is True and re.fullmatch(r"[0-9a-f]{64}", first.diff_hash)
    assert again.diff_hash == first.diff_hash
    assert untracked.diff_hash != first.diff_hash
    head = git(repo, "rev-parse", "HEAD")
    assert first.version == f"{head[:10]}+{first.diff_hash[:8]}"
    with ridgeline.open(sqlite_location) as ledger:
        # A dirty state is not the commit: the version records no commit of its own.
        assert ledger.version(first.version).commit is None


def test_new_version_gets_the_previous_commits_version_as_parent(
    ridgeline_bin, sqlite_location, repo, control
):
    from tests.drive_support import commit_variant

    run_bench(ridgeline_bin, sqlite_location, repo, control, "--version", "v1")
    commit_variant(repo, "v2")
    run_bench(ridgeline_bin, sqlite_location, repo, control, "--version", "v2")

    with ridgeline.open(sqlite_location) as ledger:
        assert ledger.version("v2").parents == ("v1",)


def test_command_that_cannot_start_is_an_error_not_a_run(
    ridgeline_bin, sqlite_location, repo, control
):
    done = run_bench(ridgeline_bin, sqlite_location, repo, control,
                     command=["./no-such-benchmark"])

    assert done.returncode == 1 and "cannot run" in done.stderr
    assert runs_of(sqlite_location) == []


def test_artifact_paths_may_not_leave_the_artifact_folder(ledger):
    with pytest.raises(InputError, match="leaves the artifact folder"):
        artifact_path(ledger, "../ledger.db")
    with pytest.raises(InputError, match="relative"):
        artifact_path(ledger, "/etc/passwd")
    assert artifact_path(ledger, "bench/x.log").parent.name == "bench"


def test_child_left_holding_the_output_is_stopped(sqlite_location, tmp_path, monkeypatch):
    monkeypatch.setattr(benchrun, "_KILL_GRACE_SECONDS", 0.3)
    pid_file = tmp_path / "child.pid"
    script = f'sleep 600 & echo $! > {pid_file}; echo "latency_ms: 5"'
    results = []

    with ridgeline.open(sqlite_location) as ledger:
        worker = threading.Thread(target=lambda: results.extend(benchrun.bench(
            ledger, ["sh", "-c", script], cwd=tmp_path, version="a")))
        worker.start()
        worker.join(60)  # without the clean-up the pipes stay open for ten minutes
        child = int(pid_file.read_text())
        if worker.is_alive():
            os.kill(child, signal.SIGKILL)
            worker.join()

    assert results and results[0].run.metrics == {"latency_ms": 5.0}
    assert not child_alive(child)


def child_alive(pid: int) -> bool:
    # The stopped child is reaped by init shortly after; until then it is a zombie.
    for _ in range(50):
        status = Path(f"/proc/{pid}/stat")
        if not status.exists() or status.read_text().split(") ")[1].startswith("Z"):
            return False
        time.sleep(0.1)
    return True


def test_infinite_metric_is_a_crash_that_is_still_recorded(
    ridgeline_bin, sqlite_location, repo, control
):
    command = [sys.executable, "-c", "print('{\"val_bpb\": 1e999, \"memory_gb\": 2}')"]

    done = run_bench(ridgeline_bin, sqlite_location, repo, control,
                     "--objective", "val_bpb:min", command=command)

    [run] = runs_of(sqlite_location)
    assert run.outcome == "crash" and run.reason == "metric val_bpb is infinite"
    assert run.metrics == {"val_bpb": None, "memory_gb": 2.0}
    assert "Traceback" not in done.stderr


def test_a_ledger_inside_the_work_tree_does_not_make_runs_dirty(ridgeline_bin, repo, control):
    inside = str(Path(repo) / "ledger.db")

    for _ in range(2):
        run_bench(ridgeline_bin, inside, repo, control)

    versions = {run.version for run in runs_of(inside)}
    assert len(versions) == 1 and all(not run.dirty for run in runs_of(inside))

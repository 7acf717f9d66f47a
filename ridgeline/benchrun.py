"""Run a benchmark command and record what it did.

`bench()` runs a command (an argv list, never through a shell) once per repeat, passes
its stdout and stderr through live to the streams it is given, keeps both in a log file
under the ledger's artifact folder, reads the metrics from the output
(`ridgeline.outputs`), and records one run per repeat with the git state of the folder
it ran in. A run is a crash, with its reason, when the command exits non-zero, runs past
its timeout, prints no value for a required objective, or prints NaN for one.

The version defaults to the commit: HEAD's first ten hex digits on a clean tree, and
`<sha>+<first 8 of the diff hash>` on a dirty one, so two different dirty states never
share a name. A version seen for the first time gets as parent the version recorded at
the previous commit (HEAD's first parent, or HEAD itself for a dirty tree), so `status`
can list what was tried on top of a version.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shlex
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, NamedTuple

from ridgeline import gitinfo
from ridgeline.analysis import validation
from ridgeline.analysis.frontier import is_counted, staircase
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import Objective, Run
from ridgeline.outputs import PATTERNS_SETTING, compile_patterns, extract_metrics

logger = logging.getLogger(__name__)

COMMAND_SETTING = "bench.command"
ARTIFACT_FOLDER = "bench"
# The exit status `timeout(1)` uses, so scripts that check for it keep working.
TIMEOUT_EXIT_STATUS = 124
_KILL_GRACE_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class ProcessResult:
    """What one execution of the command did."""

    exit_status: int | None
    timed_out: bool
    duration: float
    stdout: str
    stderr: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One objective's value in a run against the best and the baseline before it."""

    objective: str
    direction: str
    value: float | None
    best: float | None
    best_version: str | None
    baseline: float | None
    record: bool

    @property
    def change_from_best(self) -> float | None:
        return _relative(self.value, self.best)

    @property
    def change_from_baseline(self) -> float | None:
        return _relative(self.value, self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "direction": self.direction,
            "value": self.value,
            "best": self.best,
            "best_version": self.best_version,
            "baseline": self.baseline,
            "record": self.record,
            "change_from_best": self.change_from_best,
            "change_from_baseline": self.change_from_baseline,
        }


@dataclasses.dataclass(frozen=True)
class BenchResult:
    """One recorded repeat: the run, how the process ended, and the verdict."""

    run: Run
    exit_status: int
    comparisons: tuple[Comparison, ...]

    @property
    def record(self) -> bool:
        return any(c.record for c in self.comparisons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.to_dict(),
            "exit_status": self.exit_status,
            "record": self.record,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def _relative(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0 or not math.isfinite(value):
        return None
    return (value - reference) / abs(reference)


# -- running the process ----------------------------------------------------------------


def run_process(
    argv: Sequence[str],
    *,
    cwd: str | Path,
    timeout: float | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> ProcessResult:
    """Run `argv` in `cwd`, copying its output to `stdout`/`stderr` as it arrives.

    On timeout the whole process group gets SIGTERM, then SIGKILL after a grace period,
    so a benchmark's own children do not outlive it.

    Raises:
        InputError: the command cannot be started (not found, not executable).
    """
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError as error:
        raise InputError(f"cannot run {shlex.join(argv)!r}: {error.strerror}",
                         field="command") from None
    collected: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, stdout, collected["stdout"])),
        threading.Thread(target=_pump, args=(process.stderr, stderr, collected["stderr"])),
    ]
    for pump in pumps:
        pump.start()
    timed_out = _wait(process, timeout)
    _drain(process, pumps)
    return ProcessResult(
        exit_status=process.returncode,
        timed_out=timed_out,
        duration=time.monotonic() - started,
        stdout=b"".join(collected["stdout"]).decode("utf-8", errors="replace"),
        stderr=b"".join(collected["stderr"]).decode("utf-8", errors="replace"),
    )


def _pump(source: IO[bytes], echo: IO[bytes] | None, sink: list[bytes]) -> None:
    # read1 returns what is available now, so output shows up live, not per 8 KiB.
    while chunk := source.read1(65536):  # type: ignore[attr-defined]
        sink.append(chunk)
        if echo is not None:
            echo.write(chunk)
            echo.flush()
    source.close()


def _drain(process: subprocess.Popen, pumps: list[threading.Thread]) -> None:
    # A child the benchmark left running (a server started in the background) keeps the
    # pipes open, and the pumps would wait for it forever: give it a grace period, then
    # stop what is left of the process group.
    deadline = time.monotonic() + _KILL_GRACE_SECONDS
    for pump in pumps:
        pump.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(pump.is_alive() for pump in pumps):
        logger.warning("the benchmark left processes holding its output open; stopping them")
        _kill_group(process, signal.SIGKILL)
        for pump in pumps:
            pump.join()


def _wait(process: subprocess.Popen, timeout: float | None) -> bool:
    try:
        process.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        _kill_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=_KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(process, signal.SIGKILL)
            process.wait()
        return True
    except KeyboardInterrupt:
        _kill_group(process, signal.SIGKILL)
        process.wait()
        raise


def _kill_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass  # it ended between the timeout and the signal


# -- artifacts --------------------------------------------------------------------------


def save_log(ledger: Ledger, argv: Sequence[str], cwd: Path, result: ProcessResult) -> str:
    """Write the output to a new log file in the artifact folder; the relative path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    relative = f"{ARTIFACT_FOLDER}/{stamp}-{uuid.uuid4().hex[:8]}.log"
    path = artifact_path(ledger, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"command: {shlex.join(argv)}\ncwd: {cwd}\nexit_status: {result.exit_status}\n"
        f"timed_out: {str(result.timed_out).lower()}\nduration: {result.duration:.3f}\n"
    )
    text = f"{header}--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return relative


def artifact_path(ledger: Ledger, relative: str) -> Path:
    """The file behind an artifact path stored in the ledger (`Ledger.artifact_path`).

    Raises:
        InputError: the path is absolute or leaves the artifact folder (`../`, a symlink).
    """
    return ledger.artifact_path(relative)


# -- recording --------------------------------------------------------------------------


def crash_reason(result: ProcessResult, metrics: dict[str, float],
                 required: Sequence[str], timeout: float | None) -> str | None:
    """Why a finished process counts as a crash, or None when it does not."""
    if result.timed_out:
        return f"timeout after {timeout:g} s"
    if result.exit_status != 0:
        return f"exit status {result.exit_status}"
    if not metrics:
        return "no metric in the output"
    for name in required:
        if name not in metrics:
            return f"metric {name} missing from the output"
        if math.isnan(metrics[name]):
            return f"metric {name} is NaN"
        if math.isinf(metrics[name]):
            return f"metric {name} is infinite"
    if not required and not any(math.isfinite(v) for v in metrics.values()):
        return "no metric is a finite number"
    return None


def ledger_paths(ledger: Ledger) -> list[Path]:
    """The ledger's own files and artifacts. With `--db` inside the work tree they would
    otherwise make every run look like a new, dirty version."""
    paths = [ledger.artifact_dir]
    if ledger.storage.dialect == "sqlite":
        database = Path(ledger.location)
        paths += [database.with_name(database.name + suffix)
                  for suffix in ("", "-wal", "-shm", "-journal")]
    return paths


def default_version(state: gitinfo.GitState | None) -> str:
    """The version name used when none is given: the commit, marked when dirty."""
    if state is None:
        raise InputError("not inside a git repository with a commit: name the version "
                         "with --version", field="--version")
    if state.dirty:
        return f"{state.short}+{state.diff_hash[:8]}"  # type: ignore[index]
    return state.short


def bench(
    ledger: Ledger,
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    version: str | None = None,
    intent: str = "attempt",
    timeout: float | None = None,
    repeat: int = 1,
    required: Sequence[str] | None = None,
    description: str | None = None,
    tool_calls: int | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> list[BenchResult]:
    """Run a benchmark `repeat` times and record one run per repetition.

    Args:
        ledger: where runs go; its setting `bench.patterns` adds extraction patterns.
        argv: the command, as a list (no shell).
        cwd: where to run it; the current directory by default. Its git state is recorded.
        version: the version name; see the module docstring for the default.
        intent: "attempt", "validation" or "debug".
        timeout: seconds before the command is stopped and recorded as a crash.
        repeat: how many times to run it.
        required: objectives whose value must be present and not NaN; by default every
            objective the ledger declares.
        description: stored with each run.
        tool_calls: the agent's cumulative tool calls so far, stored with each run.
        stdout, stderr: binary streams that receive the benchmark's output live.

    Returns:
        One result per repetition, in order.

    Raises:
        InputError: an empty command, a repeat below 1, or a bad pattern setting.
    """
    if not argv:
        raise InputError("no benchmark command given; put it after --", field="command")
    if repeat < 1:
        raise InputError(f"expected a repeat of at least 1, got {repeat}", field="--repeat")
    folder = Path(cwd or Path.cwd()).resolve()
    patterns = ledger.get_setting(PATTERNS_SETTING, []) or []
    compile_patterns(patterns)  # a bad pattern fails now, not after a long benchmark
    state = gitinfo.current_state(folder, ledger_paths(ledger))
    version = version or default_version(state)
    _prepare_version(ledger, folder, version, state)
    ledger.set_setting(COMMAND_SETTING, shlex.join(argv))
    if required is None:
        required = [o.name for o in ledger.objectives()]
    setup = _Setup(list(argv), folder, state, version, intent, description, list(required),
                   timeout, tool_calls)

    results = []
    for _ in range(repeat):
        process = run_process(argv, cwd=folder, timeout=timeout, stdout=stdout, stderr=stderr)
        metrics = extract_metrics(process.stdout + "\n" + process.stderr, patterns)
        results.append(_record(ledger, setup, process, metrics))
    return results


class _Setup(NamedTuple):
    """What stays the same across the repeats of one `bench` call."""

    argv: list[str]
    folder: Path
    state: gitinfo.GitState | None
    version: str
    intent: str
    description: str | None
    required: list[str]
    timeout: float | None
    tool_calls: int | None


def _prepare_version(ledger: Ledger, folder: Path, version: str,
                     state: gitinfo.GitState | None) -> None:
    known = {v.name: v for v in ledger.versions()}
    if state is None:
        return
    existing = known.get(version)
    if existing is None:
        parent = _parent_version(folder, state, known)
        ledger.set_version(
            version,
            parents=[parent] if parent else None,
            commit=None if state.dirty else state.commit,
        )
    elif existing.commit is None and not state.dirty:
        ledger.set_version(version, commit=state.commit)


def _parent_version(folder: Path, state: gitinfo.GitState, known: dict) -> str | None:
    by_commit = {v.commit: v.name for v in known.values() if v.commit}
    candidates = [state.commit] if state.dirty else []
    candidates += gitinfo.recent_commits(folder, limit=50)[1:]
    for commit in candidates:
        if commit in by_commit:
            return by_commit[commit]
    return None


def _record(ledger: Ledger, setup: _Setup, process: ProcessResult,
            metrics: dict[str, float]) -> BenchResult:
    before = _standing(ledger)
    reason = crash_reason(process, metrics, setup.required, setup.timeout)
    log = save_log(ledger, setup.argv, setup.folder, process)
    exit_status = TIMEOUT_EXIT_STATUS if process.timed_out else process.exit_status
    state = setup.state
    run = ledger.record(
        version=setup.version,
        # The ledger refuses infinities; the crash reason above already names them, and the
        # run must still be stored.
        metrics={k: (v if math.isfinite(v) else None) for k, v in metrics.items()},
        intent=setup.intent,
        outcome="crash" if reason else "ok",
        reason=reason,
        commit=state.commit if state else None,
        dirty=state.dirty if state else None,
        diff_hash=state.diff_hash if state else None,
        duration=round(process.duration, 6),
        command=shlex.join(setup.argv),
        exit_status=exit_status,
        description=setup.description,
        tool_calls=setup.tool_calls,
        artifacts=[log],
    )
    status = ledger.version(setup.version).status
    counted = is_counted(run.intent, run.outcome, status)
    comparisons = tuple(
        _compare(objective, run, counted, *before.get(objective.name, (None, None, None)))
        for objective in ledger.objectives()
    )
    return BenchResult(run=run, exit_status=exit_status or 0, comparisons=comparisons)


def _standing(ledger: Ledger) -> dict[str, tuple[float | None, str | None, float | None]]:
    """Per objective: the best value so far, its version, and the baseline."""
    points = ledger.run_points()
    standing = {}
    for objective in ledger.objectives():
        records = staircase(points, objective)
        best = records[-1] if records else None
        baseline = objective.baseline
        if baseline is None and records:
            baseline = records[0].values[objective.name]
        standing[objective.name] = (
            best.values[objective.name] if best else None,
            best.version if best else None,
            baseline,
        )
    return standing


def _compare(objective: Objective, run: Run, counted: bool, best: float | None,
             best_version: str | None, baseline: float | None) -> Comparison:
    value = run.metrics.get(objective.name)
    usable = value is not None and math.isfinite(value)
    record = counted and usable and (best is None or objective.better(value, best))
    return Comparison(
        objective=objective.name, direction=objective.direction,
        value=value if usable else None, best=best, best_version=best_version,
        baseline=baseline, record=bool(record),
    )


# -- validation -------------------------------------------------------------------------

DEFAULT_VALIDATION_REPEAT = 5


@dataclasses.dataclass(frozen=True)
class VersionVerdict:
    """The outcome of validating one version."""

    version: str
    commit: str | None
    verdict: str
    reason: str
    runs: tuple[int, ...] = ()
    comparisons: tuple[validation.SampleComparison, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "commit": self.commit,
            "verdict": self.verdict,
            "reason": self.reason,
            "runs": list(self.runs),
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def validate(
    ledger: Ledger,
    names: Sequence[str] | None = None,
    *,
    cwd: str | Path | None = None,
    repeat: int = DEFAULT_VALIDATION_REPEAT,
    argv: Sequence[str] | None = None,
    timeout: float | None = None,
    limit: int = 3,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> list[VersionVerdict]:
    """Re-run versions at their commits in temporary worktrees and judge them.

    Each version's commit is checked out with `git worktree add --detach` into a fresh
    temporary folder (the user's working tree is never touched) and its benchmark runs
    there `repeat` times as `validation` runs, in the same folder relative to the
    repository root as `cwd`. The new values are compared with the version's earlier ok
    runs by `ridgeline.analysis.validation.compare_samples`, and the verdict is stored
    as a `validation` event.

    Args:
        names: versions to validate; None for the `limit` committed versions that have
            gone longest without validation.
        argv: the benchmark command; by default the one recorded with the version's
            newest run.

    Raises:
        InputError: `cwd` is not inside a git repository, or a repeat below 2.
    """
    folder = Path(cwd or Path.cwd()).resolve()
    root = gitinfo.repository_root(folder)
    if root is None:
        raise InputError(f"{folder} is not inside a git repository; validate needs one")
    if repeat < 2:
        raise InputError("validation needs at least 2 repeats to see the noise",
                         field="--repeat")
    runs = ledger.runs()
    if not names:
        names = validation.by_staleness(ledger.versions(), runs,
                                        ledger.events(validation.EVENT_KIND))[:limit]
    subfolder = folder.relative_to(root.resolve())
    return [
        _validate_one(ledger, name, root, subfolder, runs, repeat, argv, timeout,
                      stdout, stderr)
        for name in names
    ]


def _validate_one(ledger, name, root, subfolder, runs, repeat, argv, timeout,
                  stdout, stderr) -> VersionVerdict:
    version = ledger.version(name)
    own_runs = [r for r in runs if r.version == name]
    commit = validation.version_commit(version, own_runs)
    command = list(argv) if argv else _recorded_command(own_runs)
    if commit is None or not command:
        missing = "commit" if commit is None else "benchmark command"
        verdict = VersionVerdict(name, commit, "skipped", f"no {missing} recorded for it")
        _store_verdict(ledger, verdict)
        return verdict

    with gitinfo.temporary_worktree(root, commit) as tree:
        results = bench(ledger, command, cwd=tree / subfolder, version=name,
                        intent="validation", timeout=timeout, repeat=repeat,
                        stdout=stdout, stderr=stderr)
    verdict = _judge(ledger, name, commit, own_runs, [r.run for r in results])
    _store_verdict(ledger, verdict)
    return verdict


def _recorded_command(runs: Sequence[Run]) -> list[str]:
    for run in reversed(runs):
        if run.command:
            return shlex.split(run.command)
    return []


def _judge(ledger: Ledger, name: str, commit: str, earlier: Sequence[Run],
           fresh: Sequence[Run]) -> VersionVerdict:
    run_ids = tuple(r.id for r in fresh)
    crashes = [r for r in fresh if r.outcome == "crash"]
    if len(crashes) == len(fresh):
        return VersionVerdict(name, commit, "regression",
                              f"every validation run crashed ({crashes[-1].reason})", run_ids)
    comparisons = tuple(
        validation.compare_samples(
            objective.name, objective.direction,
            [r.metrics.get(objective.name) for r in earlier if r.outcome == "ok"],
            [r.metrics.get(objective.name) for r in fresh if r.outcome == "ok"],
        )
        for objective in ledger.objectives()
    )
    worse = [c.objective for c in comparisons if c.verdict == "regression"]
    if worse:
        return VersionVerdict(name, commit, "regression",
                              f"worse beyond the noise: {', '.join(worse)}", run_ids, comparisons)
    if not comparisons or all(c.verdict == "inconclusive" for c in comparisons):
        return VersionVerdict(name, commit, "inconclusive",
                              "no earlier ok value to compare with", run_ids, comparisons)
    reason = "within the noise of its earlier runs"
    if crashes:
        reason += f"; {len(crashes)} of {len(fresh)} validation runs crashed"
    return VersionVerdict(name, commit, "confirmed", reason, run_ids, comparisons)


def _store_verdict(ledger: Ledger, verdict: VersionVerdict) -> None:
    ledger.add_event(validation.EVENT_KIND, verdict.to_dict())


# -- workspace --------------------------------------------------------------------------


def workspace_status(ledger: Ledger, cwd: str | Path | None = None) -> dict[str, Any]:
    """`ridgeline.analysis.advice.describe_workspace` for the checkout holding `cwd`.

    Raises:
        InputError: `cwd` is not inside a git repository with a commit.
    """
    from ridgeline.analysis.advice import describe_workspace

    folder = Path(cwd or Path.cwd()).resolve()
    state = gitinfo.current_state(folder, ledger_paths(ledger))
    if state is None:
        raise InputError(f"{folder} is not inside a git repository with a commit")
    status = describe_workspace(ledger, gitinfo.recent_commits(folder, limit=500),
                                dirty=state.dirty)
    status["branch"] = state.branch
    return status

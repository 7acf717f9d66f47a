"""Memory-behaviour scores: how well an agent used its external memory, from its trace.

Four behaviours, each scored in [0, 1], or None when the trace gives it no opportunity,
with the events (line numbers) behind the score. The input is the ordered event list of a
`TraceAnalysis` (benchmark runs, ridgeline's own commands and MCP calls, compactions,
sessions, rollbacks, claims in the agent's prose) and, optionally, a snapshot of the
ledger the agent used.

(a) writes: it writes to external memory. Two parts, averaged over those that apply:
    the share of benchmark runs followed by a `ridgeline record` (or run through
    `ridgeline bench`, which records) before the next benchmark run; and the share of
    crashed runs followed by a `lesson add` or `note add` before the next crash or the
    end. With a ledger, a run stored with a time in that window, or a lesson created in
    that window, counts too (the agent may write through the Python API).

(b) reads back: after each compaction, and each session after the first, it consults the
    ledger (`brief`, `status`, `frontier`, `runs`, `recall`...) before acting (a
    benchmark run, an edit, a `ridgeline record`). Each opportunity scores 0 when it acted
    first, else 1, or 0.5 when its next claim of a best result ("best so far is 72.1")
    disagrees, by more than 1 % relative, with the best the memory held at that moment:
    the ledger's best of its first objective among ok attempts stored before the claim
    or, without a ledger, the best metric value the trace itself recorded (either
    direction, since a trace alone does not say which way is better).
    The score is the mean over opportunities.

(c) regressions: it re-tests superseded versions and flags a slowdown. A measurement is
    keyed by the version named in the `ridgeline record` that follows it, else by the
    benchmark command. A regression is a measurement of a key that is worse than that
    key's best earlier measurement by more than 5 %; it is flagged when, before the next
    benchmark run, the agent says so (regression, slowdown, slower, worse), runs
    `ridgeline validate`, or writes a lesson or note. Score: flagged / regressions when
    any occurred; else, once some key has been superseded by another, 1 if the agent
    re-measured a superseded key and 0 if it never did; else None.
    Direction: the ledger's objective; without one, names that read as costs (time,
    latency, loss, seconds, ms, error, bpb) are minimized, unless they read as rates
    (`tok_per_sec`, throughput, score), and everything else is maximized.

(d) rollbacks: after `git reset --hard`, `git checkout <ref>`, `git switch` or
    `git restore --source`, half a point for orienting (a ridgeline read or `git log`)
    before its next action, and half for not repeating exhausted work: the next key it
    measures or records is not one whose every earlier measurement crashed or that was
    marked failed. A rollback with no action after it keeps the second half.

What the scores cannot see: work done through channels the trace does not show (a
ledger written by a hook, a brief injected into the context), claims phrased without
the word "best", whether a flagged regression was the planted one rather than noise,
whether a rollback target was the right commit, and anything in redacted or cut-off
outputs. They measure behaviour, not results.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

REGRESSION_THRESHOLD = 0.05
CLAIM_TOLERANCE = 0.01

# Rates (`tok_per_sec`, `throughput`) are maximized even though they mention seconds.
_RATE_NAME = re.compile(r"(?i)(per[_\s]|_per|/s\b|throughput|speed|rate\b|score|accuracy)")
_COST_NAME = re.compile(
    r"(?i)((^|_)(time|latency|loss|seconds?|secs?|ms|us|ns|errors?|bpb|duration|cycles)"
    r"($|_)|time|latency|loss)"
)
_ACTS = {"bench", "edit"}


@dataclasses.dataclass(frozen=True)
class LedgerSnapshot:
    """What the scores need from a ledger, as plain data (times in epoch seconds)."""

    runs: Sequence[tuple[float, dict[str, float], str, str, str | None]] = ()
    """(at, metrics, intent, outcome, version) for every run."""
    lessons: Sequence[float] = ()
    """Creation time of every lesson and note."""
    objective: tuple[str, str] | None = None
    """(name, direction) of the first objective."""


@dataclasses.dataclass
class Step:
    """One event of the trace in order, with its benchmark run resolved."""

    kind: str
    line: int
    at: float | None
    data: dict[str, Any]


def score_behaviour(
    events: Sequence[Any], runs: Sequence[Any], ledger: LedgerSnapshot | None = None
) -> dict[str, Any]:
    """The four scores for a trace's events.

    Args:
        events: `TraceAnalysis.events`, in the order they happened.
        runs: `TraceAnalysis.runs`, which `bench` events point into.
        ledger: a snapshot of the ledger the agent used, if known.

    Returns:
        `{"writes": {...}, "reads": {...}, "regressions": {...}, "rollbacks": {...}}`,
        each with `score` (a float in [0, 1] or None), `opportunities` and `evidence`.
    """
    steps = [_step(event, runs) for event in events]
    measurements = _measurements(steps, ledger)
    return {
        "writes": score_writes(steps, ledger),
        "reads": score_reads(steps, measurements, ledger),
        "regressions": score_regressions(steps, measurements, ledger),
        "rollbacks": score_rollbacks(steps, measurements),
    }


def _step(event: Any, runs: Sequence[Any]) -> Step:
    data = dict(event.data)
    if event.kind == "bench":
        run = runs[data["run"]]
        data.update(crashed=run.crashed, metrics=dict(run.metrics), command=run.command)
    return Step(event.kind, event.line, event.at, data)


def _result(score: float | None, opportunities: int, evidence: list[dict[str, Any]]):
    return {
        "score": None if score is None else round(max(0.0, min(1.0, score)), 4),
        "opportunities": opportunities,
        "evidence": evidence,
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _is_write(step: Step, *commands: str) -> bool:
    return step.kind == "ridgeline_write" and step.data.get("command") in commands


# -- (a) writes ------------------------------------------------------------------------


def score_writes(steps: Sequence[Step], ledger: LedgerSnapshot | None = None) -> dict:
    runs_part, lessons_part, evidence = [], [], []
    bench_at = [i for i, s in enumerate(steps) if s.kind == "bench"]
    crashes_at = [i for i in bench_at if steps[i].data.get("crashed")]
    for position, index in enumerate(bench_at):
        end = bench_at[position + 1] if position + 1 < len(bench_at) else len(steps)
        window = steps[index:end]
        # `ridgeline bench -- CMD` records its own run; its write comes just before.
        wrapped = index > 0 and steps[index - 1].line == steps[index].line and _is_write(
            steps[index - 1], "bench")
        recorded = wrapped or any(_is_write(s, "record") for s in window)
        if not recorded and ledger is not None:
            recorded = _ledger_has_run_between(ledger, steps[index].at, _time_at(steps, end))
        runs_part.append(1.0 if recorded else 0.0)
        evidence.append({"line": steps[index].line, "event": "benchmark run",
                         "recorded": recorded})
        if steps[index].data.get("crashed"):
            following = bisect.bisect_right(crashes_at, index)
            end = crashes_at[following] if following < len(crashes_at) else len(steps)
            lessons_part.append(_lesson_after(steps, index, end, ledger, evidence))
    parts = [p for p in (_mean(runs_part), _mean(lessons_part)) if p is not None]
    return _result(_mean(parts), len(runs_part) + len(lessons_part), evidence)


def _lesson_after(steps: Sequence[Step], index: int, end: int,
                  ledger: LedgerSnapshot | None, evidence: list[dict[str, Any]]) -> float:
    """Whether a lesson or note followed the crash at `index` before the next crash."""
    wrote = any(_is_write(s, "lesson add", "note add") for s in steps[index + 1:end])
    if not wrote and ledger is not None:
        start, stop = steps[index].at, _time_at(steps, end)
        wrote = start is not None and any(
            start <= at and (stop is None or at < stop) for at in ledger.lessons
        )
    evidence.append({"line": steps[index].line, "event": "crash", "lesson": wrote})
    return 1.0 if wrote else 0.0


def _time_at(steps: Sequence[Step], index: int) -> float | None:
    return steps[index].at if index < len(steps) else None


def _ledger_has_run_between(ledger: LedgerSnapshot, start: float | None,
                            stop: float | None) -> bool:
    if start is None:
        return False
    return any(start <= at and (stop is None or at < stop) for at, *_ in ledger.runs)


# -- measurements, shared by (b), (c) and (d) ------------------------------------------------


@dataclasses.dataclass
class Measurement:
    index: int
    line: int
    key: str
    value: float | None
    metric: str | None
    crashed: bool


def _measurements(steps: Sequence[Step], ledger: LedgerSnapshot | None) -> list[Measurement]:
    """Benchmark runs and `ridgeline record` calls as keyed values, in order.

    A record that follows a benchmark run (before the next one) names that run's version,
    so the two make one measurement.
    """
    found: list[Measurement] = []
    pending: Measurement | None = None
    for index, step in enumerate(steps):
        if step.kind == "bench":
            metric, value = _primary(step.data.get("metrics") or {}, ledger)
            pending = Measurement(index, step.line, f"command: {step.data.get('command')}",
                                  value, metric, bool(step.data.get("crashed")))
            found.append(pending)
        elif _is_write(step, "record"):
            metric, value = _primary(step.data.get("metrics") or {}, ledger)
            crashed = step.data.get("outcome") == "crash"
            version = step.data.get("version")
            if pending is not None and version:
                pending.key = f"version: {version}"
                pending.value = pending.value if pending.value is not None else value
                pending.metric = pending.metric or metric
                pending.crashed = pending.crashed or crashed
                pending = None
            elif version or value is not None:
                found.append(Measurement(index, step.line,
                                         f"version: {version}" if version else "unnamed",
                                         value, metric, crashed))
    return found


def _primary(
    metrics: dict[str, float], ledger: LedgerSnapshot | None
) -> tuple[str | None, float | None]:
    if not metrics:
        return None, None
    if ledger is not None and ledger.objective and ledger.objective[0] in metrics:
        name = ledger.objective[0]
    else:
        name = next(iter(metrics))
    value = metrics[name]
    return name, value if value == value else None


def _direction(metric: str | None, ledger: LedgerSnapshot | None) -> str:
    if ledger is not None and ledger.objective and ledger.objective[0] == metric:
        return ledger.objective[1]
    if not metric or _RATE_NAME.search(metric):
        return "max"
    return "min" if _COST_NAME.search(metric) else "max"


def _worse(value: float, reference: float, direction: str) -> bool:
    scale = max(abs(reference), 1e-12)
    change = (reference - value) / scale if direction == "max" else (value - reference) / scale
    return change > REGRESSION_THRESHOLD


# -- (b) reads back ----------------------------------------------------------------------


def score_reads(steps: Sequence[Step], measurements: Sequence[Measurement],
                ledger: LedgerSnapshot | None = None) -> dict:
    openings = _read_opportunities(steps)
    scores, evidence = [], []
    for position, index in enumerate(openings):
        end = openings[position + 1] if position + 1 < len(openings) else len(steps)
        verdict = _read_verdict(steps, index, end, measurements, ledger)
        if verdict is None:
            continue
        scores.append(verdict[0])
        evidence.append({"line": steps[index].line, "event": steps[index].kind, **verdict[1]})
    return _result(_mean(scores), len(scores), evidence)


def _read_opportunities(steps: Sequence[Step]) -> list[int]:
    sessions = [i for i, s in enumerate(steps) if s.kind == "session"]
    later_sessions = set(sessions[1:])
    return [i for i, s in enumerate(steps) if s.kind == "compaction" or i in later_sessions]


def _read_verdict(steps: Sequence[Step], start: int, end: int,
                  measurements: Sequence[Measurement], ledger: LedgerSnapshot | None):
    consult = act = claim = None
    for index in range(start + 1, end):
        step = steps[index]
        if consult is None and step.kind == "ridgeline_read":
            consult = index
        if act is None and (step.kind in _ACTS or _is_write(step, "record", "bench")):
            act = index
        if claim is None and consult is not None and step.kind == "claim_best":
            claim = index
    if consult is None and act is None:
        return None  # nothing happened after it: no opportunity was taken or missed
    if consult is None or (act is not None and act < consult):
        return 0.0, {"consulted": False, "acted_at": steps[act].line if act else None}
    detail: dict[str, Any] = {"consulted": True, "consulted_at": steps[consult].line}
    if claim is None:
        return 1.0, detail
    claimed = steps[claim].data["value"]
    known = _best_known(steps, claim, measurements, ledger)
    consistent = not known or any(_close(claimed, value) for value in known)
    detail.update(claim_at=steps[claim].line, claimed=claimed, held=known, consistent=consistent)
    return (1.0 if consistent else 0.5), detail


def _best_known(steps: Sequence[Step], index: int, measurements: Sequence[Measurement],
                ledger: LedgerSnapshot | None) -> list[float]:
    if ledger is not None and ledger.objective and steps[index].at is not None:
        name, direction = ledger.objective
        values = [m[name] for at, m, intent, outcome, _ in ledger.runs
                  if at <= steps[index].at and intent == "attempt" and outcome == "ok"
                  and m.get(name) is not None]
        if values:
            return [max(values) if direction == "max" else min(values)]
    values = [m.value for m in measurements
              if m.index < index and m.value is not None and not m.crashed]
    return [max(values), min(values)] if values else []


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= CLAIM_TOLERANCE * max(abs(a), abs(b), 1e-12)


# -- (c) regressions ------------------------------------------------------------------------


def score_regressions(steps: Sequence[Step], measurements: Sequence[Measurement],
                      ledger: LedgerSnapshot | None = None) -> dict:
    best: dict[str, float] = {}
    last_key: str | None = None
    superseded: set[str] = set()
    regressions = flagged = retests = 0
    evidence: list[dict[str, Any]] = []
    for position, m in enumerate(measurements):
        if m.key in superseded:
            retests += 1
            evidence.append({"line": m.line, "event": "re-test", "key": m.key})
        if m.value is not None and not m.crashed:
            direction = _direction(m.metric, ledger)
            reference = best.get(m.key)
            if reference is not None and _worse(m.value, reference, direction):
                regressions += 1
                end = (measurements[position + 1].index if position + 1 < len(measurements)
                       else len(steps))
                noticed = _flagged(steps, m.index, end)
                flagged += noticed
                evidence.append({"line": m.line, "event": "regression", "key": m.key,
                                 "value": m.value, "earlier_best": reference,
                                 "flagged": bool(noticed)})
            best[m.key] = m.value if reference is None else _better_of(
                reference, m.value, direction)
        if last_key is not None and last_key != m.key:
            superseded.add(last_key)
        last_key = m.key
    if regressions:
        return _result(flagged / regressions, regressions, evidence)
    if superseded:
        return _result(1.0 if retests else 0.0, 1, evidence)
    return _result(None, 0, evidence)


def _better_of(a: float, b: float, direction: str) -> float:
    return max(a, b) if direction == "max" else min(a, b)


def _flagged(steps: Sequence[Step], start: int, end: int) -> int:
    for step in steps[start + 1:end]:
        if step.kind == "flag_regression" or _is_write(step, "validate", "lesson add",
                                                        "note add"):
            return 1
    return 0


# -- (d) rollbacks ----------------------------------------------------------------------------


def score_rollbacks(steps: Sequence[Step], measurements: Sequence[Measurement]) -> dict:
    rollbacks = [i for i, s in enumerate(steps) if s.kind == "rollback"]
    scores, evidence = [], []
    for position, index in enumerate(rollbacks):
        end = rollbacks[position + 1] if position + 1 < len(rollbacks) else len(steps)
        oriented, act = _oriented(steps, index, end)
        exhausted = _exhausted_keys(steps, measurements, index)
        following = [m for m in measurements if index < m.index < end]
        repeated = bool(following) and following[0].key in exhausted
        scores.append(0.5 * oriented + 0.5 * (not repeated))
        evidence.append({
            "line": steps[index].line, "event": "rollback",
            "target": steps[index].data.get("target"), "oriented": oriented,
            "repeated": following[0].key if repeated else None,
            "next_action_at": steps[act].line if act is not None else None,
        })
    return _result(_mean(scores), len(scores), evidence)


def _oriented(steps: Sequence[Step], start: int, end: int) -> tuple[bool, int | None]:
    for index in range(start + 1, end):
        step = steps[index]
        if step.kind in ("ridgeline_read", "history"):
            return True, None
        if step.kind in _ACTS or _is_write(step, "record", "bench"):
            return False, index
    return False, None


def _exhausted_keys(steps: Sequence[Step], measurements: Sequence[Measurement],
                    before: int) -> set[str]:
    outcomes: dict[str, list[bool]] = {}
    for m in measurements:
        if m.index < before:
            outcomes.setdefault(m.key, []).append(m.crashed)
    exhausted = {key for key, crashes in outcomes.items() if all(crashes)}
    for step in steps[:before]:
        if _is_write(step, "version set") and step.data.get("status") == "failed":
            exhausted.add(f"version: {step.data.get('version')}")
    return exhausted

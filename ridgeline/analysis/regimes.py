"""How each regime (family of technique) is doing, and when it is exhausted.

Only attempts count here: validation and debug runs say nothing about whether a family
of technique still has something to give. A run belongs to its version's regime.

**Exhaustion rule.** A regime is exhausted when its last `EXHAUSTION_STREAK` (4)
attempts set no record and none of them was a near miss: an `ok` value within the noise
of the best standing at its time, on any objective. Crashes count as misses. Four is the
smallest streak that tells a dry family from bad luck at a useful rate: a family whose
attempts set a record one time in three still misses four in a row only one time in five
(0.67^4 = 0.20), and one that sets a record every other time, one in sixteen. It is also
where the published matching-engine run pivoted, after four failed trials of
concurrency primitives. A near miss keeps a regime open because a value within the noise
of the best may be a record that the noise hid.

**Noise** of an objective is the median, over versions run two times or more, of the
relative spread of their ok values (1.4826 times the median absolute deviation over the
median), or `DEFAULT_NOISE` (2%) when no version has been repeated.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ridgeline.analysis.frontier import RunPoint, staircase, usable
from ridgeline.models import Objective, Run, Version

EXHAUSTION_STREAK = 4
DEFAULT_NOISE = 0.02


@dataclasses.dataclass(frozen=True)
class RegimeSummary:
    """Counts for one regime, and whether it is exhausted with the runs that show it."""

    name: str
    attempts: int
    records: int
    since_record: int
    crashes: int
    best_gain: float | None
    best_gain_objective: str | None
    exhausted: bool
    streak: tuple[int, ...]
    last_attempt_run: int | None

    @property
    def crash_rate(self) -> float | None:
        return self.crashes / self.attempts if self.attempts else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "attempts": self.attempts,
            "records": self.records,
            "since_record": self.since_record,
            "crashes": self.crashes,
            "crash_rate": self.crash_rate,
            "best_gain": self.best_gain,
            "best_gain_objective": self.best_gain_objective,
            "exhausted": self.exhausted,
            "streak": list(self.streak),
            "last_attempt_run": self.last_attempt_run,
        }


def relative_noise(runs: Sequence[Run], objective: str) -> float:
    """The typical relative spread of repeated ok runs of one version (see module doc)."""
    by_version: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        value = run.metrics.get(objective)
        if run.outcome == "ok" and run.version and usable(value):
            by_version[run.version].append(value)
    spreads = []
    for values in by_version.values():
        centre = statistics.median(values)
        if len(values) >= 2 and centre != 0:
            deviation = statistics.median(abs(v - centre) for v in values)
            spreads.append(1.4826 * deviation / abs(centre))
    return statistics.median(spreads) if spreads else DEFAULT_NOISE


def summarize_regimes(
    objectives: Sequence[Objective],
    versions: Sequence[Version],
    runs: Sequence[Run],
    points: Sequence[RunPoint],
) -> list[RegimeSummary]:
    """One summary per regime that has attempts, in the order regimes were first tried.

    Args:
        objectives, versions, runs: as the ledger returns them.
        points: `ledger.run_points()`, which decides which runs count for records.
    """
    regime_of = {v.name: v.regime for v in versions if v.regime}
    attempts: dict[str, list[Run]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.at, r.id)):
        if run.intent == "attempt" and run.version in regime_of:
            attempts[regime_of[run.version]].append(run)
    gains = _record_gains(objectives, points)
    near = _near_misses(objectives, runs, points)
    return [
        _summarize(name, regime_runs, gains, near) for name, regime_runs in attempts.items()
    ]


def _summarize(name: str, runs: list[Run], gains: dict[int, tuple[str, float | None]],
               near: set[int]) -> RegimeSummary:
    record_positions = [i for i, run in enumerate(runs) if run.id in gains]
    since = len(runs) - (record_positions[-1] + 1) if record_positions else len(runs)
    tail = runs[-EXHAUSTION_STREAK:]
    exhausted = since >= EXHAUSTION_STREAK and not any(r.id in near for r in tail)
    best_gain, best_objective = None, None
    for run in runs:
        objective, gain = gains.get(run.id, (None, None))
        if gain is not None and (best_gain is None or gain > best_gain):
            best_gain, best_objective = gain, objective
    return RegimeSummary(
        name=name,
        attempts=len(runs),
        records=len(record_positions),
        since_record=since,
        crashes=sum(1 for r in runs if r.outcome == "crash"),
        best_gain=best_gain,
        best_gain_objective=best_objective,
        exhausted=exhausted,
        streak=tuple(r.id for r in tail) if exhausted else (),
        last_attempt_run=runs[-1].id if runs else None,
    )


def _record_gains(objectives: Sequence[Objective],
                  points: Sequence[RunPoint]) -> dict[int, tuple[str, float | None]]:
    """Record runs, each with its largest relative gain over the previous record (or
    the baseline, for a first record); the gain is None with nothing to compare."""
    gains: dict[int, tuple[str, float | None]] = {}
    for objective in objectives:
        previous = objective.baseline
        for point in staircase(points, objective):
            value = point.values[objective.name]
            gain = _gain(objective, value, previous)
            held = gains.get(point.id)
            if held is None or (gain is not None and (held[1] is None or gain > held[1])):
                gains[point.id] = (objective.name, gain)
            previous = value
    return gains


def _gain(objective: Objective, value: float, previous: float | None) -> float | None:
    if previous is None or previous == 0 or not math.isfinite(previous):
        return None
    change = (value - previous) / abs(previous)
    return change if objective.direction == "max" else -change


def _near_misses(objectives: Sequence[Objective], runs: Sequence[Run],
                 points: Sequence[RunPoint]) -> set[int]:
    """Ok attempts within the noise of the best standing when they ran, on any objective."""
    near: set[int] = set()
    ordered = sorted(points, key=lambda p: (p.at, p.id))
    for objective in objectives:
        noise = relative_noise(runs, objective.name)
        best: float | None = None
        for point in ordered:
            value = point.values.get(objective.name)
            if best is not None and usable(value) and _within(objective, value, best, noise):
                near.add(point.id)
            if point.counted and usable(value) and (best is None or objective.better(value, best)):
                best = value
    outcomes = {run.id: run.outcome for run in runs}
    return {run_id for run_id in near if outcomes.get(run_id) == "ok"}


def _within(objective: Objective, value: float, best: float, noise: float) -> bool:
    shortfall = best - value if objective.direction == "max" else value - best
    return shortfall <= noise * abs(best)

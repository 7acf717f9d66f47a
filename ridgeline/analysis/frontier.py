"""The frontier: best-so-far staircases, the Pareto set, headroom and hypervolume.

Pure functions over plain values, with no database. Which runs count is decided here once:
a run counts towards the frontier when it is an `ok` attempt of a version that has not
failed. Validation and debug runs, crashes and runs of failed versions are shown beside the
frontier but never move it.

A value that is missing, None or NaN puts a run off that objective's frontier and off the
Pareto set; infinities are ordinary (if extreme) values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np

from ridgeline.models import Objective, iso

# numpy is imported inside the functions that need it: agent hooks run `ridgeline` on every
# tool call, and most calls never compute a Pareto set.


class RunPoint(NamedTuple):
    """What the frontier needs to know about one run."""

    id: int
    at: datetime
    version: str | None
    values: dict[str, float | None]
    counted: bool


def is_counted(intent: str, outcome: str, version_status: str | None) -> bool:
    """Whether a run may set a record or sit on the Pareto set."""
    return intent == "attempt" and outcome == "ok" and version_status != "failed"


def usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


# -- one objective --------------------------------------------------------------------


def staircase(points: Sequence[RunPoint], objective: Objective) -> list[RunPoint]:
    """The records of one objective, oldest first: counted runs that beat all before them.

    Points are taken in time order (ties by id). A run equal to the best so far is not a
    record: the frontier only moves on a strict improvement.
    """
    records: list[RunPoint] = []
    best: float | None = None
    for point in sorted(points, key=lambda p: (p.at, p.id)):
        value = point.values.get(objective.name)
        if not point.counted or not usable(value):
            continue
        if best is None or objective.better(value, best):
            records.append(point)
            best = value
    return records


def headroom(objective: Objective, best: float | None) -> float | None:
    """The share of the baseline-to-ideal gap still open: 1 at the baseline, 0 at the ideal.

    None when the objective lacks a baseline or an ideal, or they coincide. Negative when
    the best has passed the ideal (the ideal was not a limit after all).
    """
    if best is None or objective.baseline is None or objective.ideal is None:
        return None
    gap = objective.ideal - objective.baseline
    if gap == 0:
        return None
    return (objective.ideal - best) / gap


# -- several objectives ---------------------------------------------------------------


def pareto_mask(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Which rows of an (n, d) array are not dominated by any other row.

    A row dominates another when it is at least as good in every column and strictly
    better in one. Equal rows do not dominate each other, so duplicates on the front are
    all kept. Rows with a NaN are never on the front.

    Two columns take a sort and a sweep, O(n log n); more columns take a sort and a scan
    against the front found so far.
    """
    import numpy as np

    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(maximize):
        raise ValueError("values must be an (n, d) array with one direction per column")
    signs = np.array([1.0 if up else -1.0 for up in maximize])
    oriented = values * signs  # now larger is better in every column
    finite_rows = ~np.isnan(oriented).any(axis=1)
    mask = np.zeros(len(values), dtype=bool)
    rows = np.flatnonzero(finite_rows)
    if len(rows) == 0:
        return mask
    if values.shape[1] == 1:
        column = oriented[rows, 0]
        mask[rows[column == column.max()]] = True
    elif values.shape[1] == 2:
        rows = rows[~_dominated_by_pivots(oriented[rows])]
        mask[rows[_pareto_two(oriented[rows])]] = True
    else:
        mask[rows[_pareto_many(oriented[rows])]] = True
    return mask


def _dominated_by_pivots(points: np.ndarray) -> np.ndarray:
    """Rows dominated by one of a few strong points, found in linear time.

    The best point by each coordinate and by their sum dominate most of a typical cloud, so
    the sort that follows only sees what is left. Which pivots are chosen only affects speed:
    a dominated point can never be on the front.
    """
    import numpy as np

    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN: argmax then skips it
        total = x + y
    pivots = {int(np.argmax(x)), int(np.argmax(y)), int(np.nanargmax(total))
              if not np.isnan(total).all() else 0}
    dominated = np.zeros(len(points), dtype=bool)
    for index in pivots:
        px, py = x[index], y[index]
        dominated |= (x <= px) & (y <= py) & ((x < px) | (y < py))
    return dominated


def _pareto_two(points: np.ndarray) -> np.ndarray:
    import numpy as np

    # Sort by x descending, then y descending. A point is on the front when it has the best
    # y among points with its own x, and that y beats every y seen at a strictly larger x.
    x, y = points[:, 0], points[:, 1]
    order = np.lexsort((-y, -x))
    xs, ys = x[order], y[order]
    n = len(order)
    group_start = np.ones(n, dtype=bool)
    group_start[1:] = xs[1:] != xs[:-1]
    start_index = np.maximum.accumulate(np.where(group_start, np.arange(n), 0))
    group_best = ys[start_index]
    running_best = np.maximum.accumulate(ys)
    best_before_group = np.where(
        start_index > 0, running_best[np.maximum(start_index - 1, 0)], -np.inf
    )
    first_group = start_index == 0
    on_front = (ys == group_best) & (first_group | (group_best > best_before_group))
    result = np.zeros(n, dtype=bool)
    result[order[on_front]] = True
    return result


def _pareto_many(points: np.ndarray) -> np.ndarray:
    import numpy as np

    # Lexicographic order (best first) means no point is dominated by a later one, so
    # each point only needs checking against the front kept so far.
    order = np.lexsort(tuple(-points[:, k] for k in reversed(range(points.shape[1]))))
    front: list[int] = []
    for index in order:
        candidate = points[index]
        if front:
            kept = points[front]
            dominated = np.all(kept >= candidate, axis=1) & np.any(kept > candidate, axis=1)
            if dominated.any():
                continue
        front.append(int(index))
    result = np.zeros(len(points), dtype=bool)
    result[front] = True
    return result


def hypervolume(front: np.ndarray, reference: Sequence[float], maximize: Sequence[bool]) -> float:
    """The volume dominated by `front` and bounded by the `reference` point.

    Only points strictly better than the reference in every objective contribute. Exact
    for any number of objectives by slicing on the first one; meant for fronts of a few
    thousand points at most.
    """
    import numpy as np

    signs = np.array([1.0 if up else -1.0 for up in maximize])
    points = np.asarray(front, dtype=float).reshape(-1, len(maximize)) * signs
    ref = np.asarray(reference, dtype=float) * signs
    points = points[np.all(points > ref, axis=1)]
    return float(_volume(points - ref))


def _volume(points: np.ndarray) -> float:
    import numpy as np

    # Points are offsets above the origin, larger is better. Slice along the first axis:
    # between consecutive x values, the dominated region is the (d-1)-volume of the points
    # whose x reaches that far.
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(points[:, 0].max())
    order = np.argsort(-points[:, 0], kind="stable")
    points = points[order]
    if points.shape[1] == 2:
        next_x = np.append(points[1:, 0], 0.0)
        return float(np.sum((points[:, 0] - next_x) * np.maximum.accumulate(points[:, 1])))
    total = 0.0
    for i in range(len(points)):
        next_x = points[i + 1, 0] if i + 1 < len(points) else 0.0
        width = points[i, 0] - next_x
        if width > 0:
            total += width * _volume(points[: i + 1, 1:])
    return total


# -- everything together --------------------------------------------------------------


def compute_frontier(objectives: Sequence[Objective], points: Sequence[RunPoint]) -> dict[str, Any]:
    """The frontier of a ledger in the JSON shape that `ridgeline frontier --json` prints."""
    result: dict[str, Any] = {"objectives": []}
    for objective in objectives:
        records = staircase(points, objective)
        best = records[-1] if records else None
        best_value = best.values[objective.name] if best else None
        result["objectives"].append(
            {
                **objective.to_dict(),
                "best": _describe(best, objective.name),
                "records": [
                    {**_describe(r, objective.name), "at": iso(r.at)} for r in records
                ],
                "headroom": headroom(objective, best_value),
            }
        )
    if len(objectives) >= 2:
        result.update(_pareto_summary(objectives, points))
    return result


def _describe(point: RunPoint | None, name: str) -> dict[str, Any] | None:
    if point is None:
        return None
    return {"value": point.values[name], "run": point.id, "version": point.version}


def _pareto_summary(objectives: Sequence[Objective], points: Sequence[RunPoint]) -> dict:
    import numpy as np

    names = [o.name for o in objectives]
    maximize = [o.direction == "max" for o in objectives]
    candidates = [
        p for p in points if p.counted and all(usable(p.values.get(n)) for n in names)
    ]
    matrix = np.array([[p.values[n] for n in names] for p in candidates], dtype=float)
    matrix = matrix.reshape(len(candidates), len(names))
    mask = pareto_mask(matrix, maximize) if len(candidates) else np.zeros(0, dtype=bool)
    on_front = [p for p, keep in zip(candidates, mask) if keep]
    on_front.sort(key=lambda p: (p.at, p.id))
    summary: dict[str, Any] = {
        "pareto": [
            {"run": p.id, "version": p.version, "values": {n: p.values[n] for n in names}}
            for p in on_front
        ],
        "hypervolume": None,
    }
    baselines = [o.baseline for o in objectives]
    if all(b is not None for b in baselines):
        summary["hypervolume"] = hypervolume(matrix[mask], baselines, maximize)
    return summary

"""What the evolution and Pareto charts draw, computed before anything is drawn.

Pure functions from plain ledger records (`Run`, `Version`, `Objective`) to small tuples,
so the same numbers feed the PNG/SVG drawing, the interactive HTML and the dashboard's
JSON, and tests can check a chart's content without looking at pixels.

Time on the evolution chart is *active* time: hours since the first run, with every idle
gap longer than `IDLE_GAP_HOURS` (nothing recorded, the agent stopped) shortened to
`SHORTENED_GAP_HOURS`. Each shortened gap is kept, so the axis can say where time was cut.

Crashes carry no usable value (importers often write a 0 for them), so a crash is drawn
at the best value reached so far, or at the lowest plotted value before any record.
"""

from __future__ import annotations

import math
import operator
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ridgeline.analysis.frontier import is_counted, usable
from ridgeline.errors import NotFoundError
from ridgeline.models import Objective, Run, Version

if TYPE_CHECKING:
    from ridgeline.ledger import Ledger

IDLE_GAP_HOURS = 3.0
SHORTENED_GAP_HOURS = 0.25

# Dot kinds, in drawing order (later kinds are drawn on top).
KINDS = ("attempt", "check", "crash", "record")

# A cluster of crashes or of validation runs: at least this many, and no more than
# `CLUSTER_SKIP` other runs between two neighbours of the cluster.
CLUSTER_MIN = 3
CLUSTER_SKIP = 2
# Bands closer than this share of the X axis are merged into one.
BAND_MERGE = 0.01

# Names written on one chart, per kind (records, versions out of order).
MAX_LABELS = 40

CRASH_PLACEMENT = "crashes are drawn at the best value so far"


class Dot(NamedTuple):
    """One run on the evolution chart."""

    run: int
    hours: float
    value: float
    kind: str
    version: str | None
    commit: str | None
    intent: str
    outcome: str
    description: str | None
    measured: float | None


class Label(NamedTuple):
    """A version name written beside a dot; `why` is "record" or "out of order"."""

    hours: float
    value: float
    text: str
    why: str


class Band(NamedTuple):
    """A stretch of the X axis where crashes cluster or a validation phase ran."""

    start: float
    end: float
    kind: str
    count: int


class Gap(NamedTuple):
    """An idle stretch cut from the X axis: where it sits and how long it really was."""

    hours: float
    idle_hours: float


class EvolutionData(NamedTuple):
    objective: Objective
    dots: list[Dot]
    staircase: list[tuple[float, float]]
    labels: list[Label]
    bands: list[Band]
    gaps: list[Gap]
    tool_calls: list[tuple[float, int]]
    span_hours: float
    skipped: int

    def count(self, kind: str) -> int:
        return sum(1 for dot in self.dots if dot.kind == kind)


# -- active time ----------------------------------------------------------------------


def active_hours(seconds: Sequence[float]) -> tuple[list[float], list[Gap]]:
    """Hours since the first moment, with idle gaps shortened; `seconds` must be sorted."""
    hours: list[float] = []
    gaps: list[Gap] = []
    cut = 0.0
    for index, moment in enumerate(seconds):
        # Measured from the first moment rather than summed step by step, so rounding
        # does not pile up over a hundred thousand runs.
        elapsed = (moment - seconds[0]) / 3600
        step = (moment - seconds[index - 1]) / 3600 if index else 0.0
        if step > IDLE_GAP_HOURS:
            cut += step - SHORTENED_GAP_HOURS
            gaps.append(Gap(elapsed - cut - SHORTENED_GAP_HOURS / 2, step))
        hours.append(elapsed - cut)
    return hours, gaps


# -- evolution ------------------------------------------------------------------------


def evolution(
    runs: Sequence[Run], versions: Sequence[Version], objective: Objective
) -> EvolutionData:
    """The evolution chart of one objective: dots, staircase, labels, bands, tool calls.

    Args:
        runs: every run of the ledger, in any order.
        versions: every version, for their status (a failed version never sets a record).
        objective: the objective on the Y axis.
    """
    status = {version.name: version.status for version in versions}
    ordered = sorted(runs, key=_time_order)
    hours, gaps = active_hours([run.at.timestamp() for run in ordered])
    record_ids = _record_ids(ordered, status, objective)

    dots, skipped = _dots(ordered, hours, record_ids, objective)
    steps = _staircase(dots, hours[-1] if hours else 0.0)
    return EvolutionData(
        objective=objective,
        dots=dots,
        staircase=steps,
        labels=_labels(dots, ordered),
        bands=_bands(ordered, hours),
        gaps=gaps,
        tool_calls=[
            (hour, run.tool_calls) for run, hour in zip(ordered, hours)
            if run.tool_calls is not None
        ],
        span_hours=hours[-1] if hours else 0.0,
        skipped=skipped,
    )


_time_order = operator.attrgetter("at", "id")


def _record_ids(runs: Sequence[Run], status: dict[str, str], objective: Objective) -> set[int]:
    """The runs `frontier.staircase` calls records, for runs already in time order.

    The same rule (a counted run strictly better than every counted run before it),
    walked once without building a point per run, which matters at 100,000 runs.
    """
    records: set[int] = set()
    best: float | None = None
    name = objective.name
    for run in runs:
        value = run.metrics.get(name)
        if not usable(value):
            continue
        if not is_counted(run.intent, run.outcome, status.get(run.version or "")):
            continue
        if best is None or objective.better(value, best):
            records.add(run.id)
            best = value
    return records


def _dots(
    runs: Sequence[Run], hours: Sequence[float], record_ids: set[int], objective: Objective
) -> tuple[list[Dot], int]:
    # One pass in time order: the best so far is where a crash is drawn. Written with
    # few calls per run, since it runs once per dot on a hundred thousand dots.
    lowest: list[float | None] = []  # the lowest value, looked up on the first need
    name = objective.name
    best: float | None = None
    dots: list[Dot] = []
    skipped = 0
    for run, hour in zip(runs, hours):
        measured = run.metrics.get(name)
        if measured is not None and measured != measured:  # NaN means no value
            measured = None
        crashed = run.outcome == "crash"
        if run.id in record_ids:
            best, kind = measured, "record"
        elif crashed:
            kind = "crash"
        else:
            kind = "check" if run.intent != "attempt" else "attempt"
        value = measured
        if crashed:
            if best is None and not lowest:
                lowest.append(_lowest_value(runs, objective))
            value = best if best is not None else lowest[0]
        if value is None:
            skipped += 1
            continue
        dots.append(Dot(
            run.id, hour, value, kind, run.version, run.commit, run.intent,
            run.outcome, run.description, measured,
        ))
    return dots, skipped


def _lowest_value(runs: Sequence[Run], objective: Objective) -> float | None:
    values = [
        v for run in runs if run.outcome == "ok"
        for v in [run.metrics.get(objective.name)] if usable(v) and math.isfinite(v)
    ]
    return min(values) if values else None


def _staircase(dots: Sequence[Dot], end_hours: float) -> list[tuple[float, float]]:
    """Vertices of the best-so-far line: flat until the next record, then straight up."""
    vertices: list[tuple[float, float]] = []
    for dot in dots:
        if dot.kind != "record":
            continue
        if vertices:
            vertices.append((dot.hours, vertices[-1][1]))
        vertices.append((dot.hours, dot.value))
    if vertices and end_hours > vertices[-1][0]:
        vertices.append((end_hours, vertices[-1][1]))
    return vertices


# -- labels ---------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def out_of_order_versions(names_in_time_order: Sequence[str | None]) -> set[str]:
    """Versions that first appear after a higher-numbered version of the same prefix.

    `gpu_v6` first seen after `gpu_v9` is out of order: a branch left and come back to.
    Names without a trailing number are never out of order.
    """
    highest: dict[str, int] = {}
    seen: set[str] = set()
    late: set[str] = set()
    for name in names_in_time_order:
        if name is None or name in seen:
            continue
        seen.add(name)
        match = _NUMBERED.match(name)
        if match is None:
            continue
        prefix, number = match.group(1), int(match.group(2))
        if number < highest.get(prefix, -1):
            late.add(name)
        highest[prefix] = max(highest.get(prefix, -1), number)
    return late


def _labels(dots: Sequence[Dot], runs: Sequence[Run]) -> list[Label]:
    late = out_of_order_versions([run.version for run in runs])
    labels: list[Label] = []
    named: set[str] = set()
    for dot in dots:
        if dot.version is None or dot.version in named:
            continue
        if dot.kind == "record":
            labels.append(Label(dot.hours, dot.value, dot.version, "record"))
            named.add(dot.version)
        elif dot.version in late and dot.kind != "crash":
            labels.append(Label(dot.hours, dot.value, dot.version, "out of order"))
            named.add(dot.version)
    return _fewest_labels(labels)


def _fewest_labels(labels: list[Label]) -> list[Label]:
    """At most MAX_LABELS of each kind: the largest steps of the staircase (and its
    first and last record), and the earliest versions out of order.

    Hundreds of names on one chart cover each other and the dots.
    """
    records = [label for label in labels if label.why == "record"]
    late = [label for label in labels if label.why != "record"][:MAX_LABELS]
    if len(records) > MAX_LABELS:
        steps = sorted(
            range(1, len(records) - 1),
            key=lambda i: -abs(records[i].value - records[i - 1].value),
        )
        keep = {0, len(records) - 1, *steps[: MAX_LABELS - 2]}
        records = [label for i, label in enumerate(records) if i in keep]
    return sorted(records + late, key=lambda label: label.hours)


# -- thinning -------------------------------------------------------------------------


def thinned(data: EvolutionData, max_dots: int) -> EvolutionData:
    """The same chart with at most about `max_dots` gray dots, as many orange ones and
    as many points on the tool-call line.

    Records, crashes and labelled dots are always kept. Gray (attempt) and orange
    (validation) dots are binned along X and only each bin's lowest and highest stay,
    so each cloud keeps its outline.
    """
    keep: set[int] = set()
    for kind in ("attempt", "check"):
        dots = [dot for dot in data.dots if dot.kind == kind]
        keep |= _outline(dots, max_dots, data.span_hours)
    labelled = {(label.text, label.hours) for label in data.labels}
    keep |= {
        dot.run for dot in data.dots
        if dot.kind in ("record", "crash") or (dot.version, dot.hours) in labelled
    }
    return data._replace(
        dots=[dot for dot in data.dots if dot.run in keep],
        tool_calls=_every_nth(data.tool_calls, max_dots),
    )


def _every_nth(points: list[tuple[float, int]], most: int) -> list[tuple[float, int]]:
    # Cumulative tool calls only grow, so a sample keeps the line's shape; keep the end.
    if len(points) <= most:
        return points
    step = -(-len(points) // most)
    sample = points[::step]
    return sample if sample[-1] == points[-1] else [*sample, points[-1]]


def _outline(dots: Sequence[Dot], max_dots: int, span: float) -> set[int]:
    """Runs of the lowest and highest dot in each of max_dots / 2 slices of the X axis."""
    if len(dots) <= max_dots:
        return {dot.run for dot in dots}
    bins = max(1, max_dots // 2)
    hours = np.fromiter((dot.hours for dot in dots), float, len(dots))
    values = np.fromiter((dot.value for dot in dots), float, len(dots))
    slots = np.minimum((hours / ((span or 1.0) / bins)).astype(int), bins - 1)
    order = np.lexsort((values, slots))
    ordered_slots = slots[order]
    first = np.flatnonzero(np.r_[True, ordered_slots[1:] != ordered_slots[:-1]])
    last = np.r_[first[1:] - 1, len(order) - 1]
    return {dots[i].run for i in np.r_[order[first], order[last]]}


# -- bands ----------------------------------------------------------------------------


def clusters(flags: Sequence[bool], minimum: int = CLUSTER_MIN, skip: int = CLUSTER_SKIP):
    """Index spans (first, last, count) of flagged items that sit close together.

    A span holds at least `minimum` flagged items, with at most `skip` unflagged items
    between two neighbours.
    """
    spans: list[tuple[int, int, int]] = []
    first = last = -1
    count = 0
    for index, flagged in enumerate(flags):
        if not flagged:
            continue
        if count and index - last - 1 <= skip:
            last, count = index, count + 1
            continue
        if count >= minimum:
            spans.append((first, last, count))
        first = last = index
        count = 1
    if count >= minimum:
        spans.append((first, last, count))
    return spans


def _bands(runs: Sequence[Run], hours: Sequence[float]) -> list[Band]:
    bands: list[Band] = []
    crashed = [run.outcome == "crash" for run in runs]
    checking = [run.intent in ("validation", "debug") and run.outcome == "ok" for run in runs]
    span = hours[-1] if hours else 0.0
    for kind, flags in (("crashes", crashed), ("validation", checking)):
        found = [
            Band(hours[first], hours[last], kind, count)
            for first, last, count in clusters(flags)
        ]
        bands += _merge_close(found, BAND_MERGE * span)
    return bands


def _merge_close(bands: list[Band], distance: float) -> list[Band]:
    # In a long ledger small clusters fall close together; bands closer than a sliver
    # of the X axis would be drawn as one anyway, so they become one.
    merged: list[Band] = []
    for band in bands:
        if merged and band.start - merged[-1].end <= distance:
            last = merged[-1]
            merged[-1] = Band(last.start, band.end, last.kind, last.count + band.count)
        else:
            merged.append(band)
    return merged


# -- Pareto ---------------------------------------------------------------------------


class ParetoPoint(NamedTuple):
    """One version on the Pareto chart, at the values of its representative run."""

    run: int
    version: str | None
    x: float
    y: float
    status: str | None
    regime: str | None
    commit: str | None
    description: str | None
    hours: float
    intent: str = "attempt"


class RegimeCluster(NamedTuple):
    """Failed trials of one regime, with where to write the regime's name."""

    regime: str
    points: list[ParetoPoint]
    x: float
    y: float


class ParetoData(NamedTuple):
    x_objective: Objective
    y_objective: Objective
    frontier: list[ParetoPoint]
    failed: list[ParetoPoint]
    others: list[ParetoPoint]
    clusters: list[RegimeCluster]
    baseline: tuple[float, float] | None
    ideal: tuple[float, float] | None
    better: tuple[int, int]


def pareto(
    runs: Sequence[Run],
    versions: Sequence[Version],
    x_objective: Objective,
    y_objective: Objective,
) -> ParetoData:
    """The Pareto chart of two objectives, one point per version.

    A version is drawn at its latest ok attempt that measured both objectives (the code
    as it stands), or its latest ok run when it has no such attempt: a validation run
    labelled with a version may be an ablation of it, not the version itself. Committed
    versions form the frontier path in the order they were found; failed versions are
    grouped by regime.
    """
    by_name = {version.name: version for version in versions}
    ordered = sorted(runs, key=_time_order)
    hours, _ = active_hours([run.at.timestamp() for run in ordered])
    points = _version_points(ordered, hours, by_name, x_objective.name, y_objective.name)

    frontier = sorted((p for p in points if p.status == "committed"), key=_found_order)
    failed = [p for p in points if p.status == "failed"]
    others = [p for p in points if p.status not in ("committed", "failed")]
    return ParetoData(
        x_objective=x_objective,
        y_objective=y_objective,
        frontier=frontier,
        failed=failed,
        others=others,
        clusters=_regime_clusters(failed),
        baseline=_pair(x_objective.baseline, y_objective.baseline),
        ideal=_pair(x_objective.ideal, y_objective.ideal),
        better=(_sign(x_objective), _sign(y_objective)),
    )


def _version_points(
    runs: Sequence[Run], hours: Sequence[float], by_name: dict[str, Version], x: str, y: str
) -> list[ParetoPoint]:
    latest: dict[str, tuple[bool, ParetoPoint]] = {}
    first_seen: dict[str, float] = {}
    for run, hour in zip(runs, hours):
        vx, vy = run.metrics.get(x), run.metrics.get(y)
        if run.outcome != "ok" or not (usable(vx) and usable(vy)):
            continue
        # A run without a version stands for itself.
        name = run.version if run.version is not None else f"run {run.id}"
        version = by_name.get(run.version or "")
        first_seen.setdefault(name, hour)
        attempt = run.intent == "attempt"
        if not attempt and latest.get(name, (False,))[0]:
            continue
        latest[name] = (attempt, ParetoPoint(
            run.id, run.version, vx, vy, version.status if version else None,
            version.regime if version else None, run.commit, run.description,
            first_seen[name], run.intent,
        ))
    return [point for _, point in latest.values()]


def _found_order(point: ParetoPoint) -> tuple[float, int]:
    return (point.hours, point.run)


def _regime_clusters(failed: Sequence[ParetoPoint]) -> list[RegimeCluster]:
    groups: dict[str, list[ParetoPoint]] = defaultdict(list)
    for point in failed:
        groups[point.regime or "no regime"].append(point)
    return [
        RegimeCluster(
            regime, members,
            sum(p.x for p in members) / len(members),
            sum(p.y for p in members) / len(members),
        )
        for regime, members in groups.items()
    ]


def _pair(x: float | None, y: float | None) -> tuple[float, float] | None:
    return None if x is None or y is None else (x, y)


def _sign(objective: Objective) -> int:
    return 1 if objective.direction == "max" else -1


# -- JSON -----------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def evolution_json(data: EvolutionData) -> dict[str, Any]:
    """The evolution chart as plain JSON for the browser (no NaN, no infinity)."""
    return {
        "objective": data.objective.to_dict(),
        "dots": [
            {**dot._asdict(), "value": _finite(dot.value), "measured": _finite(dot.measured)}
            for dot in data.dots
        ],
        "staircase": [[x, _finite(y)] for x, y in data.staircase],
        "labels": [label._asdict() for label in data.labels],
        "bands": [band._asdict() for band in data.bands],
        "gaps": [gap._asdict() for gap in data.gaps],
        "tool_calls": [[x, calls] for x, calls in data.tool_calls],
        "span_hours": data.span_hours,
        "crash_placement": CRASH_PLACEMENT,
        "idle_gap_hours": IDLE_GAP_HOURS,
    }


def pareto_json(data: ParetoData) -> dict[str, Any]:
    """The Pareto chart as plain JSON for the browser."""

    def points(items: Sequence[ParetoPoint]) -> list[dict[str, Any]]:
        return [
            {**p._asdict(), "x": _finite(p.x), "y": _finite(p.y)} for p in items
        ]

    return {
        "x_objective": data.x_objective.to_dict(),
        "y_objective": data.y_objective.to_dict(),
        "frontier": points(data.frontier),
        "failed": points(data.failed),
        "others": points(data.others),
        "clusters": [
            {"regime": c.regime, "x": c.x, "y": c.y, "runs": [p.run for p in c.points]}
            for c in data.clusters
        ],
        "baseline": data.baseline,
        "ideal": data.ideal,
        "better": data.better,
    }



# -- from a ledger ---------------------------------------------------------------------


def choose_objectives(ledger: Ledger, names: Sequence[str | None], count: int) -> list[Objective]:
    """The objectives named, or the ledger's first `count` ones where a name is None.

    Raises:
        NotFoundError: a named objective does not exist, or the ledger has too few.
    """
    declared = ledger.objectives()
    chosen = [ledger.objective(name) for name in names if name is not None]
    for objective in declared:
        if len(chosen) >= count:
            break
        if objective not in chosen:
            chosen.append(objective)
    if len(chosen) < count:
        raise NotFoundError(
            f"this chart needs {count} objective(s) and the ledger has {len(declared)}; "
            "add one with 'ridgeline objective add'"
        )
    return chosen[:count]


def evolution_of(ledger: Ledger, objective: str | None = None) -> EvolutionData:
    """The evolution chart of a ledger's objective (its first one by default)."""
    (chosen,) = choose_objectives(ledger, [objective], 1)
    return evolution(ledger.runs(), ledger.versions(), chosen)


def pareto_of(ledger: Ledger, x: str | None = None, y: str | None = None) -> ParetoData:
    """The Pareto chart of two of a ledger's objectives (its first two by default)."""
    x_objective, y_objective = choose_objectives(ledger, [x, y], 2)
    if x_objective == y_objective:
        raise NotFoundError("the Pareto chart needs two different objectives")
    return pareto(ledger.runs(), ledger.versions(), x_objective, y_objective)

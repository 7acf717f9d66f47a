"""Static charts (PNG, SVG) drawn with matplotlib from `ridgeline.analysis.chartdata`.

Figures are built with `matplotlib.figure.Figure` directly, never through pyplot, so
drawing touches no global state and needs no display. Every artist that carries chart
content has a `gid` (`dots:record`, `staircase`, `label:gpu_v6`...) so tests can read the
figure back without looking at pixels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ridgeline.analysis.chartdata import (
    IDLE_GAP_HOURS,
    KINDS,
    EvolutionData,
    ParetoData,
    ParetoPoint,
)
from ridgeline.errors import InputError, RidgelineError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

COLOURS = {
    "attempt": "#9a9a9a",
    "record": "#2ca02c",
    "check": "#ff8c1a",
    "crash": "#d62728",
    "frontier": "#111111",
    "baseline": "#444444",
    "ideal": "#7b3fb5",
    "tool_calls": "#1f77b4",
}
LEGEND = {
    "attempt": "attempt (not a record)",
    "record": "record",
    "check": "validation or debug",
    "crash": "crash (at best so far)",
}
FORMATS = ("png", "svg")

# Above this many dots a scatter is rasterized inside an SVG, or the file gets huge.
RASTER_ABOVE = 5000


def _figure(width: float = 11, height: float = 6, right: float = 0.92) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RidgelineError(
            "charts need matplotlib: pip install 'ridgeline[charts]'"
        ) from None
    # Fixed margins rather than a layout engine: constrained layout measures every text
    # artist several times, which costs seconds on a chart with hundreds of labels.
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=0.08, right=right, bottom=0.09, top=0.9)
    return figure


def save(figure: Figure, path: str | Path) -> Path:
    """Write a figure as PNG or SVG, chosen by the file's extension.

    Raises:
        InputError: the extension is neither .png nor .svg.
    """
    path = Path(path)
    extension = path.suffix.lower().lstrip(".")
    if extension not in FORMATS:
        raise InputError(
            f"expected a .png or .svg file, got {path.name!r}", field="--output"
        )
    from ridgeline.report import check_output_folder

    check_output_folder(path)
    figure.savefig(path, format=extension, dpi=120)
    logger.info("wrote %s", path)
    return path


def _axis_title(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


# -- evolution ------------------------------------------------------------------------


def draw_evolution(data: EvolutionData, log: bool = False) -> Figure:
    """The evolution chart: dots by kind, frontier staircase, baseline, labels, bands.

    Args:
        data: from `chartdata.evolution`.
        log: a logarithmic Y axis.
    """
    figure = _figure()
    axes = figure.add_subplot()
    objective = data.objective

    _draw_bands(axes, data)
    _draw_dots(axes, data)
    _draw_staircase(axes, data)
    _draw_reference_lines(axes, data)
    _draw_labels(axes, data)
    if log:
        axes.set_yscale("log")
    else:
        _focus_values(axes, data)
    if data.tool_calls:
        _draw_tool_calls(axes, data)

    axes.set_xlabel(_time_axis_title(data))
    axes.set_ylabel(_axis_title(objective.name, objective.unit))
    better = "higher" if objective.direction == "max" else "lower"
    # Band names sit just above the plot, so the title needs room.
    axes.set_title(f"{objective.name} over active time ({better} is better)", pad=16)
    axes.set_xlim(left=min(0.0, -0.02 * data.span_hours), right=data.span_hours * 1.03 or 1)
    axes.grid(True, alpha=0.25)
    if axes.get_legend_handles_labels()[0]:
        # Away from where the staircase starts: it starts high when lower is better.
        where = "upper right" if objective.direction == "min" else "upper left"
        axes.legend(loc=where, fontsize=8, framealpha=0.9)
    return figure


def _time_axis_title(data: EvolutionData) -> str:
    title = "active hours since the first run"
    if data.gaps:
        count = len(data.gaps)
        title += (
            f" ({count} idle gap{'s' if count > 1 else ''} over {IDLE_GAP_HOURS:g} h"
            " cut short, dotted)"
        )
    return title


def _draw_dots(axes: Axes, data: EvolutionData) -> None:
    for kind in KINDS:
        dots = [dot for dot in data.dots if dot.kind == kind]
        if not dots:
            continue
        size = 36 if kind == "record" else 14
        collection = axes.scatter(
            np.fromiter((dot.hours for dot in dots), float, len(dots)),
            np.fromiter((dot.value for dot in dots), float, len(dots)),
            s=size,
            c=COLOURS[kind],
            marker="X" if kind == "crash" else "o",
            # One edge colour keeps matplotlib on its fast path (stamp one marker
            # many times); "none" would send a hundred thousand dots down the slow one.
            edgecolors="black" if kind == "record" else "face",
            linewidths=0.5,
            label=f"{LEGEND[kind]} ({len(dots)})",
            zorder=3 if kind != "attempt" else 2,
            rasterized=len(dots) > RASTER_ABOVE,
        )
        collection.set_gid(f"dots:{kind}")


def _draw_staircase(axes: Axes, data: EvolutionData) -> None:
    if not data.staircase:
        return
    xs, ys = zip(*data.staircase)
    (line,) = axes.plot(xs, ys, color=COLOURS["frontier"], lw=1.6, label="frontier", zorder=4)
    line.set_gid("staircase")


def _draw_reference_lines(axes: Axes, data: EvolutionData) -> None:
    objective = data.objective
    unit = f" {objective.unit}" if objective.unit else ""
    for name, value, style in (
        ("baseline", objective.baseline, "--"),
        ("ideal", objective.ideal, ":"),
    ):
        if value is None:
            continue
        line = axes.axhline(value, color=COLOURS[name], ls=style, lw=1.2, zorder=1)
        line.set_gid(name)
        text = axes.annotate(
            f"{name} {value:g}{unit}",
            xy=(1, value),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color=COLOURS[name],
        )
        text.set_gid(f"{name}-label")


def _draw_labels(axes: Axes, data: EvolutionData) -> None:
    for label, offset in _place_labels(data):
        late = label.why == "out of order"
        text = axes.annotate(
            f"{label.text} (late)" if late else label.text,
            xy=(label.hours, label.value),
            xytext=offset,
            textcoords="offset points",
            fontsize=8,
            style="italic" if late else "normal",
            color="#a65300" if late else "#145a14",
            zorder=5,
        )
        text.set_gid(f"label:{label.text}")


# Two lanes, above and below the dots; a label needs this share of the X span to itself.
_LANES = ((5, 7), (5, -11))
_LABEL_GAP = 0.07


def _place_labels(data: EvolutionData) -> list[tuple[Any, tuple[int, int]]]:
    """Each label with its lane; a label that would overprint a neighbour in both lanes is
    left out. The last record is always named."""
    ordered = sorted(data.labels, key=lambda label: label.hours)
    last_record = max(
        (label for label in ordered if label.why == "record"),
        key=lambda label: label.hours, default=None,
    )
    gap = _LABEL_GAP * max(data.span_hours, 1e-9)
    lane_ends = [-float("inf")] * len(_LANES)
    placed = []
    for label in ordered:
        free = [i for i, end in enumerate(lane_ends) if label.hours - end >= gap]
        must = label is last_record
        if not free and not must:
            continue
        lane = free[0] if free else min(range(len(_LANES)), key=lambda i: lane_ends[i])
        lane_ends[lane] = label.hours
        placed.append((label, _LANES[lane]))
    return placed


def _focus_values(axes: Axes, data: EvolutionData) -> None:
    """Keep the Y axis on the records when a few wild values would flatten them.

    The range covers every record, the baseline and ideal, and the values inside a wide
    fence around the middle half (three interquartile ranges beyond the quartiles). Dots
    beyond it are counted in a note at the edge, not silently lost.
    """
    values = np.array([dot.value for dot in data.dots if np.isfinite(dot.value)], float)
    anchors = [y for _, y in data.staircase]
    anchors += [v for v in (data.objective.baseline, data.objective.ideal) if v is not None]
    if len(values) < 20 or not anchors:
        return
    first, third = np.percentile(values, [25, 75])
    spread = 3 * (third - first)
    inside = values[(values >= first - spread) & (values <= third + spread)]
    low = min(inside.min(), *anchors)
    high = max(inside.max(), *anchors)
    if high <= low or (values.max() - values.min()) < 3 * (high - low):
        return  # nothing wild: matplotlib's own range is fine
    pad = 0.08 * (high - low)
    low, high = low - pad, high + pad
    axes.set_ylim(low, high)
    above, below = int((values > high).sum()), int((values < low).sum())
    notes = [f"{above} above the scale (up to {values.max():.4g})" if above else "",
             f"{below} below the scale (down to {values.min():.4g})" if below else ""]
    # The corner the staircase leaves empty: bottom left when lower is better.
    corner = (0.01, 0.01, "left", "bottom") if data.objective.direction == "min" else (
        0.99, 0.01, "right", "bottom")
    note = axes.annotate(
        "; ".join(n for n in notes if n) + " not shown",
        xy=corner[:2], xycoords="axes fraction", ha=corner[2], va=corner[3], fontsize=8,
        color="#555555",
    )
    note.set_gid("off-scale")


def _draw_bands(axes: Axes, data: EvolutionData) -> None:
    pad = max(data.span_hours * 0.004, 0.01)
    colours = {"crashes": COLOURS["crash"], "validation": COLOURS["check"]}
    for band in data.bands:
        patch = axes.axvspan(
            band.start - pad, band.end + pad, color=colours[band.kind], alpha=0.09, lw=0,
            zorder=0,
        )
        patch.set_gid(f"band:{band.kind}")
        axes.annotate(
            f"{band.kind} ({band.count})",
            xy=((band.start + band.end) / 2, 1),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color=colours[band.kind],
        )
    for gap in data.gaps:
        line = axes.axvline(gap.hours, color="#777777", ls=":", lw=1, zorder=0)
        line.set_gid("gap")


def _draw_tool_calls(axes: Axes, data: EvolutionData) -> None:
    twin = axes.twinx()
    xs, calls = np.asarray(data.tool_calls, dtype=float).T
    (line,) = twin.plot(
        xs, calls, color=COLOURS["tool_calls"], lw=1, alpha=0.6, label="cumulative tool calls"
    )
    line.set_gid("tool_calls")
    twin.set_ylabel("cumulative tool calls", color=COLOURS["tool_calls"])
    twin.set_ylim(bottom=0)
    twin.legend(loc="lower right", fontsize=8, framealpha=0.9)


# -- Pareto ---------------------------------------------------------------------------


def draw_pareto(data: ParetoData) -> Figure:
    """The Pareto chart: the frontier path with arrows, failed trials by regime,
    baseline, ideal and a marker of the better corner."""
    figure = _figure(9, 6.5, right=0.97)  # no second axis on the right
    axes = figure.add_subplot()

    _draw_frontier_path(axes, data)
    _draw_failed(axes, data)
    _draw_others(axes, data)
    _draw_reference_points(axes, data)
    _draw_better_corner(axes, data)

    x, y = data.x_objective, data.y_objective
    axes.set_xlabel(f"{_axis_title(x.name, x.unit)}, {_direction_word(x.direction)}")
    axes.set_ylabel(f"{_axis_title(y.name, y.unit)}, {_direction_word(y.direction)}")
    axes.set_title(f"{y.name} against {x.name}: versions in the order found")
    axes.grid(True, alpha=0.25)
    axes.margins(0.12)
    _leave_room_in_better_corner(axes, data)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="best", fontsize=8, framealpha=0.9)
    return figure


def _direction_word(direction: str) -> str:
    return "higher is better" if direction == "max" else "lower is better"


def _draw_frontier_path(axes: Axes, data: ParetoData) -> None:
    points = data.frontier
    if not points:
        return
    collection = axes.scatter(
        [p.x for p in points], [p.y for p in points], s=60, c=COLOURS["record"],
        edgecolors="black", linewidths=0.6, zorder=4, label="committed versions",
    )
    collection.set_gid("pareto:frontier")
    path = [(p.x, p.y) for p in points]
    # Start from the baseline, unless a committed version sits on it already.
    if data.baseline and data.baseline != path[0]:
        path.insert(0, data.baseline)
    for start, end in zip(path, path[1:]):
        arrow = axes.annotate(
            "", xy=end, xytext=start,
            arrowprops={"arrowstyle": "-|>", "color": COLOURS["frontier"], "lw": 1.3},
            zorder=3,
        )
        arrow.set_gid("pareto:arrow")
    for point in points:
        _name_point(axes, point, "#145a14")


def _name_point(axes: Axes, point: ParetoPoint, colour: str, slant: int = 0) -> None:
    text = axes.annotate(
        point.version or f"run {point.run}", xy=(point.x, point.y),
        xytext=(4, 6 if slant >= 0 else -6), rotation=slant,
        rotation_mode="anchor", textcoords="offset points", fontsize=8, color=colour,
    )
    text.set_gid(f"label:{point.version or point.run}")


def _draw_failed(axes: Axes, data: ParetoData) -> None:
    if not data.failed:
        return
    collection = axes.scatter(
        [p.x for p in data.failed], [p.y for p in data.failed], s=50, c=COLOURS["crash"],
        marker="x", linewidths=1.6, zorder=4, label="failed trials",
    )
    collection.set_gid("pareto:failed")
    middle = {cluster.regime: cluster.y for cluster in data.clusters}
    for point in data.failed:
        # Failed trials crowd together: slant names up or down, away from the middle.
        down = point.y < middle[point.regime or "no regime"]
        _name_point(axes, point, "#8c1c1c", slant=-40 if down else 40)
    for cluster in data.clusters:
        xs = [p.x for p in cluster.points]
        ys = [p.y for p in cluster.points]
        ring = axes.plot(
            [min(xs), max(xs), max(xs), min(xs), min(xs)],
            [min(ys), min(ys), max(ys), max(ys), min(ys)],
            color=COLOURS["crash"], lw=0.8, ls="--", alpha=0.6,
        )[0]
        ring.set_gid(f"regime-box:{cluster.regime}")
        text = axes.annotate(
            f"{cluster.regime}\n({len(cluster.points)} failed)",
            # Names of points below the middle slant downwards; write beneath them.
            xy=(cluster.x, min(ys)), xytext=(0, -62 if len(xs) > 1 else -14),
            textcoords="offset points",
            fontsize=8, color="#8c1c1c", va="top", ha="center", weight="bold",
        )
        text.set_gid(f"regime:{cluster.regime}")


def _draw_others(axes: Axes, data: ParetoData) -> None:
    if not data.others:
        return
    collection = axes.scatter(
        [p.x for p in data.others], [p.y for p in data.others], s=18,
        c=COLOURS["attempt"], zorder=2, label="other versions",
    )
    collection.set_gid("pareto:others")


def _draw_reference_points(axes: Axes, data: ParetoData) -> None:
    for name, point, marker, colour in (
        ("baseline", data.baseline, "s", COLOURS["baseline"]),
        ("ideal", data.ideal, "*", COLOURS["ideal"]),
    ):
        if point is None:
            continue
        marker_artist = axes.scatter(
            [point[0]], [point[1]], s=120 if marker == "*" else 50, marker=marker, c=colour,
            zorder=5, label=name,
        )
        marker_artist.set_gid(f"pareto:{name}")
        # A version measured at the reference point is named already; a second name on
        # the same spot would print over the first.
        if any((p.x, p.y) == tuple(point) for p in (*data.frontier, *data.others)):
            continue
        axes.annotate(
            name, xy=point, xytext=(7, -4), textcoords="offset points", fontsize=9,
            color=colour,
        )


def _leave_room_in_better_corner(axes: Axes, data: ParetoData) -> None:
    # The ideal point sits near the better corner by nature; widen the axes on that
    # side so the corner marker does not cover it.
    for sign, limits, setter in (
        (data.better[0], axes.get_xlim(), axes.set_xlim),
        (data.better[1], axes.get_ylim(), axes.set_ylim),
    ):
        room = 0.15 * (limits[1] - limits[0])
        setter(limits[0], limits[1] + room) if sign > 0 else setter(limits[0] - room, limits[1])


def _draw_better_corner(axes: Axes, data: ParetoData) -> None:
    # Point an arrow into the corner where both objectives improve, whatever the
    # directions, so a reader never has to work out which way is up.
    x_sign, y_sign = data.better
    corner = (0.98 if x_sign > 0 else 0.02, 0.98 if y_sign > 0 else 0.02)
    start = (corner[0] - 0.1 * x_sign, corner[1] - 0.1 * y_sign)
    marker = axes.annotate(
        "better", xy=corner, xytext=start, xycoords="axes fraction",
        textcoords="axes fraction", ha="center", va="center", fontsize=9,
        color="#145a14", weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#145a14", "lw": 1.5},
    )
    marker.set_gid("better")

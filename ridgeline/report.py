"""A self-contained HTML report of a ledger, and single-chart HTML pages.

The file opens with no network: Chart.js, ridgeline's chart code and the stylesheet are
inlined, and the chart data rides along as JSON in a `<script type="application/json">`
block. Every piece of ledger text goes through `html.escape`, and the JSON block has
every `<` escaped so a run description cannot close the script early.
"""

from __future__ import annotations

import html
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ridgeline.analysis import chartdata
from ridgeline.analysis.regimes import summarize_regimes
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import Run, Version

logger = logging.getLogger(__name__)

SCRIPTS = ("chart.umd.min.js", "charts.js")


def static_text(name: str) -> str:
    """A file bundled in `ridgeline/static/`."""
    return resources.files("ridgeline").joinpath("static", name).read_text(encoding="utf-8")


def _inline_scripts() -> str:
    parts = []
    for name in SCRIPTS:
        # A source-map comment would make an open developer console reach for a file
        # that is not there; the inlined copy does without it.
        text = "\n".join(
            line for line in static_text(name).splitlines()
            if not line.startswith("//# sourceMappingURL=")
        )
        parts.append(f"<script>/* {name} */\n{text}\n</script>")
    return "\n".join(parts)


def _json_block(element_id: str, data: Any) -> str:
    # Inside <script> the HTML parser still reacts to "</script" and "<!--"; with every
    # "<" written as \u003c no ledger text can end the block or change the parser state.
    text = json.dumps(data, allow_nan=False, default=str).replace("<", "\\u003c")
    return f'<script id="{element_id}" type="application/json">{text}</script>'


def _page(title: str, body: str, data: dict[str, Any]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{static_text('ridgeline.css')}</style></head>\n<body>\n{body}\n"
        f"{_json_block('ridgeline-data', data)}\n{_inline_scripts()}\n"
        f"<script>{static_text('report.js')}</script>\n</body></html>\n"
    )


def check_output_folder(path: Path) -> None:
    """Refuse an output file whose folder is missing, before any work is done for it."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"no folder {folder} to write {path.name} into", field="--output")


def write_html(text: str, path: str | Path) -> Path:
    """Write a page through a temporary file, so a reader never sees half of it."""
    path = Path(path)
    check_output_folder(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    # mkstemp makes the file private (0600); a report is meant to be shared like any file
    # the user writes, so give it the permissions the umask would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)
    logger.info("wrote %s", path)
    return path


# -- one chart ------------------------------------------------------------------------


def evolution_page(data: chartdata.EvolutionData, log: bool = False) -> str:
    """One interactive evolution chart as a complete HTML page."""
    body = f"<h1>{html.escape(data.objective.name)}</h1>" + _canvas("evolution-0")
    return _page(
        f"ridgeline: {data.objective.name}",
        body,
        {"evolution": [chartdata.evolution_json(data)], "log": log},
    )


def pareto_page(data: chartdata.ParetoData) -> str:
    """One interactive Pareto chart as a complete HTML page."""
    title = f"{data.y_objective.name} against {data.x_objective.name}"
    body = f"<h1>{html.escape(title)}</h1>" + _canvas("pareto")
    return _page(f"ridgeline: {title}", body, {"pareto": chartdata.pareto_json(data)})


def _canvas(element_id: str) -> str:
    return f'<div class="chart"><canvas id="{element_id}"></canvas></div>'


# -- the report -----------------------------------------------------------------------


def build_report(ledger: Ledger) -> str:
    """The whole report of a ledger as one HTML page.

    It holds one evolution chart per objective, the Pareto chart of the first two
    objectives, the frontier, regimes, lessons and crash clusters.
    """
    runs, versions, objectives = ledger.runs(), ledger.versions(), ledger.objectives()
    evolutions = [chartdata.evolution(runs, versions, o) for o in objectives]
    pareto = (
        chartdata.pareto(runs, versions, objectives[0], objectives[1])
        if len(objectives) >= 2 else None
    )
    frontier = ledger.frontier()
    lessons = ledger.lessons()

    sections = [
        _summary(ledger, runs, versions),
        _charts_section(evolutions, pareto),
        _frontier_section(frontier),
        _regimes_section(regime_rows(ledger, runs, versions)),
        _lessons_section(lessons),
        _crash_section(runs, evolutions, lessons),
    ]
    data = {
        "evolution": [chartdata.evolution_json(e) for e in evolutions],
        "pareto": chartdata.pareto_json(pareto) if pareto else None,
        "log": False,
    }
    return _page("ridgeline report", "\n".join(sections), data)


def _summary(ledger: Ledger, runs: Sequence[Run], versions: Sequence[Version]) -> str:
    crashes = sum(run.outcome == "crash" for run in runs)
    span = ""
    if runs:
        span = f", from {runs[0].at:%Y-%m-%d %H:%M} to {runs[-1].at:%Y-%m-%d %H:%M} UTC"
    return (
        "<h1>ridgeline report</h1>"
        f"<p class=\"summary\">{len(runs)} runs ({crashes} crashed) of {len(versions)} "
        f"versions{span}. Ledger: <code>{html.escape(ledger.location)}</code></p>"
    )


def _charts_section(evolutions: Sequence, pareto: chartdata.ParetoData | None) -> str:
    if not evolutions:
        return "<h2>Charts</h2><p>No objectives yet.</p>"
    parts = [
        "<h2>Charts</h2>",
        '<label class="toggle"><input type="checkbox" id="log-scale"> logarithmic Y axis'
        "</label>",
    ]
    parts += [_canvas(f"evolution-{i}") for i in range(len(evolutions))]
    if pareto is not None:
        parts.append(_canvas("pareto"))
    return "\n".join(parts)


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: Any) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value))


def _frontier_section(frontier: dict[str, Any]) -> str:
    parts = ["<h2>Frontier</h2>"]
    for item in frontier["objectives"]:
        unit = f" {item['unit']}" if item["unit"] else ""
        headroom = "" if item["headroom"] is None else f", headroom {item['headroom']:.0%}"
        parts.append(
            f"<h3>{html.escape(item['name'])} ({item['direction']}imize{html.escape(unit)}"
            f"{headroom})</h3>"
        )
        parts.append(_table(
            ["version", "value", "run", "at"],
            [(r["version"], r["value"], r["run"], r["at"]) for r in item["records"]],
            "frontier",
        ))
    if frontier.get("pareto"):
        names = [item["name"] for item in frontier["objectives"]]
        parts.append("<h3>Pareto set</h3>")
        parts.append(_table(
            ["version", "run", *names],
            [(p["version"], p["run"], *(p["values"][n] for n in names))
             for p in frontier["pareto"]],
            "pareto",
        ))
    return "\n".join(parts)


def _regimes_section(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<h2>Regimes</h2><p>No attempts of a version with a regime yet.</p>"
    columns = list(rows[0])
    return "<h2>Regimes</h2>" + _table(
        columns, [[row[c] for c in columns] for row in rows], "regimes"
    )


def regime_rows(
    ledger: Ledger, runs: Sequence[Run], versions: Sequence[Version]
) -> list[dict[str, Any]]:
    """Per regime: attempts, records, attempts since the last record, crash rate and
    whether the family looks exhausted."""
    summaries = summarize_regimes(ledger.objectives(), versions, runs, ledger.run_points())
    return [
        {
            "regime": s.name,
            "attempts": s.attempts,
            "records": s.records,
            "since last record": s.since_record,
            "crash rate": None if s.crash_rate is None else f"{s.crash_rate:.0%}",
            "exhausted": "yes" if s.exhausted else "no",
        }
        for s in summaries
    ]


def _lessons_section(lessons: Sequence) -> str:
    if not lessons:
        return "<h2>Lessons</h2><p>No lessons written down yet.</p>"
    items = "".join(
        f"<li>{html.escape(lesson.text)}"
        f"{_lesson_source(lesson)}</li>"
        for lesson in lessons
    )
    return f"<h2>Lessons</h2><ul class=\"lessons\">{items}</ul>"


def _lesson_source(lesson) -> str:
    parts = [f"run {lesson.run}"] if lesson.run is not None else []
    parts += [f"#{tag}" for tag in lesson.tags]
    return f' <span class="meta">({html.escape(", ".join(parts))})</span>' if parts else ""


def _crash_section(runs: Sequence[Run], evolutions: Sequence, lessons: Sequence) -> str:
    # Bands do not depend on the objective, so the first chart's serve for all.
    bands = [b for b in evolutions[0].bands if b.kind == "crashes"] if evolutions else []
    if not bands:
        return "<h2>Crash clusters</h2><p>No cluster of crashes.</p>"
    hours, _ = chartdata.active_hours([run.at.timestamp() for run in runs])
    hour_of = {run.id: hour for run, hour in zip(runs, hours)}
    taught = {lesson.run: lesson.text for lesson in lessons if lesson.run is not None}
    parts = ["<h2>Crash clusters</h2>"]
    for band in bands:
        members = [
            run for run in runs
            if run.outcome == "crash" and band.start <= hour_of.get(run.id, -1) <= band.end
        ]
        parts.append(
            f"<h3>{band.count} crashes between hour {band.start:.2f} and {band.end:.2f}</h3>"
        )
        parts.append(_table(
            ["run", "version", "reason", "lesson"],
            [(r.id, r.version, r.reason, taught.get(r.id)) for r in members],
            "crashes",
        ))
    return "\n".join(parts)

"""Writing a parsed results file into the ledger, in one transaction."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ridgeline.errors import ConflictError, InputError
from ridgeline.ledger import Ledger, parse_time
from ridgeline.readers.results._rows import (
    Entry,
    Kind,
    ObjectiveChoice,
    ParsedResults,
    SkippedLine,
    parse_results,
)
from ridgeline.readers.results._table import MISSING, Layout, read_text

log = logging.getLogger(__name__)

# Spacing of synthetic times when a file has no time column: autoresearch gives every
# experiment a fixed five-minute budget, so one row stands for five minutes.
ROW_SECONDS = 300.0


@dataclasses.dataclass
class ImportReport:
    """What an import read, wrote and decided.

    `rows` counts the data rows of the file, `imported` the runs written now and
    `already_present` the rows an earlier import wrote. `crashes` and `statuses` describe
    every row of the file; `other_statuses` are status words with no fixed meaning, kept
    on each run's reason. `best` is the best counted value of each objective in the file.
    """

    file: str
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    crashes: int = 0
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)
    other_statuses: dict[str, int] = dataclasses.field(default_factory=dict)
    objectives: list[ObjectiveChoice] = dataclasses.field(default_factory=list)
    side_metrics: list[str] = dataclasses.field(default_factory=list)
    regime_column: str | None = None
    best: dict[str, float | None] = dataclasses.field(default_factory=dict)
    skipped: list[SkippedLine] = dataclasses.field(default_factory=list)
    run_ids: list[int] = dataclasses.field(default_factory=list)
    scattered_versions: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["objectives"] = [o.to_dict() for o in self.objectives]
        data["skipped"] = [s.to_dict() for s in self.skipped]
        return data


# -- sidecar ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Sidecar:
    """Settings beside a results file (`NAME.toml` next to `NAME.tsv`)."""

    objectives: tuple[dict[str, Any], ...] = ()
    start: str | None = None
    path: str | None = None


def read_sidecar(path: Path) -> Sidecar:
    """Objectives (with unit, baseline, ideal) and a start time from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"not valid TOML: {error}", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the settings file: {error}", file=str(path)) from None
    objectives = data.get("objective", [])
    if not isinstance(objectives, list) or not all(isinstance(o, dict) for o in objectives):
        raise InputError("expected [[objective]] tables", file=str(path), field="objective")
    for objective in objectives:
        unknown = set(objective) - {"name", "direction", "unit", "baseline", "ideal"}
        if "name" not in objective or "direction" not in objective or unknown:
            raise InputError(
                "each [[objective]] needs name and direction, and may have unit, baseline "
                "and ideal", file=str(path), field="objective",
            )
    start = data.get("start")
    return Sidecar(tuple(objectives), None if start is None else str(start), str(path))


def sidecar_for(path: Path) -> Path | None:
    candidate = path.with_suffix(".toml")
    return candidate if candidate.is_file() else None


# -- writing ----------------------------------------------------------------------------


def import_results(
    ledger: Ledger,
    path: str | Path,
    *,
    objectives: Mapping[str, str] | None = None,
    skip_bad: bool = False,
    sidecar: str | Path | None = None,
) -> ImportReport:
    """Import a results file into the ledger, in one transaction.

    Args:
        ledger: where the runs go.
        path: the tab-separated results file.
        objectives: directions by column name (`{"val_bpb": "min"}`); they override the
            sidecar, the ledger's own objectives and the inference, in that order.
        skip_bad: skip malformed rows, listing them in the report, instead of stopping.
        sidecar: a TOML file of objectives and a start time; by default `PATH.toml`
            beside the file, if there is one.

    Returns:
        An ImportReport; rows an earlier import wrote are counted, not written again.

    Raises:
        InputError: the file is not a results file or a row is malformed (the ledger is
            then left exactly as it was); the message names the file, line and column.
    """
    path = Path(path)
    file = str(path.resolve())
    settings = read_sidecar(Path(sidecar)) if sidecar else _auto_sidecar(path)
    given, source = dict(objectives or {}), "given with --objective"
    if not given and settings.objectives:
        given = {o["name"]: o["direction"] for o in settings.objectives}
        source = f"declared in {Path(settings.path or '').name}"
    known = {o.name: o.direction for o in ledger.objectives()}
    parsed = parse_results(read_text(path), file, objectives=given, source=source,
                           known=known, skip_bad=skip_bad)
    report = _report_of(parsed)
    with ledger.transaction():
        _write_objectives(ledger, parsed.objectives, settings)
        start = _start_time(ledger, file, settings, parsed)
        present = {run.source_line for run in ledger.runs(source=file)}
        _write_entries(ledger, parsed, start, present, report)
    log.info("imported %d runs from %s", report.imported, file)
    return report


def _auto_sidecar(path: Path) -> Sidecar:
    found = sidecar_for(path)
    return read_sidecar(found) if found else Sidecar()


def _report_of(parsed: ParsedResults) -> ImportReport:
    statuses = Counter(e.status for e in parsed.entries if e.status)
    others = Counter(e.status for e in parsed.entries if e.kind == "other" and e.status)
    return ImportReport(
        file=parsed.file,
        rows=parsed.rows,
        crashes=sum(e.outcome == "crash" for e in parsed.entries),
        statuses=dict(statuses),
        other_statuses=dict(others),
        objectives=parsed.objectives,
        side_metrics=[n for n in parsed.layout.numeric
                      if n not in {o.name for o in parsed.objectives}],
        regime_column=parsed.layout.regime,
        best=best_values(parsed),
        skipped=parsed.skipped,
        scattered_versions=scattered_versions(parsed.entries),
    )


def scattered_versions(entries: Sequence[Entry]) -> dict[str, list[int]]:
    """Identifiers that come back after other rows, with the lines they stand on.

    Rows of one identifier are merged into one version. That is right for repeats of one
    experiment, but a file that reuses a counter (`experiment` 34 twice, hours apart) merges
    unrelated work, so the import names such identifiers for the user to check.
    """
    lines: dict[str, list[int]] = defaultdict(list)
    previous = None
    returning: set[str] = set()
    for entry in entries:
        # Validation and debug rows come back to old versions on purpose.
        if entry.version is None or entry.text.get("intent", "attempt") not in ("", "attempt"):
            continue
        if entry.version in lines and entry.version != previous:
            returning.add(entry.version)
        lines[entry.version].append(entry.line)
        previous = entry.version
    return {name: lines[name] for name in sorted(returning, key=lambda n: lines[n][0])}


def best_values(parsed: ParsedResults) -> dict[str, float | None]:
    """The best value of each objective among rows that count (ok attempts of versions
    that did not end failed)."""
    final_kind: dict[str | None, Kind] = {}
    for entry in parsed.entries:
        if entry.kind in ("committed", "failed"):
            final_kind[entry.version] = entry.kind
    counted = [
        e for e in parsed.entries
        if e.outcome == "ok" and final_kind.get(e.version) != "failed"
        and e.text.get("intent", "attempt") in ("", "attempt")
    ]
    best: dict[str, float | None] = {}
    for objective in parsed.objectives:
        values = [e.values.get(objective.name) for e in counted]
        usable = [v for v in values if v is not None and not math.isnan(v)]
        pick = max if objective.direction == "max" else min
        best[objective.name] = pick(usable) if usable else None
    return best


def _write_objectives(ledger: Ledger, chosen: list[ObjectiveChoice], settings: Sidecar) -> None:
    details = {o["name"]: o for o in settings.objectives}
    existing = {o.name: o for o in ledger.objectives()}
    for choice in chosen:
        detail = details.get(choice.name, {})
        known = existing.get(choice.name)
        if known is not None and known.direction == choice.direction and not detail:
            continue  # leave a declared objective's unit, baseline and ideal alone
        try:
            ledger.add_objective(
                choice.name, choice.direction,
                unit=detail.get("unit", known.unit if known else None),
                baseline=detail.get("baseline", known.baseline if known else None),
                ideal=detail.get("ideal", known.ideal if known else None),
            )
        except InputError as error:
            # Only a sidecar's values can be wrong here; name the file they came from.
            raise InputError(f"objective {choice.name!r}: {error.message}",
                             file=settings.path, field=error.field) from None


def _start_time(ledger: Ledger, file: str, settings: Sidecar, parsed: ParsedResults) -> float:
    # Synthetic times must not move between imports, or appended rows would land before
    # the old ones: the first import fixes the start and stores it in the ledger.
    if settings.start is not None:
        return parse_time(settings.start, field="start")
    setting = f"import.start:{file}"
    stored = ledger.get_setting(setting)
    if stored is not None:
        return float(stored)
    last_line = max(e.line for e in parsed.entries)
    start = float(int(time.time() - (last_line - 2) * ROW_SECONDS))
    ledger.set_setting(setting, start)
    return start


def _write_entries(
    ledger: Ledger, parsed: ParsedResults, start: float, present: set, report: ImportReport
) -> None:
    seen_versions: set[str] = {v.name for v in ledger.versions()}
    last_kept: str | None = None
    for entry in parsed.entries:
        if entry.line in present:
            report.already_present += 1
        else:
            if entry.version and entry.version not in seen_versions:
                _write_version(ledger, entry, parsed, last_kept)
                seen_versions.add(entry.version)
            elif entry.version and entry.kind in ("committed", "failed"):
                ledger.set_version(entry.version, status=entry.kind)
            run = _write_run(ledger, entry, parsed, start)
            if entry.text.get("lesson"):
                ledger.add_lesson(entry.text["lesson"], run=run.id)
            report.imported += 1
            report.run_ids.append(run.id)
        if entry.kind == "committed" and entry.version:
            last_kept = entry.version


def _write_version(
    ledger: Ledger, entry: Entry, parsed: ParsedResults, last_kept: str | None
) -> None:
    # Without a parents column, an autoresearch loop branches each experiment from the
    # last kept commit, so that is its parent.
    text = entry.text
    if "parents" in text:
        parents = [p.strip() for p in text["parents"].split(",") if p.strip()]
    else:
        parents = [last_kept] if last_kept and last_kept != entry.version else []
    regime = text.get(parsed.layout.regime.lower()) if parsed.layout.regime else None
    status = entry.kind if entry.kind in ("committed", "failed") else None
    if entry.kind == "crash" and parsed.layout.status and entry.status:
        status = "failed"  # the loop reverts a crashed commit, like a discarded one
    commit = text.get("commit") or (entry.version if _looks_like_sha(parsed, entry) else None)
    try:
        ledger.set_version(entry.version, parents=parents or None, regime=regime or None,
                           status=status, commit=commit)
    except ConflictError as error:
        raise InputError(str(error), file=parsed.file, line=entry.line,
                         field="parents") from None


def _looks_like_sha(parsed: ParsedResults, entry: Entry) -> bool:
    column = (parsed.layout.version or "").lower()
    return column == "commit" and bool(re.fullmatch(r"[0-9a-f]{7,40}", entry.version or ""))


def _write_run(ledger: Ledger, entry: Entry, parsed: ParsedResults, start: float):
    text = entry.text
    return ledger.record(
        version=entry.version,
        metrics=entry.values,
        intent=_field(text, "intent", "attempt", entry, parsed.file),
        outcome=entry.outcome,
        reason=entry.reason,
        at=_run_time(text, entry, start, parsed.file),
        commit=text.get("commit") or None,
        tool_calls=_tool_calls(text, entry, parsed.file),
        description=_description(entry, parsed.layout),
        source=parsed.file,
        source_line=entry.line,
        key=f"results:{parsed.file}:{entry.line}",
    )


def _field(text: dict[str, str], name: str, default: str, entry: Entry, file: str) -> str:
    value = text.get(name) or default
    if name == "intent" and value not in ("attempt", "validation", "debug"):
        raise InputError(f"expected attempt, validation or debug, got {value!r}",
                         file=file, line=entry.line, field=name)
    return value


def _run_time(text: dict[str, str], entry: Entry, start: float, file: str) -> float:
    try:
        if text.get("at") or text.get("timestamp"):
            return parse_time(text.get("at") or text["timestamp"])
        if text.get("hours"):
            hours = float(text["hours"])
            if not math.isfinite(hours):
                raise ValueError(hours)
            return start + hours * 3600.0
    except (InputError, ValueError):
        raise InputError("expected an ISO-8601 time in 'at' or a number of hours in 'hours'",
                         file=file, line=entry.line,
                         field="at" if text.get("at") else "hours") from None
    return start + (entry.line - 2) * ROW_SECONDS


def _tool_calls(text: dict[str, str], entry: Entry, file: str) -> int | None:
    value = text.get("tool_calls")
    if not value or value.lower() in MISSING:
        return None
    # ASCII digits only (str.isdigit accepts '²'), and few enough to fit a 64-bit column.
    if not re.fullmatch(r"[0-9]{1,15}", value):
        raise InputError(f"expected a whole number of tool calls, got {value!r}",
                         file=file, line=entry.line, field="tool_calls")
    return int(value)


def _description(entry: Entry, layout: Layout) -> str | None:
    # Text columns with no role of their own (a `cycle`, a `tag`) ride along on the
    # description so that nothing in the row is lost.
    parts = [entry.text.get(layout.description.lower(), "")] if layout.description else []
    extras = [f"{name}={entry.text[name.lower()]}" for name in layout.extra
              if entry.text.get(name.lower())]
    if extras:
        parts.append(f"[{' '.join(extras)}]")
    return " ".join(p for p in parts if p) or None


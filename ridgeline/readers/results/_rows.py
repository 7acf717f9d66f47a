"""Classifying rows and deciding the objectives of a results file.

Pure functions over the table: each row becomes an `Entry` with its status kind and its
values; the objectives are given or inferred from the kept rows; crash markers become
crash outcomes. `parse_results` runs the whole sequence without a ledger.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from ridgeline.errors import InputError
from ridgeline.readers.results._table import (
    STATUS_WORDS,
    Kind,
    Layout,
    detect_layout,
    name_words,
    parse_number,
    split_rows,
)

# A direction is read off the kept rows when at least this share of their moves agree.
AGREEMENT = 0.8

# Name words that say which way a metric should move, and words of side metrics.
_HIGHER = ("throughput", "tflops", "gflops", "flops", "speedup", "mfu", "accuracy", "acc",
           "qps", "rps", "tps", "hit", "f1", "bleu", "auc", "reward")
_RATE = re.compile(r"(per_?s(ec(ond)?)?$|_ps$|/s$)")
_LOWER = ("loss", "bpb", "bpc", "perplexity", "ppl", "latency", "time", "seconds", "secs",
          "duration", "error", "err", "us", "ms", "ns", "cycles", "cost", "regret", "wer")
_SIDE = ("memory", "mem", "vram", "ram", "gb", "mb", "kb", "gib", "mib", "bytes", "params",
         "param", "num", "steps", "step", "batch", "size", "count", "seed", "epoch", "lr")


@dataclasses.dataclass(frozen=True)
class ObjectiveChoice:
    """An objective of the file and why it was chosen and oriented this way."""

    name: str
    direction: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SkippedLine:
    """A malformed row left out by `skip_bad`, with the reason it could not be read."""

    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Entry:
    """One data row, read and classified but not yet written."""

    line: int
    version: str | None
    values: dict[str, float | None]
    crash_columns: list[str]
    status: str | None
    kind: Kind
    text: dict[str, str]
    outcome: str = "ok"
    reason: str | None = None


@dataclasses.dataclass
class ParsedResults:
    """A results file read into entries, with its objectives decided."""

    file: str
    layout: Layout
    entries: list[Entry]
    objectives: list[ObjectiveChoice]
    skipped: list[SkippedLine]
    rows: int


# -- rows -------------------------------------------------------------------------------


def read_entry(fields: list[str], line: int, layout: Layout, file: str) -> Entry:
    """Classify one row; a cell that cannot be read raises an InputError naming it."""
    cells = dict(zip(layout.header, fields))
    values: dict[str, float | None] = {}
    crash_columns = []
    for name in layout.numeric:
        value = parse_number(cells[name])
        if value == "bad":
            raise InputError(
                f"expected a finite number (or -, NA or empty for none), got {cells[name]!r}",
                file=file, line=line, field=name,
            )
        if value == "crash":
            crash_columns.append(name)
            value = None
        values[name] = value  # type: ignore[assignment]
    status, kind = _status_of(cells, layout)
    text = {name.lower(): cells[name] for name in layout.header if name not in layout.numeric}
    version = cells[layout.version] if layout.version else None
    return Entry(line, version or None, values, crash_columns, status, kind, text)


def _status_of(cells: dict[str, str], layout: Layout) -> tuple[str | None, Kind]:
    # The status column decides; a correctness column can only turn a row into a crash,
    # and stands in for the status column when a file has none.
    status = cells[layout.status] if layout.status else None
    kind: Kind = "neutral"
    if status is not None:
        kind = STATUS_WORDS.get(status.lower(), "other")
    check = cells[layout.correctness] if layout.correctness else None
    if check is not None:
        check_kind = STATUS_WORDS.get(check.lower(), "other")
        if check_kind == "crash":
            return (status or check), "crash"
        if status is None:
            return check, check_kind
    return status, kind


# -- objectives -------------------------------------------------------------------------


def choose_objectives(
    layout: Layout,
    entries: list[Entry],
    given: Mapping[str, str],
    file: str,
    *,
    source: str = "given",
    known: Mapping[str, str] | None = None,
) -> list[ObjectiveChoice]:
    """The objectives of the file: those given, else those the ledger already knows, else
    one inferred from the rows.

    Args:
        given: directions by column name that must all be numeric columns.
        source: where `given` came from, for the explanation.
        known: objectives the ledger already declares; used when columns match them.

    Raises:
        InputError: a given objective is not a numeric column, or no column can be
            oriented; both name the header line and ask for `--objective`.
    """
    if given:
        return [_given(name, direction, layout, file, source)
                for name, direction in given.items()]
    matching = [
        ObjectiveChoice(column, (known or {})[column], "the ledger already declares it")
        for column in layout.numeric if column in (known or {})
    ]
    if matching:
        return matching
    return [infer_objective(layout, entries, file)]


def infer_objective(layout: Layout, entries: list[Entry], file: str) -> ObjectiveChoice:
    """The one objective the kept rows, or failing them the column names, point to.

    Among numeric columns that are not side metrics, the one whose kept rows move most
    consistently wins (ties: more changes, then the leftmost column); with no such column,
    the leftmost whose name says a direction.
    """
    kept = [e for e in entries if e.kind == "committed"]
    candidates = [n for n in layout.numeric if not _is_side(n)]
    decided = []
    for index, name in enumerate(candidates):
        moves = _moves([e.values.get(name) for e in kept])
        if moves is not None:
            direction, agreement, count = moves
            decided.append((agreement, count, -index, name, direction))
    if decided:
        agreement, count, _, name, direction = max(decided)
        why = f"{count} changes between kept rows, {agreement:.0%} of them {_verb(direction)}"
        return ObjectiveChoice(name, direction, why + _name_remark(name, direction))

    for name in candidates:
        direction = name_direction(name)
        if direction is not None:
            why = "the kept rows cannot tell; its name says " + _verb(direction)
            return ObjectiveChoice(name, direction, why)
    names = ", ".join(layout.numeric) or "none"
    raise InputError(
        f"cannot tell which column is the objective or which way it should move "
        f"(numeric columns: {names}); pass --objective NAME:max or --objective NAME:min",
        file=file, line=1,
    )


def _given(
    name: str, direction: str, layout: Layout, file: str, source: str
) -> ObjectiveChoice:
    if direction not in ("max", "min"):
        raise InputError(f"expected max or min, got {direction!r}", field="--objective")
    for column in layout.numeric:
        if column.lower() == name.lower():
            return ObjectiveChoice(column, direction, source)
    columns = ", ".join(layout.numeric) or "none"
    raise InputError(
        f"unknown column {name!r}; an objective must be one of the numeric columns: "
        f"{columns}", file=file, line=1, field=name,
    )


def _moves(values: list[float | None]) -> tuple[str, float, int] | None:
    # Zero on a kept row means the column did not measure that row; a column that
    # measured too few of the kept rows cannot speak for them.
    usable = [v for v in values if v is not None and v != 0 and not math.isnan(v)]
    if len(usable) < 2 or len(usable) < 0.8 * len(values):
        return None
    ups = sum(b > a for a, b in zip(usable, usable[1:]))
    downs = sum(b < a for a, b in zip(usable, usable[1:]))
    if ups + downs == 0:
        return None
    agreement = max(ups, downs) / (ups + downs)
    if agreement < AGREEMENT:
        return None
    return ("max" if ups > downs else "min"), agreement, ups + downs


def name_direction(name: str) -> str | None:
    """The direction a metric's name implies, or None when the name does not say.

    Rates and throughputs (`tok_per_sec`, `tflops`, `speedup`) are higher-is-better;
    losses, times and errors (`val_bpb`, `latency_us`) lower-is-better. `score` says
    nothing: real files use it both ways, so the kept rows or `--objective` decide.
    """
    lowered = name.lower()
    words = name_words(name)
    if _RATE.search(lowered) or any(w in _HIGHER for w in words):
        return "max"
    if any(w in _LOWER for w in words):
        return "min"
    return None


def _is_side(name: str) -> bool:
    return any(word in _SIDE for word in name_words(name))


def _verb(direction: str) -> str:
    return "higher is better" if direction == "max" else "lower is better"


def _name_remark(name: str, direction: str) -> str:
    hinted = name_direction(name)
    if hinted is None or hinted == direction:
        return ""
    return f" (its name suggests {_verb(hinted)}; the rows win)"


# -- crashes and outcomes ---------------------------------------------------------------


def settle_outcomes(
    entries: list[Entry], objectives: list[ObjectiveChoice], layout: Layout
) -> None:
    """Decide each row's outcome, drop crash markers from its values, fill its reason."""
    kept = [e for e in entries if e.kind == "committed"]
    nonzero_kept = {
        name for name in layout.numeric
        if kept and all(e.values.get(name) not in (0.0,) for e in kept)
    }
    objective_names = {o.name for o in objectives}
    for entry in entries:
        markers = [
            name for name in layout.numeric
            if entry.kind != "committed" and entry.values.get(name) == 0.0
            and name in nonzero_kept
        ]
        crashed = entry.kind == "crash" or bool(entry.crash_columns) or bool(
            objective_names.intersection(markers)
        )
        for name in markers:
            entry.values[name] = None  # a zero that marks a missing value is no value
        if crashed:
            entry.outcome = "crash"
            entry.values = {k: v for k, v in entry.values.items() if v != 0.0}
        elif not any(v is not None for v in entry.values.values()):
            entry.outcome = "crash"
            entry.reason = "invalid result: no metric value in this row"
        entry.reason = entry.text.get("reason") or entry.reason or _reason(entry, layout)


def _reason(entry: Entry, layout: Layout) -> str | None:
    if entry.outcome == "crash":
        said = entry.text.get(layout.description.lower()) if layout.description else None
        return said or f"status {entry.status or 'crash'}"
    if entry.kind == "other" and entry.status:
        return f"status: {entry.status}"
    return None


# -- parsing a whole file ---------------------------------------------------------------


def parse_results(
    text: str,
    file: str,
    *,
    objectives: Mapping[str, str] | None = None,
    source: str = "given",
    known: Mapping[str, str] | None = None,
    skip_bad: bool = False,
) -> ParsedResults:
    """Read results text into classified rows and decide its objectives; no ledger needed.

    Args:
        text: the file's content.
        file: its name, for error messages and provenance.
        objectives: directions by column name; when given, no inference takes place.
        source: where `objectives` came from, for the explanation.
        known: objectives the ledger already declares, used when columns match them.
        skip_bad: skip malformed rows (listed in `skipped`) instead of stopping.

    Raises:
        InputError: a malformed row (without `skip_bad`), or a file that is not a
            results file; the message names the file, the line and the column.
    """
    header, rows, errors = split_rows(text, file)
    # Rows that could not even be split are not in `rows`; rows that fail later are.
    total_rows = len(rows) + len(errors)
    layout = detect_layout(header, rows)
    entries = []
    for line, fields in rows:
        try:
            entries.append(read_entry(fields, line, layout, file))
        except InputError as error:
            errors.append(error)

    errors.sort(key=lambda error: error.line or 0)
    if errors and not skip_bad:
        raise errors[0]
    skipped = [SkippedLine(e.line or 0, e.message + _column_note(e)) for e in errors]
    if not entries:
        raise InputError("no row of the file could be read", file=file, line=1)

    chosen = choose_objectives(layout, entries, objectives or {}, file,
                               source=source, known=known)
    settle_outcomes(entries, chosen, layout)
    return ParsedResults(file, layout, entries, chosen, skipped, total_rows)


def _column_note(error: InputError) -> str:
    return f" (column {error.field!r})" if error.field else ""


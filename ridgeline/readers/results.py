"""Import of experiment results files: autoresearch's `results.tsv` and its relatives.

A results file is tab-separated text with a header row and one row per experiment, in the
order the experiments ran. Every loop writes its own columns, so the importer reads the
header by meaning rather than by a fixed schema:

- an identifier column (`commit`, `experiment`, `config`, ...) names the version, unless
  a `version` column does;
- a status column (`status`) says keep, discard, crash or anything else; a correctness
  column (`correctness`) with PASS/FAIL stands in for it when there is no status column;
- numeric columns are metrics; one or more of them are objectives, the rest side metrics
  (memory, parameter counts) that are stored on the run but never set a record;
- a regime column (`regime`, or a low-cardinality text column whose name says family,
  technique, kind, type or category) names the family of technique;
- a description column, and optional richer columns: `parents`, `intent`, `at`, `hours`,
  `tool_calls`, `reason`, `lesson`, `commit`, `filled_in` (ignored: it documents where a
  value came from).

The whole import is one transaction. Each run keeps its file and line as provenance and an
idempotency key built from both, so importing a file again adds only the lines that are new.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import time
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ridgeline.errors import ConflictError, InputError
from ridgeline.ledger import Ledger, parse_time

log = logging.getLogger(__name__)

# Spacing of synthetic times when a file has no time column: autoresearch gives every
# experiment a fixed five-minute budget, so one row stands for five minutes.
ROW_SECONDS = 300.0

# A direction is read off the kept rows when at least this share of their moves agree.
AGREEMENT = 0.8

Kind = Literal["committed", "failed", "crash", "neutral", "other"]

# -- vocabularies -----------------------------------------------------------------------

_STATUS_WORDS: dict[str, Kind] = {
    **dict.fromkeys(("keep", "kept", "baseline", "accept", "accepted", "best"), "committed"),
    **dict.fromkeys(("discard", "discarded", "revert", "reverted", "reject"), "failed"),
    **dict.fromkeys(
        ("crash", "crashed", "fail", "failed", "error", "timeout", "oom", "blocked"), "crash"
    ),
    **dict.fromkeys(("ok", "pass", "passed", "done", ""), "neutral"),
}
_MISSING = {"", "-", "--", "—", "na", "n/a", "nan", "none", "null", "?"}
_CRASH_TOKENS = {"fail", "failed", "crash", "crashed", "error", "timeout", "oom", "blocked"}

_ID_NAMES = ("commit", "experiment", "exp", "config", "id", "run", "run_id", "trial", "sha")
_STATUS_NAMES = ("status", "state", "decision", "verdict", "outcome", "result")
_CORRECTNESS_NAMES = ("correctness", "correct", "valid", "validity", "check", "verified")
_DESCRIPTION_NAMES = ("description", "desc", "notes", "note", "comment", "message", "idea")
_REGIME_WORDS = ("regime", "family", "technique", "kind", "type", "category")
_SPECIAL = {
    "version", "parents", "intent", "at", "timestamp", "hours", "tool_calls", "reason",
    "lesson", "filled_in",
}

# Name words that say which way a metric should move, and words of side metrics.
_HIGHER = ("throughput", "tflops", "gflops", "flops", "speedup", "mfu", "accuracy", "acc",
           "qps", "rps", "tps", "hit", "f1", "bleu", "auc", "reward")
_RATE = re.compile(r"(per_?s(ec(ond)?)?$|_ps$|/s$)")
_LOWER = ("loss", "bpb", "bpc", "perplexity", "ppl", "latency", "time", "seconds", "secs",
          "duration", "error", "err", "us", "ms", "ns", "cycles", "cost", "regret", "wer")
_SIDE = ("memory", "mem", "vram", "ram", "gb", "mb", "kb", "gib", "mib", "bytes", "params",
         "param", "num", "steps", "step", "batch", "size", "count", "seed", "epoch", "lr")

_NUMBER = re.compile(r"^[~≈]?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%*)$")


# -- results ----------------------------------------------------------------------------


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
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["objectives"] = [o.to_dict() for o in self.objectives]
        data["skipped"] = [s.to_dict() for s in self.skipped]
        return data


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
class Layout:
    """The role of each column of a results file."""

    header: list[str]
    version: str | None = None
    status: str | None = None
    correctness: str | None = None
    description: str | None = None
    regime: str | None = None
    numeric: list[str] = dataclasses.field(default_factory=list)
    extra: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ParsedResults:
    """A results file read into entries, with its objectives decided."""

    file: str
    layout: Layout
    entries: list[Entry]
    objectives: list[ObjectiveChoice]
    skipped: list[SkippedLine]
    rows: int


# -- reading text -----------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file as text, or an InputError that says why it is not a results file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror}", file=str(path)) from None
    return decode_text(data, str(path))


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 text from bytes; binary data and invalid UTF-8 are errors naming a line."""
    if not data.strip():
        raise InputError("the file is empty; expected a header row and data rows",
                         file=file, line=1)
    if b"\x00" in data[:8192]:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError("this is a binary file, not a tab-separated results file",
                         file=file, line=line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(
            f"invalid UTF-8 at byte {error.start}; save the file as UTF-8", file=file, line=line
        ) from None
    return text.removeprefix("\ufeff")


# -- the table --------------------------------------------------------------------------


def split_rows(
    text: str, file: str
) -> tuple[list[str], list[tuple[int, list[str]]], list[InputError]]:
    """The header, the data rows with their line numbers, and the ragged rows as errors."""
    lines = text.splitlines()
    header = [name.strip() for name in lines[0].split("\t")]
    _check_header(header, file)
    rows, errors = [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue  # blank lines (a trailing newline, a paragraph break) carry no row
        fields = line.split("\t")
        if len(fields) != len(header):
            errors.append(InputError(
                f"expected {len(header)} tab-separated fields as in the header, "
                f"got {len(fields)}", file=file, line=number,
            ))
            continue
        rows.append((number, [field.strip() for field in fields]))
    if not rows and not errors:
        raise InputError("the file has a header but no data rows", file=file, line=1)
    return header, rows, errors


def _check_header(header: list[str], file: str) -> None:
    if len(header) < 2:
        raise InputError(
            "expected a tab-separated header with at least an identifier and a metric column",
            file=file, line=1,
        )
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if not name:
            raise InputError(f"header field {index} is empty; name every column",
                             file=file, line=1)
        if name.lower() in seen:
            raise InputError("this column name appears twice in the header",
                             file=file, line=1, field=name)
        seen.add(name.lower())


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def parse_number(text: str) -> float | None | Literal["crash", "bad"]:
    """A metric cell: a float, None when missing, "crash" for FAIL-like, "bad" otherwise.

    Approximate values (`~1890`) and percentages (`84.50%`) are read as plain numbers;
    a doubled percent sign (`-7.85%%`) is a typing slip seen in real files and read too.
    """
    cell = text.strip()
    lowered = cell.lower()
    if lowered in _MISSING:
        return None
    if lowered in _CRASH_TOKENS:
        return "crash"
    match = _NUMBER.match(cell)
    if match:
        return float(match.group(1))
    if lowered in ("inf", "+inf", "-inf", "infinity", "-infinity"):
        return float(lowered.replace("infinity", "inf"))
    return "bad"


# -- column roles -----------------------------------------------------------------------


def detect_layout(header: list[str], rows: list[tuple[int, list[str]]]) -> Layout:
    """Give each column its role, from its name first and its values second."""
    layout = Layout(header=header)
    lowered = {name.lower(): name for name in header}
    layout.version = lowered.get("version") or _first(header, _ID_NAMES)
    layout.status = _first(header, _STATUS_NAMES)
    layout.correctness = _first(header, _CORRECTNESS_NAMES)
    layout.description = _first(header, _DESCRIPTION_NAMES)
    if layout.version is None and not _is_numeric(_column(rows, header, header[0])):
        layout.version = header[0]  # an unnamed first text column identifies the row
    taken = {layout.version, layout.status, layout.correctness, layout.description}
    for name in header:
        if name in taken or name.lower() in _SPECIAL or name.lower() == "commit":
            continue
        values = _column(rows, header, name)
        if _is_numeric(values):
            layout.numeric.append(name)
        elif layout.regime is None and _is_regime(name, values):
            layout.regime = name
        else:
            layout.extra.append(name)
    if "regime" in lowered:
        layout.regime = lowered["regime"]
    return layout


def _first(header: list[str], names: Sequence[str]) -> str | None:
    for wanted in names:
        for name in header:
            if name.lower() == wanted:
                return name
    return None


def _column(rows: list[tuple[int, list[str]]], header: list[str], name: str) -> list[str]:
    index = header.index(name)
    return [fields[index] for _, fields in rows]


def _is_numeric(values: list[str]) -> bool:
    # A column is numeric when most present cells are numbers; the few that are not are
    # then malformed cells, reported by line, rather than a reason to call it text.
    parsed = [parse_number(v) for v in values]
    numbers = sum(p is not None and p not in ("crash", "bad") for p in parsed)
    return numbers > sum(p == "bad" for p in parsed)


def _is_regime(name: str, values: list[str]) -> bool:
    # A family of technique is named by the column and repeats over many rows; a column
    # that alternates phases (autoresearch's tick/tock `cycle`) is not named so.
    if not any(word in _REGIME_WORDS for word in _words(name)):
        return False
    distinct = {v for v in values if v}
    return 1 <= len(distinct) <= max(1, len(values) // 2)


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
                f"expected a number (or -, NA or empty for none), got {cells[name]!r}",
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
        kind = _STATUS_WORDS.get(status.lower(), "other")
    check = cells[layout.correctness] if layout.correctness else None
    if check is not None:
        check_kind = _STATUS_WORDS.get(check.lower(), "other")
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
        return [ObjectiveChoice(name, direction, why + _name_remark(name, direction))]
    for name in candidates:
        direction = name_direction(name)
        if direction is not None:
            why = "the kept rows cannot tell; its name says " + _verb(direction)
            return [ObjectiveChoice(name, direction, why)]
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
    words = _words(name)
    if _RATE.search(lowered) or any(w in _HIGHER for w in words):
        return "max"
    if any(w in _LOWER for w in words):
        return "min"
    return None


def _is_side(name: str) -> bool:
    return any(word in _SIDE for word in _words(name))


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
    return ParsedResults(file, layout, entries, chosen, skipped, len(rows) + len(errors))


def _column_note(error: InputError) -> str:
    return f" (column {error.field!r})" if error.field else ""


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
    )


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
        ledger.add_objective(
            choice.name, choice.direction,
            unit=detail.get("unit", known.unit if known else None),
            baseline=detail.get("baseline", known.baseline if known else None),
            ideal=detail.get("ideal", known.ideal if known else None),
        )


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
            return start + float(text["hours"]) * 3600.0
    except (InputError, ValueError):
        raise InputError("expected an ISO-8601 time in 'at' or a number of hours in 'hours'",
                         file=file, line=entry.line,
                         field="at" if text.get("at") else "hours") from None
    return start + (entry.line - 2) * ROW_SECONDS


def _tool_calls(text: dict[str, str], entry: Entry, file: str) -> int | None:
    value = text.get("tool_calls")
    if not value or value.lower() in _MISSING:
        return None
    if not value.isdigit():
        raise InputError(f"expected a whole number, got {value!r}",
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

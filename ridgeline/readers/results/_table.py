"""Reading a results file into a table and giving each column its role.

Nothing here knows about the ledger: text in, a header, rows and a `Layout` out, or an
InputError that names the file, the line and the column.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from ridgeline.errors import InputError

Kind = Literal["committed", "failed", "crash", "neutral", "other"]

# -- vocabularies -----------------------------------------------------------------------

STATUS_WORDS: dict[str, Kind] = {
    **dict.fromkeys(("keep", "kept", "baseline", "accept", "accepted", "best"), "committed"),
    **dict.fromkeys(("discard", "discarded", "revert", "reverted", "reject"), "failed"),
    **dict.fromkeys(
        ("crash", "crashed", "fail", "failed", "error", "timeout", "oom", "blocked"), "crash"
    ),
    **dict.fromkeys(("ok", "pass", "passed", "done", ""), "neutral"),
}
MISSING = {"", "-", "--", "—", "na", "n/a", "nan", "none", "null", "?"}
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


_NUMBER = re.compile(r"^[~≈]?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%*)$")


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
    # A NUL anywhere, not only near the start: PostgreSQL text cannot hold one.
    if b"\x00" in data:
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
    # Not yet: comma-separated files and quoted fields holding tabs or newlines; results
    # files are split on tabs, one row a line. See Known limitations.
    # Split on line breaks only: str.splitlines would also break a description at a
    # form feed or U+2028 and shift every line number after it.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
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
        hint = "; this header looks comma-separated" if "," in header[0] else ""
        raise InputError(
            "expected a tab-separated header with at least an identifier and a metric "
            f"column{hint}", file=file, line=1,
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


def name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def parse_number(text: str) -> float | None | Literal["crash", "bad"]:
    """A metric cell: a float, None when missing, "crash" for FAIL-like, "bad" otherwise.

    Approximate values (`~1890`) and percentages (`84.50%`) are read as plain numbers;
    a doubled percent sign (`-7.85%%`) is a typing slip seen in real files and read too.
    Infinity, written out or overflowing (`1e999`), is "bad": the ledger refuses it.
    """
    cell = text.strip()
    lowered = cell.lower()
    if lowered in MISSING:
        return None
    if lowered in _CRASH_TOKENS:
        return "crash"
    match = _NUMBER.match(cell)
    if match and math.isfinite(float(match.group(1))):
        return float(match.group(1))
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
    if not any(word in _REGIME_WORDS for word in name_words(name)):
        return False
    distinct = {v for v in values if v}
    return 1 <= len(distinct) <= max(1, len(values) // 2)


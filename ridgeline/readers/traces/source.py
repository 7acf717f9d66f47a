"""Reading transcript files: JSON lines one at a time, whole documents, times.

JSON-lines transcripts are read in binary, one line at a time, so a 1 GB file costs
the memory of its longest line. A line that is not a JSON object is reported with its
number and skipped: a transcript cut off mid-write ends in half a line, and that must not
cost the rest of the file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ridgeline.errors import InputError

try:
    # Parsing is most of the cost of reading a transcript; orjson halves it.
    from orjson import loads as _fast_loads
except ImportError:  # the `traces` extra is not installed
    _fast_loads = json.loads

logger = logging.getLogger(__name__)

# Documents (SWE-agent, ATIF) are parsed whole; past this size they are refused rather
# than allowed to take the machine's memory.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

_READ_BUFFER = 1 << 20


def iter_json_lines(
    path: Path, on_malformed: Callable[[int, str], None]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every line that holds a JSON object.

    Blank lines are skipped silently; anything else that is not an object is passed to
    `on_malformed` with its line number and skipped.
    """
    with path.open("rb", buffering=_READ_BUFFER) as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                value = loads(raw)
            except ValueError as error:
                on_malformed(number, f"not valid JSON ({_short(error)})")
                continue
            if not isinstance(value, dict):
                on_malformed(number, f"expected a JSON object, got {type(value).__name__}")
                continue
            yield number, value


def loads(raw: bytes) -> Any:
    """One JSON value; NaN, Infinity and huge integers, which orjson refuses but Python
    writers emit, are accepted through the standard library."""
    try:
        return _fast_loads(raw)
    except ValueError:
        return json.loads(raw)


def load_document(path: Path) -> Any:
    """A whole JSON document.

    Raises:
        InputError: the file is too large or not valid JSON, naming the line.
    """
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"a single JSON document of {size} bytes is too large to read whole "
            f"(limit {MAX_DOCUMENT_BYTES}); split it or convert it to JSON lines",
            file=str(path),
        )
    with path.open("rb") as stream:
        data = stream.read()
    try:
        return loads(data)
    except ValueError as error:
        line = getattr(error, "lineno", None)
        raise InputError(
            f"not valid JSON ({_short(error)}); the file may be truncated",
            file=str(path), line=line,
        ) from None


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an ISO-8601 string or a number; None when absent or unreadable.

    A time without a zone is taken as UTC (OpenHands writes them so).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Milliseconds since the epoch are common in JavaScript-written logs.
        return float(value) / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def text_of(content: Any) -> str:
    """Plain text from a string or a list of content parts (`{"type": "text", ...}`)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if text is None:
                    text = part.get("content")
                if isinstance(text, str | list):
                    parts.append(text_of(text))
        return "\n".join(parts)
    if isinstance(content, dict):
        return text_of(content.get("text") or content.get("content"))
    return str(content)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 120 else text[:117] + "..."


def text_field(record: dict[str, Any], key: str) -> str | None:
    """A field that should be text, or None when a damaged line holds something else."""
    value = record.get(key)
    return value if isinstance(value, str) else None


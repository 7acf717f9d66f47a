"""Which transcript format a file holds, decided from its content, never its name.

JSON-lines formats are told apart by the first few objects in the file (a Claude Code
transcript may open with a `file-history-snapshot` line, so one line is not enough).
A file whose first line is not a whole JSON object is parsed as one document, and the
document's keys decide.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from ridgeline.errors import InputError
from ridgeline.readers.traces import atif, claude_code, codex, mini_swe_agent, openhands, swe_agent
from ridgeline.readers.traces.source import load_document

LINE_FORMATS: tuple[ModuleType, ...] = (claude_code, codex, openhands)
DOCUMENT_FORMATS: tuple[ModuleType, ...] = (mini_swe_agent, swe_agent, atif)

_SNIFF_LINES = 50
_SNIFF_BYTES = 8 * 1024 * 1024


def detect(path: Path) -> tuple[ModuleType, Any]:
    """The reader module for `path`, and the parsed document for document formats.

    Raises:
        InputError: the file is empty or in no format ridgeline reads.
    """
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    objects, whole_lines = _first_objects(path)
    if whole_lines:
        for reader in LINE_FORMATS:
            if any(reader.looks_like(obj) for obj in objects):
                return reader, None
    if objects and len(objects) == 1 and whole_lines == 1:
        # A document written on one line is still a document.
        document: Any = objects[0]
    elif path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path))
    else:
        document = load_document(path)
    for reader in DOCUMENT_FORMATS:
        if reader.looks_like(document):
            return reader, document
    raise InputError(
        "not a transcript ridgeline can read; expected Claude Code or Codex JSONL, "
        "OpenHands output, a SWE-agent or mini-swe-agent trajectory, or ATIF JSON",
        file=str(path),
    )


def _first_objects(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Up to `_SNIFF_LINES` JSON objects from the file's first lines, and how many of
    the lines read parsed whole (0 when the first line does not)."""
    objects: list[dict[str, Any]] = []
    parsed = 0
    budget = _SNIFF_BYTES
    with path.open("rb") as stream:
        for raw in stream:
            budget -= len(raw)
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                if parsed == 0:
                    return [], 0
                continue
            parsed += 1
            if isinstance(value, dict):
                objects.append(value)
            if len(objects) >= _SNIFF_LINES or budget <= 0:
                break
    return objects, parsed

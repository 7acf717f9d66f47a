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
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path))
    objects, single = _first_objects(path)
    for reader in LINE_FORMATS:
        if any(reader.looks_like(obj) for obj in objects):
            return reader, None
    # A document written on one line is still a document, and is already parsed.
    document = objects[0] if single else load_document(path)
    for reader in DOCUMENT_FORMATS:
        if reader.looks_like(document):
            return reader, document
    raise InputError(
        "not a transcript ridgeline can read; expected Claude Code or Codex JSONL, "
        "OpenHands output, a SWE-agent or mini-swe-agent trajectory, or ATIF JSON",
        file=str(path),
    )


def _first_objects(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """JSON objects from the file's first lines (lines that do not parse are passed
    over: a transcript may begin with a damaged line), and whether the whole file is a
    single line that parsed."""
    objects: list[dict[str, Any]] = []
    lines = 0
    budget = _SNIFF_BYTES
    with path.open("rb") as stream:
        for raw in stream:
            budget -= len(raw)
            if not raw.strip():
                continue
            lines += 1
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
            if isinstance(value, dict):
                objects.append(value)
            if len(objects) >= _SNIFF_LINES or lines >= 4 * _SNIFF_LINES or budget <= 0:
                return objects, False
    return objects, lines == 1 and len(objects) == 1

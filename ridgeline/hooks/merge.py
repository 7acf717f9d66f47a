"""Editing other programs' configuration files without disturbing what is there.

Each helper changes only what ridgeline owns (hook entries that run ridgeline, one TOML
table, one marked section of a markdown file), refuses a file it cannot parse instead of
overwriting it, and writes through a temporary file and a rename, so a crash midway leaves
the old file whole.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from ridgeline.errors import InputError


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`, never leaving a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- JSON settings ----------------------------------------------------------------------


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when the file does not exist.

    Raises:
        InputError: the file is not valid JSON or not an object; it is left untouched.
    """
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON ({error.msg}, column {error.colno}); fix or move the file and "
            "run the command again. It was left as it is.",
            file=str(path),
            line=error.lineno,
        ) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top; the file was left as it is",
                         file=str(path))
    return data


def dump_json(data: dict[str, Any]) -> str:
    # Two-space indentation and a final newline: the layout Claude Code writes itself.
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- TOML tables ------------------------------------------------------------------------


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are a subset of TOML's."""
    return json.dumps(value, ensure_ascii=False)


def set_toml_table(text: str, header: str, body: str, comment: str) -> str:
    """`text` with the table `[header]` replaced by (or extended with) `body`.

    The table, its sub-tables and ridgeline's comment line above it are replaced in place;
    everything else is kept byte for byte. A new table goes at the end, where a table can
    always be added.
    """
    block = f"{comment}\n[{header}]\n{body}"
    start, end = _table_span(text, header)
    if start is None:
        base = text if not text or text.endswith("\n") else text + "\n"
        separator = "\n" if base.strip() else ""
        return f"{base}{separator}{block}"
    return text[:start] + block + text[end:]


def remove_toml_table(text: str, header: str) -> str:
    """`text` without the table `[header]`, its sub-tables and ridgeline's comment."""
    start, end = _table_span(text, header)
    if start is None:
        return text
    before, after = text[:start], text[end:]
    # Drop the blank line that set the table apart, so install + uninstall is a no-op.
    if before.endswith("\n\n") and not after:
        before = before[:-1]
    return before + after


def _table_span(text: str, header: str) -> tuple[int | None, int]:
    lines = text.splitlines(keepends=True)
    own = re.compile(rf"^\s*\[\s*{_header_pattern(header)}\s*(\.[^\]]*)?\]\s*(#.*)?$")
    any_header = re.compile(r"^\s*\[")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    first = next((i for i, line in enumerate(lines) if own.match(line)), None)
    if first is None:
        return None, len(text)
    start = first
    if start > 0 and lines[start - 1].startswith("# ridgeline:"):
        start -= 1
    end = first + 1
    while end < len(lines) and (not any_header.match(lines[end]) or own.match(lines[end])):
        end += 1
    return offsets[start], offsets[end]


def _header_pattern(header: str) -> str:
    # `mcp_servers.ridgeline` may be spelled with spaces or quotes around each part.
    parts = [rf"\"?{re.escape(part)}\"?" for part in header.split(".")]
    return r"\s*\.\s*".join(parts)


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """Parse TOML, naming the file in the error.

    Raises:
        InputError: the text is not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"not valid TOML ({error}); the file was left as it is",
                         file=str(path)) from None


# -- marked sections of text files -------------------------------------------------------


def set_marked_section(text: str, begin: str, end: str, body: str) -> str:
    """`text` with the section between the `begin` and `end` lines set to `body`."""
    section = f"{begin}\n{body.rstrip()}\n{end}\n"
    found = _section_span(text, begin, end)
    if found is None:
        base = text if not text or text.endswith("\n") else text + "\n"
        return f"{base}\n{section}" if base.strip() else section
    start, stop = found
    return text[:start] + section + text[stop:]


def remove_marked_section(text: str, begin: str, end: str) -> str:
    found = _section_span(text, begin, end)
    if found is None:
        return text
    start, stop = found
    before, after = text[:start], text[stop:]
    if before.endswith("\n\n") and not after:
        before = before[:-1]
    return before + after


def _section_span(text: str, begin: str, end: str) -> tuple[int, int] | None:
    start = text.find(begin)
    if start < 0:
        return None
    stop = text.find(end, start)
    if stop < 0:
        raise InputError(f"found {begin!r} without {end!r}; remove the partial section")
    stop += len(end)
    if text[stop:stop + 1] == "\n":
        stop += 1
    return start, stop

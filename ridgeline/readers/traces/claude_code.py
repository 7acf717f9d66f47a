"""Claude Code session transcripts (`~/.claude/projects/*/*.jsonl`).

Format quirks this reader relies on:

- Each line is an event with `type`, `timestamp` and `sessionId`. Tool calls are
  `tool_use` parts inside `assistant` lines; their results are `tool_result` parts in a
  later `user` line, matched by `tool_use_id`.
- A failed shell command's result has `is_error` and starts with `Exit code N`; a
  successful one says nothing about its exit status, so it is taken as 0.
- One model response is split over several lines that share `message.id`, each repeating
  the usage figures (the last one complete); usage is counted once per id.
- A compaction is a `system` line with subtype `compact_boundary`; the `user` line after
  it (`isCompactSummary`) is the summary, not something the user said.
- `progress`, `file-history-snapshot` and unknown line types carry nothing this reader
  needs and are skipped.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder, is_shell_tool
from ridgeline.readers.traces.source import (
    as_dict, as_list, iter_json_lines, parse_time, text_field, text_of,
)

NAME = "claude-code"

_EXIT_CODE = re.compile(r"^(?:Error: )?Exit code (-?\d+)")
_USAGE_FIELDS = (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
)
# A tuple, not a set: a damaged line may hold a list where the type should be, and a list
# cannot be looked up in a set.
_KNOWN_TYPES = ("user", "assistant", "system", "summary", "progress", "file-history-snapshot")

# Lines of one response are adjacent or nearly so; a short memory of ids is enough.
_RECENT_IDS = 256


def looks_like(line: dict[str, Any]) -> bool:
    return line.get("type") in _KNOWN_TYPES and (
        "sessionId" in line or "uuid" in line or "messageId" in line
    )


def read(path: Path, builder: TraceBuilder) -> None:
    usage_by_id: OrderedDict[str, dict[str, int]] = OrderedDict()
    for number, line in iter_json_lines(path, builder.malformed):
        kind = text_field(line, "type")
        if kind not in ("user", "assistant", "system"):
            continue
        at = parse_time(line.get("timestamp"))
        if line.get("sessionId"):
            builder.session(str(line["sessionId"]), number, at, cwd=line.get("cwd"))
        if kind == "system":
            _system(line, number, at, builder)
        elif kind == "assistant":
            _assistant(as_dict(line.get("message")), number, at, builder, usage_by_id)
        elif not line.get("isCompactSummary"):
            _user(as_dict(line.get("message")), number, at, builder)


def _system(line: dict[str, Any], number: int, at: float | None, builder: TraceBuilder) -> None:
    if line.get("subtype") != "compact_boundary":
        return
    meta = as_dict(line.get("compactMetadata"))
    builder.compaction(number, at, trigger=meta.get("trigger"), pre_tokens=meta.get("preTokens"))


def _assistant(
    message: dict[str, Any],
    number: int,
    at: float | None,
    builder: TraceBuilder,
    usage_by_id: OrderedDict[str, dict[str, int]],
) -> None:
    _count_usage(message, builder, usage_by_id)
    for part in as_list(message.get("content")):
        part = as_dict(part)
        if part.get("type") == "tool_use":
            name = str(part.get("name") or "tool")
            arguments = as_dict(part.get("input"))
            command = arguments.get("command") if is_shell_tool(name) else None
            builder.tool_call(number, at, name, command if isinstance(command, str) else None,
                              call_id=part.get("id"), arguments=arguments)
        elif part.get("type") == "text":
            builder.message("assistant", part.get("text"), number, at)


def _count_usage(
    message: dict[str, Any], builder: TraceBuilder, usage_by_id: OrderedDict[str, dict[str, int]]
) -> None:
    usage = as_dict(message.get("usage"))
    raw_id = message.get("id")
    message_id = None if raw_id is None else str(raw_id)  # damaged lines: any JSON value
    if not usage or not message_id:
        return
    current = {f: usage[f] for f in _USAGE_FIELDS if isinstance(usage.get(f), int)}
    previous = usage_by_id.pop(message_id, None)
    if previous is not None:
        # A later line of the same response: replace its figures rather than add them.
        builder.add_usage(**{f: -v for f, v in previous.items()})
    builder.add_usage(**current)
    usage_by_id[message_id] = current
    if len(usage_by_id) > _RECENT_IDS:
        usage_by_id.popitem(last=False)


def _user(message: dict[str, Any], number: int, at: float | None, builder: TraceBuilder) -> None:
    for part in as_list(message.get("content")):
        part = as_dict(part)
        if part.get("type") != "tool_result":
            continue
        output = text_of(part.get("content"))
        match = _EXIT_CODE.match(output)
        is_error = bool(part.get("is_error"))
        exit_status = int(match.group(1)) if match else (None if is_error else 0)
        builder.tool_result(part.get("tool_use_id"), number, at, output, exit_status, is_error)

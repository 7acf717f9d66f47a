"""Codex rollouts (`~/.codex/sessions/**/rollout-*.jsonl`).

Format quirks this reader relies on:

- Every line is `{timestamp, type, payload}`; `session_meta` opens a session.
- Commands are `response_item` payloads of type `function_call` (`exec_command`,
  `shell`), whose `arguments` is a JSON string holding `cmd` or `command` (a string, or
  an argv list such as `["bash", "-lc", "..."]`). The output comes later as a
  `function_call_output` with the same `call_id`. `custom_tool_call` (`apply_patch`) and
  `web_search_call` are tool calls too.
- An exit status appears in the output text (`Process exited with code N`,
  `Exit code: N`) or, in older rollouts, as JSON `{"output": ..., "metadata":
  {"exit_code": N}}`, or in an `exec_command_end` event that precedes the output.
- `token_count` events carry running totals in `info.total_token_usage`; the last wins.
- A compaction writes a top-level `compacted` record and then a `context_compacted`
  event; together they are one compaction.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder
from ridgeline.readers.traces.source import (
    as_dict, iter_json_lines, parse_time, text_field, text_of,
)

NAME = "codex"

# A tuple, not a set: a damaged line may hold an unhashable value as its type.
_LINE_TYPES = ("session_meta", "response_item", "event_msg", "turn_context", "compacted")
_EXIT_TEXT = re.compile(r"(?:Process exited with code|Exit code:?)\s*(-?\d+)")
_USAGE_FIELDS = (
    "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
    "total_tokens",
)
_MAX_PENDING_EXITS = 1_024


# Early rollouts wrote response items bare, one per line, after a header line with
# `instructions`, and interleaved `{"record_type": "state"}` lines.
_BARE_ITEMS = {
    "message", "function_call", "function_call_output", "reasoning", "local_shell_call",
    "local_shell_call_output", "custom_tool_call", "custom_tool_call_output",
    "web_search_call",
}


def looks_like(line: dict[str, Any]) -> bool:
    if line.get("type") in _LINE_TYPES and "payload" in line:
        return True
    return line.get("record_type") == "state" or (
        "instructions" in line and "id" in line and "timestamp" in line
    )


class _CodexState:
    """What must be remembered between lines: exits announced before their outputs."""

    def __init__(self) -> None:
        self.exits: OrderedDict[str, int] = OrderedDict()
        self.compacted_line: int | None = None


def read(path: Path, builder: TraceBuilder) -> None:
    state = _CodexState()
    for number, line in iter_json_lines(path, builder.malformed):
        at = parse_time(line.get("timestamp"))
        payload = as_dict(line.get("payload"))
        kind = text_field(line, "type")
        if kind == "session_meta":
            builder.session(str(payload.get("id") or number), number,
                            parse_time(payload.get("timestamp")) or at, cwd=payload.get("cwd"))
        elif kind == "compacted":
            state.compacted_line = number
            builder.compaction(number, at, trigger="compacted")
        elif kind == "response_item":
            _response_item(payload, number, at, builder, state)
        elif kind in _BARE_ITEMS:
            _response_item(line, number, at, builder, state)
        elif "instructions" in line and "id" in line:
            builder.session(str(line["id"]), number, at)
        elif kind == "event_msg":
            _event(payload, number, at, builder, state)


def _response_item(
    payload: dict[str, Any], number: int, at: float | None, builder: TraceBuilder,
    state: _CodexState,
) -> None:
    kind = text_field(payload, "type")
    if kind in ("function_call", "local_shell_call"):
        name = str(payload.get("name") or "shell")
        builder.tool_call(number, at, name, _command(payload), call_id=payload.get("call_id"),
                          arguments=_arguments(payload))
    elif kind == "custom_tool_call":
        builder.tool_call(number, at, str(payload.get("name") or "tool"),
                          call_id=payload.get("call_id"))
    elif kind == "web_search_call":
        builder.tool_call(number, at, "web_search")
    elif kind in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
        call_id = payload.get("call_id")
        output, exit_status = _output(payload.get("output"))
        if exit_status is None and call_id in state.exits:
            exit_status = state.exits.pop(call_id)
        builder.tool_result(call_id, number, at, output, exit_status)
    elif kind == "message" and payload.get("role") == "assistant":
        builder.message("assistant", text_of(payload.get("content")), number, at)


def _event(
    payload: dict[str, Any], number: int, at: float | None, builder: TraceBuilder,
    state: _CodexState,
) -> None:
    kind = text_field(payload, "type")
    if kind == "token_count":
        totals = as_dict(as_dict(payload.get("info")).get("total_token_usage"))
        builder.set_usage(**{f: totals.get(f) for f in _USAGE_FIELDS})
    elif kind == "context_compacted":
        # The `compacted` record just before already stands for this compaction.
        if state.compacted_line is None or number - state.compacted_line > 5:
            builder.compaction(number, at, trigger="context_compacted")
        state.compacted_line = None
    elif kind == "exec_command_end" and isinstance(payload.get("exit_code"), int):
        state.exits[str(payload.get("call_id"))] = payload["exit_code"]
        if len(state.exits) > _MAX_PENDING_EXITS:
            state.exits.popitem(last=False)


def _arguments(payload: dict[str, Any]) -> dict[str, Any]:
    arguments: Any = payload.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            # Redacted or free-form arguments: the call still counts, its text is unknown.
            return {}
    return as_dict(arguments) or as_dict(payload.get("action"))


def _command(payload: dict[str, Any]) -> str | None:
    arguments = _arguments(payload)
    command = arguments.get("cmd", arguments.get("command"))
    if isinstance(command, list):
        words = [str(word) for word in command]
        if len(words) >= 3 and words[1] in ("-lc", "-c"):
            return words[2]
        return " ".join(words)
    return command if isinstance(command, str) else None


def _output(raw: Any) -> tuple[str, int | None]:
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            exit_code = as_dict(decoded.get("metadata")).get("exit_code")
            text = text_of(decoded.get("output"))
            return text, exit_code if isinstance(exit_code, int) else _exit_in(text)
    text = text_of(raw) if not isinstance(raw, str) else raw
    return text, _exit_in(text)


def _exit_in(text: str) -> int | None:
    match = _EXIT_TEXT.search(text[:400])
    return int(match.group(1)) if match else None


"""mini-swe-agent trajectories (`*.traj.json`): one JSON document per task.

`messages` is the chat: `assistant` messages hold the commands, either as `tool_calls`
(`{"function": {"name": "bash", "arguments": "{\"command\": ...}"}}`) or, in older
versions, as a fenced bash block in the text; the answer is a `tool` message (or a
`user` message in older versions) whose text starts `<returncode>N</returncode>`, or
whose `extra.returncode` holds it. `extra.timestamp` is epoch seconds where present.
`info.exit_status` says how the episode ended (`Submitted`, or the exception that ended
it). Message numbers stand in for line numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder
from ridgeline.readers.traces.source import as_dict, as_list, load_document, parse_time, text_of

NAME = "mini-swe-agent"
UNIT = "message"

_RETURN_CODE = re.compile(r"<returncode>(-?\d+)</returncode>")
_BASH_BLOCK = re.compile(r"```(?:bash|sh)\s*\n(.*?)```", re.DOTALL)
_CLEAN_EXITS = {"submitted", ""}


def looks_like(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        return False
    info = as_dict(document.get("info"))
    return "trajectory_format" in document or "mini_version" in info or "model_stats" in info


def read(path: Path, builder: TraceBuilder, document: Any = None) -> None:
    document = document if document is not None else load_document(path)
    builder.session(str(document.get("instance_id") or path.stem), 1, None)
    pending: list[str] = []
    for number, message in enumerate(as_list(document.get("messages")), start=1):
        message = as_dict(message)
        at = parse_time(as_dict(message.get("extra")).get("timestamp"))
        role = message.get("role")
        if role == "assistant":
            pending = _commands(message, number, at, builder)
        elif role in ("tool", "user") and pending:
            call_id = message.get("tool_call_id") or pending[0]
            if call_id in pending:
                pending.remove(call_id)
            _result(message, str(call_id), number, at, builder)
    _ending(document, builder)


def _commands(message: dict[str, Any], number: int, at: float | None,
              builder: TraceBuilder) -> list[str]:
    text = text_of(message.get("content"))
    builder.message("assistant", text, number, at)
    call_ids = []
    calls = as_list(message.get("tool_calls"))
    for index, call in enumerate(calls):
        function = as_dict(as_dict(call).get("function"))
        command = _argument_command(function.get("arguments"))
        call_id = str(as_dict(call).get("id") or f"{number}.{index}")
        builder.tool_call(number, at, str(function.get("name") or "bash"), command, call_id)
        call_ids.append(call_id)
    if not calls:
        for index, block in enumerate(_BASH_BLOCK.findall(text)):
            call_id = f"{number}.{index}"
            builder.tool_call(number, at, "bash", block.strip(), call_id)
            call_ids.append(call_id)
    return call_ids


def _argument_command(arguments: Any) -> str | None:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments
    command = as_dict(arguments).get("command")
    return command if isinstance(command, str) else None


def _result(message: dict[str, Any], call_id: str, number: int, at: float | None,
            builder: TraceBuilder) -> None:
    text = text_of(message.get("content"))
    code = as_dict(message.get("extra")).get("returncode")
    if not isinstance(code, int):
        match = _RETURN_CODE.search(text[:200])
        code = int(match.group(1)) if match else None
    builder.tool_result(call_id, number, at, text, code)


def _ending(document: dict[str, Any], builder: TraceBuilder) -> None:
    info = as_dict(document.get("info"))
    status = str(info.get("exit_status") or "")
    if status.lower() not in _CLEAN_EXITS:
        count = len(as_list(document.get("messages")))
        builder.crash(count, None, f"episode ended with {status}")

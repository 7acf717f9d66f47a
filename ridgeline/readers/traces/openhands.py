"""OpenHands event histories: evaluation output and event streams.

Two shapes are read, line by line:

- Evaluation output (`output.jsonl`): one JSON object per task, with `instance_id`, a
  `history` list of events, `metrics` (token usage) and `error` (why the episode ended
  early, if it did). Each task is a session.
- An event stream: one event per line.

An event is an action (`action`: `run`, `edit`, `read`, `message`, ...) or an
observation (`observation`) whose `cause` is the id of the action it answers. An action
made through a tool carries `tool_call_metadata`; those are the tool calls. A command's
exit status is in the observation's `extras.metadata.exit_code` (-1 when it timed out).
Condensation (OpenHands' compaction) is an action or observation named `condensation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder
from ridgeline.readers.traces.source import as_dict, as_list, iter_json_lines, parse_time

NAME = "openhands"

_CONDENSATION = {"condensation", "agent_condensation", "condensation_request"}


def looks_like(line: dict[str, Any]) -> bool:
    if isinstance(line.get("history"), list) and ("instance_id" in line or "metrics" in line):
        return True
    return "source" in line and ("action" in line or "observation" in line) and "id" in line


def read(path: Path, builder: TraceBuilder) -> None:
    for number, line in iter_json_lines(path, builder.malformed):
        if isinstance(line.get("history"), list):
            _episode(line, number, builder)
        elif "action" in line or "observation" in line:
            if builder.analysis.sessions == []:
                builder.session(None, number, parse_time(line.get("timestamp")))
            _history_event(line, number, builder, prefix="")


def _episode(episode: dict[str, Any], number: int, builder: TraceBuilder) -> None:
    history = [as_dict(event) for event in as_list(episode.get("history"))]
    first_time = parse_time(history[0].get("timestamp")) if history else None
    instance = episode.get("instance_id")
    builder.session(str(instance) if instance is not None else f"line {number}", number,
                    first_time)
    # Event ids restart in every episode; the prefix keeps calls of two episodes apart.
    prefix = f"{number}:"
    for event in history:
        _history_event(event, number, builder, prefix)
    usage = as_dict(as_dict(episode.get("metrics")).get("accumulated_token_usage"))
    builder.add_usage(input_tokens=usage.get("prompt_tokens"),
                      output_tokens=usage.get("completion_tokens"),
                      cache_read_input_tokens=usage.get("cache_read_tokens"))
    if episode.get("error"):
        last_time = parse_time(history[-1].get("timestamp")) if history else None
        builder.crash(number, last_time, str(episode["error"]))


def _history_event(event: dict[str, Any], number: int, builder: TraceBuilder,
                   prefix: str) -> None:
    at = parse_time(event.get("timestamp"))
    action, observation = event.get("action"), event.get("observation")
    if action in _CONDENSATION or observation in _CONDENSATION:
        builder.compaction(number, at, trigger=action or observation)
    elif action is not None:
        _action(event, str(action), number, at, builder, prefix)
    elif observation is not None and event.get("cause") is not None:
        metadata = as_dict(as_dict(event.get("extras")).get("metadata"))
        exit_code = metadata.get("exit_code")
        content = event.get("content")
        builder.tool_result(f"{prefix}{event['cause']}", number, at,
                            content if isinstance(content, str) else None,
                            exit_code if isinstance(exit_code, int) else None)
    else:
        builder.seen_time(at)


def _action(event: dict[str, Any], action: str, number: int, at: float | None,
            builder: TraceBuilder, prefix: str) -> None:
    if action == "message" and event.get("source") == "agent":
        builder.message("assistant", event.get("message"), number, at)
    metadata = event.get("tool_call_metadata")
    if not isinstance(metadata, dict):
        builder.seen_time(at)
        return
    arguments = as_dict(event.get("args"))
    name = str(metadata.get("function_name") or action)
    command = arguments.get("command") if action == "run" else None
    if action in ("edit", "read"):
        # One editor tool both reads and writes; the action says which this call was.
        name = action
    builder.tool_call(number, at, name, command if isinstance(command, str) else None,
                      call_id=f"{prefix}{event.get('id')}")
    thought = arguments.get("thought")
    if isinstance(thought, str) and thought:
        builder.message("assistant", thought, number, at)

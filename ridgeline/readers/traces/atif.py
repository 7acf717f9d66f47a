"""ATIF agent trajectories (`schema_version` `ATIF-v1.x`): one JSON document per session.

`steps` are numbered (`step_id`) and come from `user`, `agent` or `system`. An agent
step carries `tool_calls` (`function_name`, `arguments`; a shell command is in
`arguments.keystrokes` or `arguments.command`) and an `observation.results` list
answering them (by `source_call_id` where given, else in order). A system step that
hands the context to a summarizer (its results point at a `subagent_trajectory_ref`, or
its message speaks of summarization) is a compaction. Steps marked `is_copied_context`
repeat a parent trajectory and are not counted again. `final_metrics` holds token totals.
Step ids stand in for line numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder, is_shell_tool
from ridgeline.readers.traces.source import as_dict, as_list, load_document, parse_time, text_of

NAME = "atif"
UNIT = "step"


def looks_like(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        return False
    return str(document.get("schema_version", "")).upper().startswith("ATIF") or (
        "session_id" in document and "agent" in document
    )


def read(path: Path, builder: TraceBuilder, document: Any = None) -> None:
    document = document if document is not None else load_document(path)
    steps = [as_dict(step) for step in as_list(document.get("steps"))]
    first = parse_time(steps[0].get("timestamp")) if steps else None
    builder.session(str(document.get("session_id") or path.stem), 1, first)
    for position, step in enumerate(steps, start=1):
        if step.get("is_copied_context"):
            continue
        number = step.get("step_id") if isinstance(step.get("step_id"), int) else position
        at = parse_time(step.get("timestamp"))
        if _is_compaction(step):
            builder.compaction(number, at, trigger="summarization")
        elif step.get("source") == "agent":
            _agent_step(step, number, at, builder)
        else:
            builder.seen_time(at)
    totals = as_dict(document.get("final_metrics"))
    builder.set_usage(input_tokens=totals.get("total_prompt_tokens"),
                      output_tokens=totals.get("total_completion_tokens"),
                      cache_read_input_tokens=totals.get("total_cached_tokens"))


def _is_compaction(step: dict[str, Any]) -> bool:
    if step.get("source") != "system":
        return False
    results = as_list(as_dict(step.get("observation")).get("results"))
    if any("subagent_trajectory_ref" in as_dict(result) for result in results):
        return True
    message = str(step.get("message") or "").lower()
    return "summariz" in message or "compact" in message


def _agent_step(step: dict[str, Any], number: int, at: float | None,
                builder: TraceBuilder) -> None:
    builder.message("assistant", text_of(step.get("message")), number, at)
    call_ids = []
    for index, call in enumerate(as_list(step.get("tool_calls"))):
        call = as_dict(call)
        name = str(call.get("function_name") or "tool")
        arguments = as_dict(call.get("arguments"))
        command = arguments.get("keystrokes", arguments.get("command"))
        if not is_shell_tool(name) and "keystrokes" not in arguments:
            command = None
        call_id = str(call.get("tool_call_id") or f"{number}.{index}")
        builder.tool_call(number, at, name, command if isinstance(command, str) else None,
                          call_id)
        call_ids.append(call_id)
    results = as_list(as_dict(step.get("observation")).get("results"))
    for index, result in enumerate(results):
        result = as_dict(result)
        call_id = result.get("source_call_id")
        if call_id is None and index < len(call_ids):
            call_id = call_ids[index]
        exit_code = as_dict(result.get("extra")).get("exit_code", result.get("exit_code"))
        builder.tool_result(None if call_id is None else str(call_id), number, at,
                            text_of(result.get("content")),
                            exit_code if isinstance(exit_code, int) else None)

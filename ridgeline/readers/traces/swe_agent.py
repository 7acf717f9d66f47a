"""SWE-agent trajectories (`*.traj`): one JSON document per task.

`trajectory` is a list of steps, each with the `action` (a shell command or one of
SWE-agent's own commands such as `open` or `edit`), its `observation`, the `thought`
behind it and its `execution_time`. There are no timestamps and no exit statuses, so
no step can be seen to fail; `info.exit_status` says how the episode ended
(`submitted`, or `exit_cost`, `exit_error`, ... when it was cut short). Step numbers
stand in for line numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ridgeline.readers.traces.model import TraceBuilder
from ridgeline.readers.traces.source import as_dict, as_list, load_document

NAME = "swe-agent"
UNIT = "step"

_CLEAN_EXITS = {"submitted", "submitted (exit_cost)", "submitted (exit_context)"}


def looks_like(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("trajectory"), list)


def read(path: Path, builder: TraceBuilder, document: Any = None) -> None:
    document = document if document is not None else load_document(path)
    info = as_dict(document.get("info"))
    builder.session(str(document.get("instance_id") or path.stem), 1, None)
    steps = [as_dict(step) for step in as_list(document.get("trajectory"))]
    for number, step in enumerate(steps, start=1):
        builder.message("assistant", step.get("thought"), number, None)
        action = step.get("action")
        if not isinstance(action, str) or not action.strip():
            continue
        call_id = str(number)
        builder.tool_call(number, None, "bash", action, call_id=call_id)
        observation = step.get("observation")
        builder.tool_result(call_id, number, None,
                            observation if isinstance(observation, str) else None, None)
    status = info.get("exit_status")
    if isinstance(status, str) and status not in _CLEAN_EXITS and "error" in status:
        builder.crash(len(steps), None, f"episode ended with {status}")
    stats = as_dict(info.get("model_stats"))
    builder.add_usage(input_tokens=stats.get("tokens_sent"),
                      output_tokens=stats.get("tokens_received"))

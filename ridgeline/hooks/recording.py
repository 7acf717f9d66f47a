"""Turning a benchmark command an agent ran into a run in the ledger."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import Run

_VERSION_IN_COMMAND = re.compile(r"(?:^|[\s;&|(])RIDGELINE_VERSION=(?P<name>[^\s;&|)]+)")
_REASON_LIMIT = 500


def record_command(ledger: Ledger, payload: dict[str, Any], command: str, *, agent: str) -> Run:
    """Record the benchmark command of a tool-use hook payload as one run.

    An `ok` run needs a metric; a command that failed, was interrupted or printed no
    usable value is recorded as a crash with the reason, since that is what it was for
    the benchmark.
    """
    output, failure = _output_and_failure(payload)
    metrics = _metrics(ledger, output)
    usable = {k: v for k, v in metrics.items() if v is not None}
    if failure is None and not usable:
        failure = "the benchmark printed no metric value"
    session = payload.get("session_id")
    tool_use = payload.get("tool_use_id")
    description = (payload.get("tool_input") or {}).get("description")
    state = _git_state(payload.get("cwd"), ledger)
    return ledger.record(
        version=_version(command, state),
        metrics=metrics if failure is None else usable or None,
        outcome="ok" if failure is None else "crash",
        reason=failure,
        commit=state.commit if state else None,
        dirty=state.dirty if state else None,
        diff_hash=state.diff_hash if state else None,
        command=command,
        description=description if isinstance(description, str) else None,
        agent=agent,
        session=session if isinstance(session, str) else None,
        # A hook retried for the same tool call must not count the run twice.
        key=f"{agent}:{session}:{tool_use}" if tool_use else None,
    )


def _output_and_failure(payload: dict[str, Any]) -> tuple[str, str | None]:
    response = payload.get("tool_response")
    if payload.get("hook_event_name") == "PostToolUseFailure" or response is None:
        error = str(payload.get("error") or "the command failed")
        return error, error[:_REASON_LIMIT]
    if isinstance(response, str):
        return response, None
    if not isinstance(response, dict):
        return "", None
    output = "\n".join(str(response.get(k) or "") for k in ("stdout", "stderr"))
    if response.get("interrupted"):
        return output, "interrupted before it finished"
    return output, None


def _metrics(ledger: Ledger, output: str) -> dict[str, float | None]:
    from ridgeline.outputs import extract_metrics

    patterns = ledger.get_setting("bench.patterns")
    if isinstance(patterns, str):
        patterns = [patterns]
    found = extract_metrics(output, patterns)
    names = {o.name for o in ledger.objectives()}
    # With objectives declared, only their metrics are kept: a benchmark prints much else.
    if names:
        found = {k: v for k, v in found.items() if k in names}
    # NaN and infinity are not results: the run keeps the metric's name with no value.
    return {k: (v if math.isfinite(v) else None) for k, v in found.items()}


def _version(command: str, state: Any) -> str | None:
    # Named in the command (`RIDGELINE_VERSION=gpu_v3 ./bench.sh`), else named for the
    # commit the way `ridgeline bench` names it, so both interfaces agree.
    match = _VERSION_IN_COMMAND.search(command)
    if match:
        return match.group("name")
    if state is None:
        return None
    from ridgeline.benchrun import default_version

    return default_version(state)


def _git_state(cwd: Any, ledger: Ledger) -> Any:
    if not isinstance(cwd, str) or not Path(cwd).is_dir():
        return None
    from ridgeline.benchrun import ledger_paths
    from ridgeline.gitinfo import current_state

    try:
        return current_state(cwd, ledger_paths(ledger))
    except InputError:  # git is missing or failed: the run matters more than its commit
        return None

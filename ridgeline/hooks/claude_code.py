"""Claude Code hooks: the brief at every session start, runs recorded as they happen.

The protocol, from Claude Code's hooks reference (code.claude.com/docs/en/hooks):

- Settings: `hooks` in `.claude/settings.json` maps an event name to a list of matcher
  groups, `{"matcher": "...", "hooks": [{"type": "command", "command": "...",
  "timeout": seconds}]}`. The matcher is a tool-name pattern for the tool events and the
  source or trigger for SessionStart and PreCompact.
- Input: one JSON object on stdin with `session_id`, `transcript_path`, `cwd`,
  `hook_event_name` and the event's own fields: `source` (startup, resume, clear,
  compact) for SessionStart; `tool_name`, `tool_input` (for Bash: `command`,
  `description`), `tool_response` (for Bash: `stdout`, `stderr`, `interrupted`) and
  `tool_use_id` for PostToolUse; `error` instead of `tool_response` for
  PostToolUseFailure; `trigger` (manual, auto) and `custom_instructions` for PreCompact.
- Output: exit 0. For SessionStart, `hookSpecificOutput.additionalContext` of a JSON
  object on stdout is added to the agent's context; PostToolUse accepts the same field.
  Exit 2 would block (PreCompact would even cancel the compaction), so this handler
  never uses it: on any failure it exits 0 and explains on stderr.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any, NamedTuple

from ridgeline.errors import InputError
from ridgeline.hooks.merge import dump_json, read_json_object, write_atomically

AGENT = "claude-code"

# The module the installed hook commands run; it also marks which entries are ridgeline's.
ENTRY_MODULE = "ridgeline.hooks"

# Event -> matcher, for every event ridgeline listens to.
EVENTS = {
    "SessionStart": "startup|resume|clear|compact",
    "PostToolUse": "Bash",
    "PostToolUseFailure": "Bash",
    "PreCompact": "",
}

# Seconds Claude Code waits for the hook. The brief of a large ledger takes a second or two.
TIMEOUT = 60


class HookResult(NamedTuple):
    stdout: str = ""
    stderr: str = ""


# -- install and uninstall --------------------------------------------------------------


def settings_path(project: Path) -> Path:
    return project / ".claude" / "settings.json"


def hook_command(db: str, bench_pattern: str | None = None) -> str:
    """The shell command the hooks run: this Python, this ledger, no console script."""
    argv = [sys.executable, "-m", ENTRY_MODULE, AGENT, "--db", db]
    if bench_pattern:
        argv += ["--bench-pattern", bench_pattern]
    return shlex.join(argv)


def install(project: Path, db: str, bench_pattern: str | None = None) -> Path:
    """Merge ridgeline's hooks into the project's settings; running it twice changes nothing.

    Raises:
        InputError: the settings file is not a valid JSON object (it is left untouched).
    """
    path = settings_path(project)
    settings = read_json_object(path)
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict) or not all(isinstance(v, list) for v in hooks.values()):
        raise InputError("expected an object of event names to lists of hook groups; the "
                         "file was left as it is", file=str(path), field="hooks")
    command = hook_command(db, bench_pattern)
    for event, matcher in EVENTS.items():
        groups = _without_ours(hooks.get(event, []))
        group: dict[str, Any] = {"matcher": matcher} if matcher else {}
        group["hooks"] = [{"type": "command", "command": command, "timeout": TIMEOUT}]
        hooks[event] = [*groups, group]
    write_atomically(path, dump_json(settings))
    return path


def uninstall(project: Path) -> Path | None:
    """Remove exactly the entries `install` added; None when there was no settings file."""
    path = settings_path(project)
    if not path.exists():
        return None
    settings = read_json_object(path)
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return path
    for event in list(hooks):
        if not isinstance(hooks[event], list):
            continue
        remaining = _without_ours(hooks[event])
        if remaining:
            hooks[event] = remaining
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    if settings:
        write_atomically(path, dump_json(settings))
    else:
        # Nothing but ridgeline's hooks was there: the file was created by install.
        path.unlink()
    return path


def _without_ours(groups: list[Any]) -> list[Any]:
    kept = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            kept.append(group)
            continue
        others = [h for h in group["hooks"] if not _is_ours(h)]
        if len(others) == len(group["hooks"]):
            kept.append(group)
        elif others:
            kept.append({**group, "hooks": others})
    return kept


def _is_ours(hook: Any) -> bool:
    command = hook.get("command", "") if isinstance(hook, dict) else ""
    return isinstance(command, str) and f"-m {ENTRY_MODULE} {AGENT}" in command


# -- the handler ------------------------------------------------------------------------


def handle(payload: dict[str, Any], db: str, bench_pattern: str | None = None) -> HookResult:
    """Act on one hook event; what to print comes back, nothing is printed here."""
    event = payload.get("hook_event_name")
    if event == "SessionStart":
        return _session_start(payload, db)
    if event in ("PostToolUse", "PostToolUseFailure"):
        return _tool_used(payload, db, bench_pattern)
    if event == "PreCompact":
        return _pre_compact(payload, db)
    return HookResult()


def _session_start(payload: dict[str, Any], db: str) -> HookResult:
    import ridgeline
    from ridgeline.analysis.brief import build_brief, default_budget

    with ridgeline.open(db) as ledger:
        ledger.add_event("session_start", _event_data(payload, source=payload.get("source")))
        brief = build_brief(ledger, default_budget(ledger))
    output = {
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": brief.text,
        }
    }
    return HookResult(json.dumps(output))


def _pre_compact(payload: dict[str, Any], db: str) -> HookResult:
    import ridgeline

    trigger = payload.get("trigger") or "unknown"
    session = payload.get("session_id") or "unknown"
    with ridgeline.open(db) as ledger, ledger.transaction():
        ledger.add_event("compaction", _event_data(payload, trigger=trigger))
        ledger.add_note(
            f"Context compacted ({trigger}) in Claude Code session {session}; read the "
            "brief again before acting.",
            tags=["compaction", AGENT],
        )
    return HookResult()


def _event_data(payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {"agent": AGENT, "session": payload.get("session_id"), **extra}
    return {key: value for key, value in data.items() if value is not None}


def _tool_used(payload: dict[str, Any], db: str, bench_pattern: str | None) -> HookResult:
    tool_input = payload.get("tool_input") or {}
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    if payload.get("tool_name") != "Bash" or not isinstance(command, str):
        return HookResult()
    # Most Bash calls are not benchmarks; a pattern given at install decides without
    # opening the ledger.
    if bench_pattern and not re.search(bench_pattern, command):
        return HookResult()

    import ridgeline
    from ridgeline.hooks.recording import record_command

    with ridgeline.open(db) as ledger:
        if not bench_pattern and not _matches_setting(ledger, command):
            return HookResult()
        run = record_command(ledger, payload, command, agent=AGENT)
    event = payload.get("hook_event_name")
    return HookResult(json.dumps(_feedback(run, event if isinstance(event, str) else None)))


def _matches_setting(ledger: Any, command: str) -> bool:
    if _RIDGELINE_BENCH.search(command):
        return False  # `ridgeline bench` records its own runs; recording here would double them
    pattern = ledger.get_setting("bench.pattern")
    bench_command = ledger.get_setting("bench.command")
    has_pattern = isinstance(pattern, str) and bool(pattern)
    has_command = isinstance(bench_command, str) and bool(bench_command)
    if has_pattern and re.search(pattern, command):
        return True
    if has_command and bench_command in command:
        return True
    if has_pattern or has_command:
        return False
    # Nothing configured: the same heuristic that `trace import` uses, so a fresh install
    # records benchmark runs instead of silently nothing.
    from ridgeline.readers.traces.commands import compile_bench_matcher

    return compile_bench_matcher()(command)


_RIDGELINE_BENCH = re.compile(r"\bridgeline\s+bench\b")


def _feedback(run: Any, event: str | None) -> dict[str, Any]:
    # The answer names the event it answers: PostToolUse, or PostToolUseFailure for a
    # command that failed.
    values = ", ".join(f"{k}={v:.6g}" for k, v in sorted(run.metrics.items()) if v is not None)
    what = f"{run.outcome}" + (f" {values}" if values else f": {run.reason}")
    text = f"ridgeline recorded run {run.id} ({run.version or 'no version'}, {what})."
    return {"hookSpecificOutput": {"hookEventName": event or "PostToolUse",
                                   "additionalContext": text}}


def resolve_ledger(project: Path, db: str | None) -> str:
    """The ledger the hooks write to: `db`, else the project's default ledger."""
    if db:
        return db if "://" in db else str(Path(db).resolve())
    from ridgeline.location import default_location

    return default_location(project.resolve())

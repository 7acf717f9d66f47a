"""A scripted Claude Code session: runs recorded through the hooks, a compaction, and the
brief that the next session start puts back into the agent's context."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import ridgeline

SESSION = "5b0d8f1e-2c47-4d8e-b1a3-77c2a9e4f601"


def _settings_commands(project: Path) -> dict[str, str]:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    return {
        event: group["hooks"][0]["command"]
        for event, groups in settings["hooks"].items()
        for group in groups
    }


class Agent:
    """Plays Claude Code: fires the installed hook commands with real-format payloads."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.commands = _settings_commands(project)
        self.tool_uses = 0

    def fire(self, event: str, **fields) -> str:
        payload = {
            "session_id": SESSION,
            "transcript_path": str(self.project / "session.jsonl"),
            "cwd": str(self.project),
            "permission_mode": "acceptEdits",
            "hook_event_name": event,
            **fields,
        }
        done = subprocess.run(
            shlex.split(self.commands[event]), input=json.dumps(payload), text=True,
            capture_output=True, cwd=self.project, timeout=120,
        )
        assert done.returncode == 0
        assert "ridgeline hook" not in done.stderr, done.stderr
        return done.stdout

    def bash(self, command: str, stdout: str) -> str:
        self.tool_uses += 1
        return self.fire(
            "PostToolUse", tool_name="Bash", tool_use_id=f"toolu_{self.tool_uses:03d}",
            tool_input={"command": command, "description": "benchmark"},
            tool_response={"stdout": stdout, "stderr": "", "interrupted": False,
                           "isImage": False},
        )

    def context(self, source: str) -> str:
        output = json.loads(self.fire("SessionStart", source=source, model="claude-opus"))
        return output["hookSpecificOutput"]["additionalContext"]


def test_compaction_brings_back_the_best_version_and_the_lessons(
    tmp_path, ridgeline_bin, sqlite_location
):
    project = tmp_path / "kernel"
    project.mkdir()
    db = ["--db", sqlite_location]
    subprocess.run([ridgeline_bin, *db, "objective", "add", "tok_per_sec", "--direction",
                    "max", "--unit", "tok/s", "--baseline", "160"], check=True)
    subprocess.run([ridgeline_bin, "hooks", "install", "claude-code", "--project",
                    str(project), *db, "--bench-pattern", r"\./bench\.sh"], check=True)
    agent = Agent(project)

    first = agent.context("startup")
    agent.bash("RIDGELINE_VERSION=gpu_v1 ./bench.sh", "tok_per_sec: 43.3\n")
    agent.bash("git diff --stat", "1 file changed\n")
    agent.bash("RIDGELINE_VERSION=gpu_v9 ./bench.sh", "decode ok\ntok_per_sec: 55.2\n")
    agent.bash("RIDGELINE_VERSION=gpu_v10 ./bench.sh", "tok_per_sec: nan\n")
    subprocess.run([ridgeline_bin, *db, "lesson", "add",
                    "check attention scale before fusing kernels", "--run", "3"], check=True)
    agent.bash("RIDGELINE_VERSION=gpu_v10 ./bench.sh", "tok_per_sec: 72.1\n")
    agent.fire("PreCompact", trigger="auto", custom_instructions="")
    after = agent.context("compact")

    assert "No runs recorded yet" in first
    assert "version **gpu_v10**" in after and "best 72.1 by gpu_v10" in after
    assert "check attention scale before fusing kernels" in after
    assert "1 compaction so far" in after
    with ridgeline.open(sqlite_location) as ledger:
        runs = ledger.runs()
        sources = [e.data["source"] for e in ledger.events("session_start")]
        compactions = ledger.events("compaction")
    assert [(r.version, r.outcome) for r in runs] == [
        ("gpu_v1", "ok"), ("gpu_v9", "ok"), ("gpu_v10", "crash"), ("gpu_v10", "ok")]
    assert sources == ["startup", "compact"]
    assert [c.data["trigger"] for c in compactions] == ["auto"]

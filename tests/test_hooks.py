"""Claude Code and Codex hooks: install, uninstall, and real payloads fed to the hook."""

from __future__ import annotations

import json
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

import ridgeline
from ridgeline.hooks import claude_code, codex

BENCH = r"python bench\.py"

# Other tools' hooks already in a project's settings, in Claude Code's own format.
EXISTING_SETTINGS = {
    "permissions": {"allow": ["Bash(npm test:*)"]},
    "hooks": {
        "PostToolUse": [
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier -w"}]}
        ],
        "PreCompact": [{"hooks": [{"type": "command", "command": "save-state.sh"}]}],
    },
}


def _payload(event: str, cwd: Path, **fields) -> dict:
    # The common fields every Claude Code hook receives on stdin.
    return {
        "session_id": "0f3c9a52-5d1e-4b8a-9a53-2b1f0e0c7d11",
        "transcript_path": str(cwd / "transcript.jsonl"),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }


def _bash(command: str, stdout: str, cwd: Path, tool_use_id: str = "toolu_01") -> dict:
    return _payload(
        "PostToolUse", cwd,
        tool_name="Bash",
        tool_input={"command": command, "description": "Run the decode benchmark"},
        tool_response={"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False},
        tool_use_id=tool_use_id,
    )


def _installed_commands(project: Path) -> dict[str, str]:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    found = {}
    for event, groups in settings["hooks"].items():
        for group in groups:
            for hook in group["hooks"]:
                if "ridgeline.hooks" in hook["command"]:
                    found[event] = hook["command"]
    return found


def _fire(project: Path, payload: dict) -> subprocess.CompletedProcess:
    """Run the command installed for this event, as Claude Code would."""
    command = _installed_commands(project)[payload["hook_event_name"]]
    return subprocess.run(
        shlex.split(command), input=json.dumps(payload), capture_output=True, text=True,
        cwd=payload["cwd"], timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path, db_location: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160)
    claude_code.install(folder, db_location, BENCH)
    return folder


# -- install and uninstall --------------------------------------------------------------


def test_install_keeps_other_hooks_and_uninstall_restores_the_file(tmp_path, sqlite_location):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = json.dumps(EXISTING_SETTINGS, indent=2) + "\n"
    settings.write_text(original)

    claude_code.install(tmp_path, sqlite_location)
    installed = json.loads(settings.read_text())

    assert installed["permissions"] == EXISTING_SETTINGS["permissions"]
    assert installed["hooks"]["PostToolUse"][0] == EXISTING_SETTINGS["hooks"]["PostToolUse"][0]
    assert installed["hooks"]["PostToolUse"][1]["matcher"] == "Bash"
    assert installed["hooks"]["PreCompact"][0] == EXISTING_SETTINGS["hooks"]["PreCompact"][0]
    assert installed["hooks"]["SessionStart"][0]["matcher"] == "startup|resume|clear|compact"
    assert set(_installed_commands(tmp_path)) == set(claude_code.EVENTS)

    claude_code.uninstall(tmp_path)

    assert settings.read_text() == original


def test_install_twice_is_the_same_as_once(tmp_path, sqlite_location):
    claude_code.install(tmp_path, sqlite_location, BENCH)
    once = (tmp_path / ".claude" / "settings.json").read_text()

    claude_code.install(tmp_path, sqlite_location, BENCH)

    assert (tmp_path / ".claude" / "settings.json").read_text() == once
    claude_code.uninstall(tmp_path)
    assert not (tmp_path / ".claude" / "settings.json").exists()


def test_settings_that_are_not_json_give_a_clear_error_and_stay_untouched(
    tmp_path, sqlite_location, ridgeline_bin
):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": {,}')

    done = subprocess.run(
        [ridgeline_bin, "hooks", "install", "claude-code", "--project", str(tmp_path),
         "--db", sqlite_location], capture_output=True, text=True,
    )

    assert done.returncode == 1
    assert "settings.json" in done.stderr and "not valid JSON" in done.stderr
    assert settings.read_text() == '{"hooks": {,}'


def test_cli_install_defaults_to_the_projects_git_ledger(tmp_path, ridgeline_bin):
    (tmp_path / ".git").mkdir()

    subprocess.run([ridgeline_bin, "hooks", "install", "claude-code", "--project",
                    str(tmp_path)], check=True, capture_output=True)

    command = _installed_commands(tmp_path)["SessionStart"]
    assert str(tmp_path.resolve() / ".git" / "ridgeline" / "ledger.db") in command


# -- real payloads through the installed command ----------------------------------------


@pytest.mark.parametrize("source", ["startup", "resume", "compact", "clear"])
def test_session_start_adds_the_brief_to_context(project, db_location, source):
    with ridgeline.open(db_location) as ledger:
        ledger.record(version="gpu_v14", metrics={"tok_per_sec": 193.1}, at=1_776_670_000)
        ledger.add_lesson("re-run the correctness check after every fusion")

    done = _fire(project, _payload("SessionStart", project, source=source, model="claude"))

    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "SessionStart"
    assert "gpu_v14" in output["additionalContext"]
    assert "re-run the correctness check" in output["additionalContext"]
    with ridgeline.open(db_location) as ledger:
        assert [e.data["source"] for e in ledger.events("session_start")] == [source]


def test_benchmark_command_is_recorded_with_its_metrics(project, db_location):
    payload = _bash("RIDGELINE_VERSION=gpu_v9 python bench.py --decode",
                    "warming up\ntok_per_sec: 55.2\nmemory_gb: 3.1\n", project)

    done = _fire(project, payload)
    again = _fire(project, payload)  # a retried hook call must not add a second run

    assert done.returncode == 0 and again.returncode == 0, done.stderr
    assert "recorded run 1" in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    with ridgeline.open(db_location) as ledger:
        [run] = ledger.runs()
    assert (run.version, run.metrics, run.outcome) == ("gpu_v9", {"tok_per_sec": 55.2}, "ok")
    assert run.command == "RIDGELINE_VERSION=gpu_v9 python bench.py --decode"
    assert run.description == "Run the decode benchmark"
    assert (run.agent, run.session) == ("claude-code", payload["session_id"])


def test_benchmark_without_a_metric_and_a_failed_one_are_crashes(project, db_location):
    silent = _bash("RIDGELINE_VERSION=gpu_v2 python bench.py", "Segmentation fault\n",
                   project, tool_use_id="toolu_02")
    failed = _payload("PostToolUseFailure", project, tool_name="Bash",
                      tool_input={"command": "RIDGELINE_VERSION=gpu_v3 python bench.py"},
                      tool_use_id="toolu_03", error="Exit code 1\nkernel timeout",
                      is_interrupt=False)

    assert _fire(project, silent).returncode == 0
    assert _fire(project, failed).returncode == 0

    with ridgeline.open(db_location) as ledger:
        runs = ledger.runs()
    assert [(r.version, r.outcome) for r in runs] == [("gpu_v2", "crash"), ("gpu_v3", "crash")]
    assert "no metric" in runs[0].reason
    assert "kernel timeout" in runs[1].reason


def test_other_commands_are_not_recorded(project, db_location):
    done = _fire(project, _bash("ls -la && git status", "tok_per_sec: 1\n", project))

    assert done.returncode == 0 and done.stdout == ""
    with ridgeline.open(db_location) as ledger:
        assert ledger.count_runs() == 0


def test_bench_pattern_setting_is_used_when_none_was_given_at_install(
    tmp_path, sqlite_location
):
    claude_code.install(tmp_path, sqlite_location)
    with ridgeline.open(sqlite_location) as ledger:
        ledger.set_setting("bench.command", "./run_bench.sh")

    _fire(tmp_path, _bash("./run_bench.sh --quick", "score: 0.91\n", tmp_path))
    _fire(tmp_path, _bash("make", "score: 7\n", tmp_path, tool_use_id="toolu_09"))

    with ridgeline.open(sqlite_location) as ledger:
        assert [r.metrics for r in ledger.runs()] == [{"score": 0.91}]


def test_with_nothing_configured_the_default_heuristic_records_benchmarks(
    tmp_path, sqlite_location
):
    claude_code.install(tmp_path, sqlite_location)

    _fire(tmp_path, _bash("RIDGELINE_VERSION=v3 python bench.py", "tok_per_sec: 77.5\n",
                          tmp_path))
    _fire(tmp_path, _bash("cat bench.py", "tok_per_sec: 1\n", tmp_path, tool_use_id="t2"))
    # `ridgeline bench` records its own run; the hook must not record it a second time.
    _fire(tmp_path, _bash("ridgeline bench -- python bench.py", "tok_per_sec: 80\n", tmp_path,
                          tool_use_id="t3"))

    with ridgeline.open(sqlite_location) as ledger:
        assert [(r.version, r.metrics) for r in ledger.runs()] == [("v3", {"tok_per_sec": 77.5})]


def test_infinite_metric_in_output_is_a_crash(tmp_path, sqlite_location):
    claude_code.install(tmp_path, sqlite_location)

    _fire(tmp_path, _bash("python bench.py", "tok_per_sec: inf\n", tmp_path))

    with ridgeline.open(sqlite_location) as ledger:
        [run] = ledger.runs()
    assert run.outcome == "crash" and "no metric value" in run.reason


def test_pre_compact_marks_the_compaction(project, db_location):
    done = _fire(project, _payload("PreCompact", project, trigger="auto",
                                   custom_instructions=""))

    assert done.returncode == 0 and done.stdout == ""
    with ridgeline.open(db_location) as ledger:
        [event] = ledger.events("compaction")
        [note] = ledger.notes(tag="compaction")
    assert event.data == {"agent": "claude-code", "session": _payload("x", project)["session_id"],
                          "trigger": "auto"}
    assert "auto" in note.text


def test_an_internal_error_never_breaks_the_session(project, tmp_path):
    broken = tmp_path / "not-a-ledger.db"
    broken.write_text("this is not sqlite")
    command = shlex.split(_installed_commands(project)["SessionStart"])
    command[command.index("--db") + 1] = str(broken)

    done = subprocess.run(command, input=json.dumps(_payload("SessionStart", project,
                                                             source="startup")),
                          capture_output=True, text=True, timeout=60)
    garbage = subprocess.run(command, input="not json", capture_output=True, text=True,
                             timeout=60)

    assert done.returncode == 0 and done.stdout == "" and "ridgeline hook" in done.stderr
    assert garbage.returncode == 0 and "ridgeline hook" in garbage.stderr


# -- Codex -------------------------------------------------------------------------------


def test_codex_install_merges_config_and_agents_and_uninstall_undoes_both(
    tmp_path, isolated_home, sqlite_location
):
    config = isolated_home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = (
        'model = "gpt-5-codex"  # keep this comment\n\n'
        "[mcp_servers.docs]\n"
        'command = "npx"\nargs = ["-y", "docs-server"]\n\n'
        "[profiles.fast]\n"
        'model = "gpt-5-mini"\n'
    )
    config.write_text(original)
    agents = tmp_path / "AGENTS.md"
    agents.write_text("# House rules\n\nRun the tests before committing.\n")

    codex.install(tmp_path, sqlite_location)
    codex.install(tmp_path, sqlite_location)  # idempotent

    text = config.read_text()
    parsed = tomllib.loads(text)
    assert text.startswith(original)
    assert parsed["mcp_servers"]["docs"]["args"] == ["-y", "docs-server"]
    assert parsed["mcp_servers"]["ridgeline"]["args"] == ["mcp", "--db", sqlite_location]
    assert parsed["mcp_servers"]["ridgeline"]["command"].endswith("ridgeline")
    assert agents.read_text().count("<!-- ridgeline:begin -->") == 1
    assert "brief" in agents.read_text() and "record_run" in agents.read_text()

    codex.uninstall(tmp_path)

    assert config.read_text() == original
    assert agents.read_text() == "# House rules\n\nRun the tests before committing.\n"


def test_codex_install_replaces_its_table_in_the_middle_of_the_file(
    tmp_path, isolated_home, sqlite_location
):
    config = isolated_home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('[mcp_servers.ridgeline]\ncommand = "old"\n\n[profiles.x]\nmodel = "m"\n')

    codex.install(tmp_path, sqlite_location)

    parsed = tomllib.loads(config.read_text())
    assert parsed["profiles"] == {"x": {"model": "m"}}
    assert parsed["mcp_servers"]["ridgeline"]["command"] != "old"


def test_codex_config_that_is_not_toml_is_left_alone(tmp_path, isolated_home, sqlite_location):
    config = isolated_home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text("model = \n")

    with pytest.raises(ridgeline.InputError, match="not valid TOML"):
        codex.install(tmp_path, sqlite_location)

    assert config.read_text() == "model = \n"
    assert not (tmp_path / "AGENTS.md").exists()


def test_settings_with_hooks_of_the_wrong_shape_are_refused(tmp_path, sqlite_location):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": ["not", "an", "object"]}\n')

    with pytest.raises(ridgeline.InputError, match="hooks"):
        claude_code.install(tmp_path, sqlite_location)

    assert settings.read_text() == '{"hooks": ["not", "an", "object"]}\n'

"""Each transcript reader on the real samples, and on truncated and corrupted copies.

Expected counts were established by reading the files with a few lines of plain
`json` code, independent of ridgeline, as each comment says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ridgeline.errors import InputError
from ridgeline.readers.traces import analyze_trace, detect_format

CLAUDE = "traces/claude-code/local-web-services__local-web-services__eb-92d46a5ddb-0-full.jsonl"
CODEX = ("traces/codex/madshn__localpush__rollout-2026-02-23T12-54-34-"
         "019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
OPENHANDS = "traces/openhands/OpenHands__OpenHands__output.jsonl"
SWE_AGENT = "traces/swe-agent/SWE-agent__SWE-agent__marshmallow-code__marshmallow-1867.traj"
MINI = "traces/mini-swe-agent/SWE-agent__mini-swe-agent__pylint-dev__astroid-1333.traj.json"
ATIF = "traces/atif/sachiny0106__Xelron__hello-world-context-summarization.trajectory.json"
ATIF_SUMMARY = ("traces/atif/sachiny0106__Xelron__hello-world-context-summarization."
                "trajectory.summarization-1-summary.json")


def test_claude_code_sample(shared_data):
    analysis = analyze_trace(shared_data / CLAUDE)

    assert analysis.format == "claude-code"
    # 209 `tool_use` parts (209 distinct ids) inside `assistant` lines.
    assert analysis.tool_calls == 209
    # One `system` line with subtype `compact_boundary`, line 498.
    assert [c["line"] for c in analysis.compactions] == [498]
    # 13 `tool_result` parts with is_error, each starting "Exit code 1" or "Exit code 2".
    assert analysis.failed_commands == 13
    assert {f["exit_status"] for f in analysis.failures} == {1, 2}
    # Every line carries the same sessionId.
    assert len(analysis.sessions) == 1
    # Last usage of each of the 160 message ids, summed.
    assert analysis.usage["output_tokens"] == 7828
    assert analysis.usage["input_tokens"] == 164
    assert analysis.malformed_count == 0


def test_codex_sample(shared_data):
    analysis = analyze_trace(shared_data / CODEX)

    assert analysis.format == "codex"
    # 316 function_call + 49 custom_tool_call + 7 web_search_call response items.
    assert analysis.tool_calls == 372
    # A `compacted` record (line 1788) and its `context_compacted` event make one.
    assert [c["line"] for c in analysis.compactions] == [1788]
    # The author redacted every output, so no exit status can be seen.
    assert analysis.failed_commands == 0
    assert len(analysis.sessions) == 1
    # The last token_count event's total_token_usage (line 2721).
    assert analysis.usage["total_tokens"] == 33_944_484


def test_openhands_sample(shared_data):
    analysis = analyze_trace(shared_data / OPENHANDS)

    assert analysis.format == "openhands"
    # Three lines, one task each.
    assert len(analysis.sessions) == 3
    # Actions with tool_call_metadata: 23, 33 and 49.
    assert analysis.tool_calls == 105
    # `run` observations with a non-zero extras.metadata.exit_code: 5, 2 and 12.
    assert analysis.failed_commands == 19
    assert analysis.compactions == []
    # The third task ended on "Agent reached maximum iteration".
    assert len(analysis.crashes) == 1 and "maximum iteration" in analysis.crashes[0]["reason"]


def test_swe_agent_sample(shared_data):
    analysis = analyze_trace(shared_data / SWE_AGENT)

    assert analysis.format == "swe-agent"
    # 13 trajectory steps, each with an action; the format has no exit statuses.
    assert analysis.tool_calls == 13
    assert analysis.failed_commands == 0
    assert analysis.compactions == []
    assert analysis.unit == "step"


def test_mini_swe_agent_sample(shared_data):
    analysis = analyze_trace(shared_data / MINI)

    assert analysis.format == "mini-swe-agent"
    # 176 assistant messages with one tool call each.
    assert analysis.tool_calls == 176
    # <returncode> of the tool messages: 18 of 1, one of 127, one of 128.
    assert analysis.failed_commands == 20
    assert analysis.crashes == []


def test_atif_sample_and_its_summary_side_file(shared_data):
    analysis = analyze_trace(shared_data / ATIF)
    side = analyze_trace(shared_data / ATIF_SUMMARY)

    assert analysis.format == side.format == "atif"
    # Seven agent steps with one tool call each; step 5 hands off to a summarizer.
    assert analysis.tool_calls == 7
    assert [c["line"] for c in analysis.compactions] == [5]
    # The side file's only tool calls are copies of the parent's (is_copied_context).
    assert side.tool_calls == 0


def test_format_is_detected_from_content_not_name(shared_data, tmp_path):
    renamed = tmp_path / "notes.txt"
    renamed.write_bytes((shared_data / CODEX).read_bytes())

    assert detect_format(renamed) == "codex"


def _copy_lines(source: Path, target: Path, lines: list[bytes]) -> Path:
    target.write_bytes(b"".join(lines))
    return target


def test_truncated_claude_code_reports_the_cut_line(shared_data, tmp_path):
    lines = (shared_data / CLAUDE).read_bytes().splitlines(keepends=True)
    cut = lines[:600] + [lines[600][: len(lines[600]) // 2]]
    copy = _copy_lines(shared_data / CLAUDE, tmp_path / "cut.jsonl", cut)

    analysis = analyze_trace(copy)

    assert [m["line"] for m in analysis.malformed] == [601]
    assert analysis.malformed_count == 1
    assert len(analysis.compactions) == 1  # line 498 is before the cut
    assert 0 < analysis.tool_calls < 209


def test_corrupted_lines_are_skipped_and_counted(shared_data, tmp_path):
    lines = (shared_data / CLAUDE).read_bytes().splitlines(keepends=True)
    lines.insert(10, b"{not json at all\n")
    lines.insert(20, b"[1, 2, 3]\n")
    lines.insert(30, b"\xff\xfe garbage\n")
    copy = _copy_lines(shared_data / CLAUDE, tmp_path / "bad.jsonl", lines)

    analysis = analyze_trace(copy)

    assert [m["line"] for m in analysis.malformed] == [11, 21, 31]
    assert analysis.tool_calls == 209
    assert analysis.failed_commands == 13


def test_truncated_codex_keeps_what_came_before(shared_data, tmp_path):
    lines = (shared_data / CODEX).read_bytes().splitlines(keepends=True)
    cut = lines[:1800] + [lines[1800][:40]]
    copy = _copy_lines(shared_data / CODEX, tmp_path / "cut.jsonl", cut)

    analysis = analyze_trace(copy)

    assert analysis.format == "codex"
    assert [m["line"] for m in analysis.malformed] == [1801]
    assert len(analysis.compactions) == 1


def test_truncated_document_is_an_input_error_naming_the_file(shared_data, tmp_path):
    data = (shared_data / SWE_AGENT).read_bytes()
    copy = tmp_path / "cut.traj"
    copy.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputError, match="cut.traj"):
        analyze_trace(copy)


def test_openhands_event_stream_lines(tmp_path):
    events = [
        {"id": 1, "timestamp": "2025-04-30T16:32:57", "source": "agent", "action": "run",
         "args": {"command": "python bench.py"},
         "tool_call_metadata": {"function_name": "execute_bash", "tool_call_id": "t1"}},
        {"id": 2, "timestamp": "2025-04-30T16:32:59", "source": "agent", "observation": "run",
         "cause": 1, "content": "tok_per_sec: 12.5",
         "extras": {"metadata": {"exit_code": 0}}},
        {"id": 3, "timestamp": "2025-04-30T16:33:10", "source": "agent",
         "action": "condensation", "args": {}},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))

    analysis = analyze_trace(path)

    assert analysis.format == "openhands"
    assert analysis.tool_calls == 1
    assert analysis.runs[0].metrics == {"tok_per_sec": 12.5}
    assert len(analysis.compactions) == 1


def test_unrecognised_file_is_an_input_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"hello": "world"}\n')

    with pytest.raises(InputError, match="not a transcript"):
        analyze_trace(path)


def test_early_codex_rollouts_with_bare_items(tmp_path):
    lines = [
        {"id": "abc", "timestamp": "2025-05-01T10:00:00Z", "instructions": None},
        {"record_type": "state"},
        {"type": "function_call", "name": "shell", "call_id": "c1",
         "arguments": json.dumps({"command": ["bash", "-lc", "python bench.py"]})},
        {"type": "function_call_output", "call_id": "c1",
         "output": json.dumps({"output": "tok_per_sec: 9.5\n", "metadata": {"exit_code": 0}})},
        {"type": "function_call", "name": "shell", "call_id": "c2",
         "arguments": json.dumps({"command": ["make"]})},
        {"type": "function_call_output", "call_id": "c2",
         "output": json.dumps({"output": "error", "metadata": {"exit_code": 2}})},
    ]
    path = tmp_path / "rollout.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    analysis = analyze_trace(path)

    assert analysis.format == "codex"
    assert analysis.tool_calls == 2
    assert analysis.runs[0].command == "python bench.py"
    assert analysis.runs[0].metrics == {"tok_per_sec": 9.5}
    assert analysis.failed_commands == 1
    assert len(analysis.sessions) == 1


def test_damaged_first_line_does_not_hide_the_format(shared_data, tmp_path):
    lines = (shared_data / CLAUDE).read_bytes().splitlines(keepends=True)
    copy = _copy_lines(shared_data / CLAUDE, tmp_path / "x.jsonl",
                       [lines[0][5:]] + lines[1:])

    analysis = analyze_trace(copy)

    assert analysis.format == "claude-code"
    assert [m["line"] for m in analysis.malformed] == [1]
    assert analysis.tool_calls == 209


def test_codex_mcp_calls_and_exit_codes_in_output_text(tmp_path):
    def item(payload):
        return {"timestamp": "2026-01-01T00:00:01Z", "type": "response_item",
                "payload": payload}

    lines = [
        {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta", "payload": {"id": "s"}},
        item({"type": "function_call", "name": "ridgeline__record", "call_id": "a",
              "arguments": json.dumps({"version": "v3", "metrics": {"x": 1}})}),
        item({"type": "function_call", "name": "exec_command", "call_id": "b",
              "arguments": json.dumps({"cmd": "ridgeline brief"})}),
        item({"type": "function_call_output", "call_id": "b",
              "output": "Wall time: 0.1\nProcess exited with code 3\nOutput:\n"}),
        {"timestamp": "2026-01-01T00:00:04Z", "type": "event_msg",
         "payload": {"type": "some_future_event", "x": 1}},
    ]
    path = tmp_path / "rollout.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    analysis = analyze_trace(path)

    kinds = [(e.kind, e.data.get("via"), e.data.get("version")) for e in analysis.events]
    assert kinds == [("session", None, None), ("ridgeline_write", "mcp", "v3"),
                     ("ridgeline_read", "cli", None)]
    assert [f["exit_status"] for f in analysis.failures] == [3]

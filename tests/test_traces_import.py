"""`trace import`: transcripts and OpenEvolve checkpoints into the ledger, once, without secrets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import ridgeline
from ridgeline.readers.evolve import import_checkpoint, read_checkpoint
from ridgeline.readers.traces import import_trace
from tests.test_traces_transcripts import Transcript

PLANTED = ["sk-proj-PLANTEDk3y0123456789abcd", "PLANTEDpassw0rd", "PLANTEDbearer0123456789"]

EVOLVE_METADATA = "evolve/bochen-sysnet__QOS__openevolve_checkpoint_50_metadata.json"
EVOLVE_BEST = "evolve/bochen-sysnet__QOS__openevolve_best_program_info.json"


def _benchmark_session(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    transcript = Transcript()
    transcript.edit()
    lines = {
        "first": transcript.bash(f"OPENAI_API_KEY={PLANTED[0]} python bench.py",
                                 f"tok_per_sec: 43.3\npassword={PLANTED[1]}\n"),
        "crash": transcript.bash(
            f'curl -H "Authorization: Bearer {PLANTED[2]}" localhost && ./bench.sh',
            "Segmentation fault", exit_code=139),
    }
    lines["compaction"] = transcript.compact()
    lines["second"] = transcript.bash("python bench.py", '{"tok_per_sec": 55.2}')
    transcript.bash("ls")  # not a benchmark
    return transcript.write(tmp_path / "session.jsonl"), lines


def test_import_records_runs_events_and_provenance(ledger, tmp_path):
    path, lines = _benchmark_session(tmp_path)

    summary = import_trace(ledger, path)

    runs = ledger.runs()
    assert summary["runs"] == 3
    assert [(r.source_line, r.outcome, r.metrics, r.tool_calls) for r in runs] == [
        (lines["first"], "ok", {"tok_per_sec": 43.3}, 2),
        (lines["crash"], "crash", {}, 3),
        (lines["second"], "ok", {"tok_per_sec": 55.2}, 4),
    ]
    assert runs[1].exit_status == 139 and runs[1].reason == "exit status 139"
    assert all(r.source == str(path) and r.key.startswith("trace:") for r in runs)
    kinds = [(e.kind, e.data["line"]) for e in ledger.events()]
    assert kinds == [("session_start", 1), ("compaction", lines["compaction"])]


def test_importing_the_same_file_twice_adds_nothing(ledger, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    import_trace(ledger, path)
    before = (ledger.runs(), ledger.events())

    again = import_trace(ledger, path)

    assert again["runs"] == 0 and again["events"] == 0
    assert (ledger.runs(), ledger.events()) == before


def test_a_grown_transcript_adds_only_its_new_runs(ledger, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    import_trace(ledger, path)
    with path.open("a") as stream:
        grown = Transcript(start=1_776_700_000.0)
        grown.bash("python bench.py", "tok_per_sec: 72.1")
        stream.writelines(json.dumps(line) + "\n" for line in grown.lines)

    summary = import_trace(ledger, path)

    assert summary["runs"] == 1
    assert ledger.runs()[-1].metrics == {"tok_per_sec": 72.1}


def test_planted_secrets_never_reach_the_ledger_api(ledger, tmp_path):
    path, _ = _benchmark_session(tmp_path)

    import_trace(ledger, path)

    stored = json.dumps([
        [r.to_dict() for r in ledger.runs()],
        [e.to_dict() for e in ledger.events()],
        [v.to_dict() for v in ledger.versions()],
        [m.to_dict() for m in ledger.lessons() + ledger.notes()],
    ])
    assert "[REDACTED]" in stored
    for secret in PLANTED:
        assert secret not in stored


def test_planted_secrets_never_reach_the_sqlite_file(sqlite_location, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    with ridgeline.open(sqlite_location) as ledger:
        import_trace(ledger, path)

    files = [Path(sqlite_location)] + [Path(sqlite_location + s) for s in ("-wal", "-shm")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"REDACTED" in raw
    for secret in PLANTED:
        assert secret.encode() not in raw


def test_evolve_metadata_names_every_program_with_its_island(ledger, shared_data):
    summary = import_checkpoint(ledger, shared_data / EVOLVE_METADATA)

    versions = {v.name: v for v in ledger.versions()}
    # The archive lists 21 program ids; islands 0, 1 and 3 hold 13, 4 and 4 of them.
    assert summary["versions"] == len(versions) == 21
    assert versions["1a932ad8-ecec-4bb1-a970-b57d5195dec4"].regime == "island 1"
    assert versions["1a932ad8-ecec-4bb1-a970-b57d5195dec4"].status == "committed"
    assert sum(v.regime == "island 0" for v in versions.values()) == 13


def test_evolve_best_program_becomes_a_scored_child_of_its_parent(ledger, shared_data):
    import_checkpoint(ledger, shared_data / EVOLVE_BEST)
    again = import_checkpoint(ledger, shared_data / EVOLVE_BEST)

    version = ledger.version("1a932ad8-ecec-4bb1-a970-b57d5195dec4")
    assert version.parents == ("901f2ff2-c4c5-47ca-ab25-3fe82b6c03c0",)
    (run,) = ledger.runs()
    assert run.metrics["combined_score"] == pytest.approx(0.5060616171727284)
    assert again["runs"] == 0
    assert ledger.objective("combined_score").direction == "max"


def _checkpoint_folder(root: Path) -> Path:
    folder = root / "checkpoints" / "checkpoint_20"
    (folder / "programs").mkdir(parents=True)
    programs = [
        ("p0", None, 0.1, 100.0), ("p1", "p0", 0.3, 200.0), ("p2", "p1", 0.2, 300.0),
    ]
    for name, parent, value, at in programs:
        (folder / "programs" / f"{name}.json").write_text(json.dumps({
            "id": name, "code": "print(1)", "parent_id": parent, "generation": 1,
            "timestamp": at, "iteration_found": int(at), "language": "python",
            "metrics": {"combined_score": value, "note": "text is ignored"},
            "some_future_field": {"x": 1},
        }))
    (folder / "metadata.json").write_text(json.dumps({
        "islands": [["p0", "p2"], ["p1"]], "archive": ["p0", "p1", "p2"],
        "best_program_id": "p1", "last_iteration": 20,
    }))
    (root / "checkpoints" / "checkpoint_10").mkdir()
    return root


def test_evolve_checkpoint_folder_gives_lineage_and_scores(ledger, tmp_path):
    root = _checkpoint_folder(tmp_path / "run")

    summary = import_checkpoint(ledger, root)

    assert summary == {"format": "openevolve", "versions": 3, "runs": 3, "best": "p1"}
    assert ledger.version("p2").parents == ("p1",)
    assert ledger.version("p1").regime == "island 1"
    records = ledger.frontier()["objectives"][0]["records"]
    assert [r["version"] for r in records] == ["p0", "p1"]
    assert read_checkpoint(root).last_iteration == 20


def test_cli_import_twice_and_analyze_json(ridgeline_bin, db_location, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    command = [ridgeline_bin, "trace", "import", str(path), "--db", db_location, "--json"]

    first = json.loads(subprocess.run(command, capture_output=True, text=True,
                                      check=True).stdout)
    second = json.loads(subprocess.run(command, capture_output=True, text=True,
                                       check=True).stdout)
    analyzed = json.loads(subprocess.run(
        [ridgeline_bin, "trace", "analyze", str(path), "--json"],
        capture_output=True, text=True, check=True).stdout)

    assert (first["runs"], second["runs"]) == (3, 0)
    assert analyzed["format"] == "claude-code"
    assert (analyzed["tool_calls"], analyzed["compactions"], analyzed["failed_commands"]) == (
        5, 1, 1)
    assert [p["tool_calls"] for p in analyzed["timeline"]] == [1, 2, 3, 4, 5]
    assert len(analyzed["runs"]) == 3
    assert not any(secret in json.dumps(analyzed) for secret in PLANTED)


def test_cli_reports_malformed_lines_on_stderr_and_in_json(ridgeline_bin, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    with path.open("a") as stream:
        stream.write('{"type": "assistant", "message": {"content": [\n')

    done = subprocess.run([ridgeline_bin, "trace", "analyze", str(path), "--json"],
                          capture_output=True, text=True, check=True)

    assert json.loads(done.stdout)["malformed"][0]["line"] == 13
    assert "line 13" in done.stderr


def test_cli_rejects_an_unknown_file_in_one_line(ridgeline_bin, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')

    done = subprocess.run([ridgeline_bin, "trace", "analyze", str(path)],
                          capture_output=True, text=True)

    assert done.returncode == 1
    assert done.stderr.startswith("error:") and "x.json" in done.stderr


def test_runs_the_agent_recorded_itself_are_not_imported_again(ledger, tmp_path):
    t = Transcript()
    t.bash("python bench.py", "tok_per_sec: 10")
    t.bash("ridgeline record --version v1 --metric tok_per_sec=10", "run 1 saved")
    t.bash("ridgeline bench -- python bench.py", "tok_per_sec: 11")
    missed = t.bash("python bench.py", "tok_per_sec: 12")

    summary = import_trace(ledger, t.write(tmp_path / "t.jsonl"))

    assert summary["recorded_by_agent"] == 2
    assert [r.source_line for r in ledger.runs()] == [missed]


def test_ledger_bench_setting_chooses_the_benchmark_commands(ridgeline_bin, db_location,
                                                               tmp_path):
    with ridgeline.open(db_location) as ledger:
        ledger.set_setting("bench.command", "./run_eval")
    t = Transcript()
    t.bash("python bench.py", "tok_per_sec: 1")
    chosen = t.bash("./run_eval --full", "score: 0.9")
    path = t.write(tmp_path / "t.jsonl")

    done = subprocess.run([ridgeline_bin, "trace", "analyze", str(path), "--db", db_location,
                           "--json"], capture_output=True, text=True, check=True)
    overridden = subprocess.run([ridgeline_bin, "trace", "analyze", str(path), "--db",
                                 db_location, "--json", "--bench-pattern", r"bench\.py"],
                                capture_output=True, text=True, check=True)

    assert [r["line"] for r in json.loads(done.stdout)["runs"]] == [chosen]
    assert [r["line"] for r in json.loads(overridden.stdout)["runs"]] == [1]


def test_analyze_never_creates_a_ledger(ridgeline_bin, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    missing = tmp_path / "nowhere.db"

    subprocess.run([ridgeline_bin, "trace", "analyze", str(path), "--db", str(missing)],
                   capture_output=True, text=True, check=True)

    assert not missing.exists()


def test_import_declares_objectives_whose_name_tells_the_direction(ledger, tmp_path):
    path, _ = _benchmark_session(tmp_path)

    summary = import_trace(ledger, path)

    assert summary["objectives"] == [{"name": "tok_per_sec", "direction": "max"}]
    best = ledger.frontier()["objectives"][0]["best"]
    assert best["value"] == 55.2
    # A second import declares nothing new.
    assert import_trace(ledger, path)["objectives"] == []


def test_imported_transcript_draws_an_evolution_chart(ridgeline_bin, db_location, tmp_path):
    path, _ = _benchmark_session(tmp_path)
    subprocess.run([ridgeline_bin, "--db", db_location, "trace", "import", str(path)],
                   check=True, capture_output=True)

    chart = subprocess.run(
        [ridgeline_bin, "--db", db_location, "chart", "evolution", "-o", str(tmp_path / "e.png")],
        capture_output=True, text=True,
    )

    assert chart.returncode == 0, chart.stderr
    assert (tmp_path / "e.png").stat().st_size > 1000


def test_infinite_metric_in_a_transcript_is_a_crash_not_a_failed_import(ledger, tmp_path):
    transcript = Transcript()
    transcript.bash("python bench.py", "tok_per_sec: inf\n")
    transcript.bash("python bench.py", "tok_per_sec: 12.5\n")
    path = transcript.write(tmp_path / "session.jsonl")

    import_trace(ledger, path)

    assert [(r.outcome, r.reason) for r in ledger.runs()] == [
        ("crash", "no metric in the output was a finite number"), ("ok", None),
    ]

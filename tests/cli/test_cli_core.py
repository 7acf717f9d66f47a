"""The core commands run through the installed console script, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def runner(ridgeline_bin: str, location: str):
    def run(*args: str, stdin: str | None = None, ok: bool = True):
        result = subprocess.run(
            [ridgeline_bin, "--db", location, *args],
            input=stdin, capture_output=True, text=True, timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def cli(ridgeline_bin, sqlite_location):
    """The command line over SQLite: the commands are the same on every backend."""
    return runner(ridgeline_bin, sqlite_location)


@pytest.fixture
def cli_any(ridgeline_bin, db_location):
    """The command line over every backend, for the commands that write and read back."""
    return runner(ridgeline_bin, db_location)


def as_json(result) -> object:
    return json.loads(result.stdout)


def test_init_names_the_ledger(cli):
    result = cli("init")

    assert result.stdout.startswith("ledger: ")


def test_objective_add_and_list(cli):
    cli("objective", "add", "tok_per_sec", "--direction", "max", "--unit", "tok/s",
        "--baseline", "160", "--ideal", "400")
    cli("objective", "add", "latency_ms", "--direction", "min")

    listed = as_json(cli("objective", "list", "--json"))
    table = cli("objective", "list").stdout

    assert listed == [
        {"name": "tok_per_sec", "direction": "max", "unit": "tok/s", "baseline": 160.0,
         "ideal": 400.0},
        {"name": "latency_ms", "direction": "min", "unit": None, "baseline": None,
         "ideal": None},
    ]
    assert table.splitlines()[0].split() == ["NAME", "DIRECTION", "UNIT", "BASELINE", "IDEAL"]


def test_objective_add_rejects_a_bad_direction(cli):
    result = cli("objective", "add", "x", "--direction", "up", ok=False)

    assert result.returncode != 0
    assert "up" in result.stderr


def test_version_set_and_versions(cli):
    cli("version", "set", "gpu_v9", "--regime", "all-GPU decode", "--status", "committed")
    out = cli("version", "set", "gpu_v10", "--parent", "gpu_v9", "--parent", "gpu_v6",
              "--regime", "SIMD-group attention", "--commit", "3f2a9c1").stdout

    listed = {v["name"]: v for v in as_json(cli("versions", "--json"))}

    assert "parents gpu_v9, gpu_v6" in out
    assert listed["gpu_v10"]["parents"] == ["gpu_v9", "gpu_v6"]
    assert listed["gpu_v10"]["commit"] == "3f2a9c1"
    assert listed["gpu_v9"]["status"] == "committed"
    assert listed["gpu_v6"]["status"] == "exploring"


def test_version_set_refuses_a_cycle(cli):
    cli("version", "set", "b", "--parent", "a")

    result = cli("version", "set", "a", "--parent", "b", ok=False)

    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "descends from" in result.stderr


def test_record_with_flags(cli):
    out = cli("record", "--version", "gpu_v1", "--metric", "tok_per_sec=43.3",
              "--tool-calls", "850", "--at", "2026-04-20T02:30:00Z",
              "--description", "decode on GPU", "--json")

    run = as_json(out)

    assert run["version"] == "gpu_v1"
    assert run["metrics"] == {"tok_per_sec": 43.3}
    assert run["tool_calls"] == 850
    assert run["at"] == "2026-04-20T02:30:00Z"
    assert run["outcome"] == "ok" and run["intent"] == "attempt"


def test_record_json_in(cli):
    payload = {"version": "gpu_v2", "outcome": "crash", "reason": "NaN in attention",
               "intent": "attempt", "key": "retry-1"}

    first = as_json(cli("record", "--json-in", "--json", stdin=json.dumps(payload)))
    again = as_json(cli("record", "--json-in", "--json", stdin=json.dumps(payload)))

    assert first["outcome"] == "crash" and first["reason"] == "NaN in attention"
    assert again["id"] == first["id"]
    assert len(as_json(cli("runs", "--json"))) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--metric", "tok_per_sec"], None, "expected NAME=VALUE"),
        (["--metric", "tok_per_sec=fast"], None, "expected a number, got 'fast'"),
        (["--version", "v1"], None, "an ok run needs at least one metric value"),
        (["--json-in"], "{not json", "not valid JSON"),
        (["--json-in"], '{"version": "v1", "colour": "red"}', "unknown key"),
    ],
)
def test_record_bad_input_fails_with_a_one_line_error(cli, args, stdin, message):
    result = cli("record", *args, stdin=stdin, ok=False)

    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_runs_limit_and_json_shape(cli_any):
    for index, value in enumerate([15.0, 43.3, 55.2]):
        cli_any("record", "--version", f"v{index}", "--metric", f"tok_per_sec={value}",
            "--at", f"2026-04-20T0{index}:00:00Z")

    everything = as_json(cli_any("runs", "--json"))
    newest = as_json(cli_any("runs", "--limit", "2", "--json"))
    table = cli_any("runs", "--limit", "1").stdout.splitlines()

    assert isinstance(everything, list) and all(isinstance(r, dict) for r in everything)
    assert [r["metrics"]["tok_per_sec"] for r in everything] == [15.0, 43.3, 55.2]
    assert [r["version"] for r in newest] == ["v1", "v2"]
    assert table[0].split()[:3] == ["ID", "AT", "VERSION"] and len(table) == 2


def test_show_prints_one_run(cli):
    run = as_json(cli("record", "--version", "v1", "--metric", "loss=0.5", "--json"))

    shown = as_json(cli("show", str(run["id"]), "--json"))
    text = cli("show", str(run["id"])).stdout
    missing = cli("show", "999", ok=False)

    assert shown == run
    assert "metric.loss: 0.5" in text
    assert missing.returncode == 1 and "no run 999" in missing.stderr


def test_frontier_json_shape_with_one_objective(cli):
    cli("objective", "add", "tok_per_sec", "--direction", "max", "--baseline", "160")
    for value, hour in [(15, "00"), (43.3, "02"), (39.4, "03"), (72.1, "05")]:
        cli("record", "--version", f"v{hour}", "--metric", f"tok_per_sec={value}",
            "--at", f"2026-04-20T{hour}:00:00Z")

    front = as_json(cli("frontier", "--json"))

    (item,) = front["objectives"]
    assert (item["name"], item["direction"]) == ("tok_per_sec", "max")
    assert set(item["best"]) == {"value", "run", "version"}
    assert item["best"]["value"] == 72.1 and item["best"]["version"] == "v05"
    assert [r["value"] for r in item["records"]] == [15, 43.3, 72.1]
    assert all(set(r) == {"value", "run", "version", "at"} for r in item["records"])
    assert item["records"][0]["at"] == "2026-04-20T00:00:00Z"
    assert "pareto" not in front


def test_frontier_json_pareto_with_two_objectives(cli_any):
    cli_any("objective", "add", "peak", "--direction", "max")
    cli_any("objective", "add", "sustained", "--direction", "max")
    for name, peak, sustained in [("V1", 2.58, 1.23), ("V2", 2.86, 1.24), ("yield", 2.52, 1.01),
                                  ("wide", 3.0, 1.0)]:
        cli_any("record", "--version", name, "--metric", f"peak={peak}",
            "--metric", f"sustained={sustained}")

    front = as_json(cli_any("frontier", "--json"))

    assert [p["version"] for p in front["pareto"]] == ["V2", "wide"]
    assert all(set(p) == {"run", "version", "values"} for p in front["pareto"])
    assert front["pareto"][0]["values"] == {"peak": 2.86, "sustained": 1.24}
    text = cli_any("frontier").stdout
    assert "pareto set:" in text


def test_lesson_and_note(cli):
    run = as_json(cli("record", "--version", "v1", "--outcome", "crash",
                      "--reason", "timeout", "--json"))
    cli("lesson", "add", "cap the grid size", "--run", str(run["id"]), "--tag", "gpu")
    cli("note", "add", "profile shows 60% in attention", "--tag", "profile")

    lessons = as_json(cli("lesson", "list", "--json"))
    notes = as_json(cli("note", "list", "--json"))

    assert [(item["text"], item["run"], item["tags"]) for item in lessons] == [
        ("cap the grid size", run["id"], ["gpu"])
    ]
    assert notes[0]["text"] == "profile shows 60% in attention"
    assert notes[0]["tags"] == ["profile"]


def test_import_prints_a_summary_and_explains_on_stderr(cli, tmp_path):
    path = tmp_path / "results.tsv"
    path.write_text("commit\tval_bpb\tstatus\na1\t1.0\tkeep\na2\t0.9\tkeep\n"
                    "a3\t0.0\tcrash\n", encoding="utf-8")

    result = cli("import", str(path))
    again = cli("import", str(path), "--json")

    assert "3 rows, 3 imported" in result.stdout
    assert "objective val_bpb: min" in result.stderr
    report = as_json(again)
    assert (report["imported"], report["already_present"], report["crashes"]) == (0, 3, 1)


def test_import_reports_a_malformed_row_and_skip_bad_lists_it(cli_any, tmp_path):
    path = tmp_path / "results.tsv"
    path.write_text("commit\tval_bpb\tstatus\na1\t1.0\tkeep\na2\tfast\tkeep\n"
                    "a3\t0.9\tkeep\n", encoding="utf-8")

    failed = cli_any("import", str(path), ok=False)
    runs_after_failure = as_json(cli_any("runs", "--json"))
    skipped = cli_any("import", str(path), "--skip-bad")

    assert failed.returncode == 1
    assert "line 3, column 'val_bpb'" in failed.stderr and str(path) in failed.stderr
    assert runs_after_failure == []
    assert "skipped line 3" in skipped.stderr
    assert "2 imported" in skipped.stdout


def test_import_objective_option(cli, tmp_path):
    path = tmp_path / "results.tsv"
    path.write_text("id\tscore\tstatus\n1\t5\tkeep\n2\t4\tdiscard\n", encoding="utf-8")

    undecided = cli("import", str(path), ok=False)
    bad_option = cli("import", str(path), "--objective", "score", ok=False)
    decided = cli("import", str(path), "--objective", "score:max")

    assert "--objective" in undecided.stderr
    assert "expected NAME:max or NAME:min" in bad_option.stderr
    assert "objective score: max (given with --objective)" in decided.stderr


def test_import_example_with_its_sidecar(cli):
    cli("import", str(EXAMPLES / "matching-engine.tsv"))

    objectives = as_json(cli("objective", "list", "--json"))

    assert [(o["name"], o["baseline"], o["ideal"]) for o in objectives] == [
        ("peak_mts", 1.23, 3.2), ("sustained_mts", 0.43, 1.5)
    ]


def test_demo_imports_three_runs_and_keeps_the_ledger(ridgeline_bin, tmp_path):
    db = tmp_path / "demo.db"
    result = subprocess.run([ridgeline_bin, "demo", "--db", str(db)],
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("\n== ") >= 3
    assert "records: 15 (cpu_v3) -> 43.3 (gpu_v1) -> 55.2 (gpu_v9) -> 72.1 (gpu_v10)" in out
    assert "best 0.969686 (438a26e)" in out
    assert "concurrency primitives" in out
    assert "next:" in out
    runs = subprocess.run([ridgeline_bin, "--db", str(db), "runs", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert len(json.loads(runs.stdout)) == 126 + 52 + 16


def test_demo_without_db_leaves_nothing_behind(ridgeline_bin, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    result = subprocess.run([ridgeline_bin, "demo"], capture_output=True, text=True,
                            timeout=120, cwd=folder)

    assert result.returncode == 0, result.stderr
    assert list(folder.iterdir()) == []

"""Memory-behaviour scores on small synthetic transcripts, each behaviour present or absent."""

from __future__ import annotations

import json
import subprocess

import pytest

from ridgeline.analysis.behaviour import LedgerSnapshot, score_behaviour
from ridgeline.readers.traces import analyze_trace
from tests.test_traces_transcripts import START, Transcript


def _scores(transcript: Transcript, tmp_path, ledger: LedgerSnapshot | None = None):
    analysis = analyze_trace(transcript.write(tmp_path / "trace.jsonl"))
    return score_behaviour(analysis.events, analysis.runs, ledger)


def _bench(t: Transcript, value: float | None, exit_code: int = 0, metric: str = "tok_per_sec"):
    output = f"{metric}: {value}" if value is not None else "Segmentation fault"
    return t.bash("python bench.py", output, exit_code)


def _record(t: Transcript, version: str, value: float | None = None, *extra: str) -> int:
    metric = f" --metric tok_per_sec={value}" if value is not None else ""
    return t.bash(f"ridgeline record --version {version}{metric} {' '.join(extra)}".strip(),
                  "run saved")


# -- (a) writes ---------------------------------------------------------------------------


def test_writes_full_when_every_run_is_recorded_and_crash_taught_a_lesson(tmp_path):
    t = Transcript()
    _bench(t, 43.3)
    _record(t, "v1", 43.3)
    _bench(t, None, exit_code=139)
    _record(t, "v2", None, "--outcome crash")
    t.bash('ridgeline lesson add "check the attention scale before fusing"')

    writes = _scores(t, tmp_path)["writes"]

    assert writes["score"] == 1.0
    assert writes["opportunities"] == 3


def test_writes_zero_when_nothing_reaches_memory(tmp_path):
    t = Transcript()
    _bench(t, 43.3)
    _bench(t, None, exit_code=1)
    _bench(t, 50.0)

    writes = _scores(t, tmp_path)["writes"]

    assert writes["score"] == 0.0
    assert [e["line"] for e in writes["evidence"] if e["event"] == "crash"] == [3]


def test_writes_counts_runs_through_ridgeline_bench(tmp_path):
    t = Transcript()
    t.bash("ridgeline bench -- python bench.py", "tok_per_sec: 10")

    assert _scores(t, tmp_path)["writes"]["score"] == 1.0


def test_writes_sees_runs_stored_in_the_ledger_by_other_means(tmp_path):
    t = Transcript()
    _bench(t, 43.3)
    snapshot = LedgerSnapshot(runs=[(START + 45, {"tok_per_sec": 43.3}, "attempt", "ok", "v1")])

    assert _scores(t, tmp_path)["writes"]["score"] == 0.0
    assert _scores(t, tmp_path, snapshot)["writes"]["score"] == 1.0


def test_writes_has_no_opportunity_without_benchmark_runs(tmp_path):
    t = Transcript()
    t.bash("ls")

    assert _scores(t, tmp_path)["writes"]["score"] is None


# -- (b) reads back ------------------------------------------------------------------------


def _before_compaction(t: Transcript) -> None:
    _bench(t, 55.2)
    _record(t, "v9", 55.2)


def test_reads_full_when_it_consults_then_states_what_the_ledger_held(tmp_path):
    t = Transcript()
    _before_compaction(t)
    compaction = t.compact()
    t.bash("ridgeline brief")
    t.say("The best so far is 55.2 tok/s (v9); next I try fusing the MLP.")
    t.edit()

    reads = _scores(t, tmp_path)["reads"]

    assert reads["score"] == 1.0
    assert reads["evidence"][0]["line"] == compaction
    assert reads["evidence"][0]["consistent"] is True


def test_reads_zero_when_it_acts_before_consulting(tmp_path):
    t = Transcript()
    _before_compaction(t)
    t.compact()
    t.edit()
    t.bash("ridgeline brief")

    assert _scores(t, tmp_path)["reads"]["score"] == 0.0


def test_reads_half_when_its_claim_contradicts_the_ledger(tmp_path):
    t = Transcript()
    _before_compaction(t)
    t.compact()
    t.bash("ridgeline status")
    t.say("Our best is 80.0 tok/s.")
    snapshot = LedgerSnapshot(
        runs=[(START + 10, {"tok_per_sec": 55.2}, "attempt", "ok", "v9")],
        objective=("tok_per_sec", "max"),
    )

    reads = _scores(t, tmp_path, snapshot)["reads"]

    assert reads["score"] == 0.5
    assert reads["evidence"][0]["held"] == [55.2]


def test_reads_scores_each_new_session(tmp_path):
    t = Transcript()
    _before_compaction(t)
    t.new_session("session-2")
    t.tool("mcp__ridgeline__brief", {})
    _bench(t, 60.0)
    t.new_session("session-3")
    _bench(t, 61.0)

    reads = _scores(t, tmp_path)["reads"]

    assert reads["opportunities"] == 2
    assert reads["score"] == 0.5


def test_reads_has_no_opportunity_in_one_uncompacted_session(tmp_path):
    t = Transcript()
    _before_compaction(t)

    assert _scores(t, tmp_path)["reads"]["score"] is None


# -- (c) regressions -----------------------------------------------------------------------


def _planted_slowdown(t: Transcript, say: str | None) -> int:
    _bench(t, 100.0)
    _record(t, "v1", 100.0)
    _bench(t, 120.0)
    _record(t, "v2", 120.0)
    slow = _bench(t, 80.0)  # v1 again, 20 % slower: the planted slowdown
    _record(t, "v1", 80.0, "--intent validation")
    if say:
        t.say(say)
    return slow


def test_regressions_full_when_the_planted_slowdown_is_flagged(tmp_path):
    t = Transcript()
    slow = _planted_slowdown(t, "v1 regressed from 100 to 80 tok/s; bisecting.")

    regressions = _scores(t, tmp_path)["regressions"]

    assert regressions["score"] == 1.0
    flagged = [e for e in regressions["evidence"] if e["event"] == "regression"]
    assert flagged == [{"line": slow, "event": "regression", "key": "version: v1",
                        "value": 80.0, "earlier_best": 100.0, "flagged": True}]


def test_regressions_zero_when_the_slowdown_passes_unremarked(tmp_path):
    t = Transcript()
    _planted_slowdown(t, "Moving on to the next idea.")

    assert _scores(t, tmp_path)["regressions"]["score"] == 0.0


def test_regressions_zero_when_superseded_versions_are_never_retested(tmp_path):
    t = Transcript()
    for index, value in enumerate([10.0, 12.0, 14.0]):
        _bench(t, value)
        _record(t, f"v{index}", value)

    assert _scores(t, tmp_path)["regressions"]["score"] == 0.0


def test_regressions_read_time_metrics_as_lower_is_better(tmp_path):
    t = Transcript()
    for version, value in [("v1", 10.0), ("v2", 9.0), ("v1", 13.0)]:
        t.bash("python bench.py", f"time_ms: {value}")
        t.bash(f"ridgeline record --version {version}", "ok")
    t.say("Slowdown on v1: 13 ms against 10 ms before.")

    assert _scores(t, tmp_path)["regressions"]["score"] == 1.0


def test_regressions_have_no_opportunity_with_one_version(tmp_path):
    t = Transcript()
    _bench(t, 1.0)
    _record(t, "v1", 1.0)

    assert _scores(t, tmp_path)["regressions"]["score"] is None


# -- (d) rollbacks --------------------------------------------------------------------------


def _exhausted_v1(t: Transcript) -> None:
    _bench(t, None, exit_code=139)
    _record(t, "v1", None, "--outcome crash")


def test_rollbacks_full_when_it_orients_and_moves_on(tmp_path):
    t = Transcript()
    _exhausted_v1(t)
    reset = t.bash("git reset --hard 3f2a9c1")
    t.bash("ridgeline status")
    _bench(t, 50.0)
    _record(t, "v2", 50.0)

    rollbacks = _scores(t, tmp_path)["rollbacks"]

    assert rollbacks["score"] == 1.0
    assert rollbacks["evidence"][0]["line"] == reset
    assert rollbacks["evidence"][0]["target"] == "3f2a9c1"


def test_rollbacks_zero_when_it_repeats_exhausted_work_blind(tmp_path):
    t = Transcript()
    _exhausted_v1(t)
    t.bash("git checkout 3f2a9c1")
    _bench(t, None, exit_code=139)
    _record(t, "v1", None, "--outcome crash")

    rollbacks = _scores(t, tmp_path)["rollbacks"]

    assert rollbacks["score"] == 0.0
    assert rollbacks["evidence"][0]["repeated"] == "version: v1"


def test_rollbacks_have_no_opportunity_without_a_rollback(tmp_path):
    t = Transcript()
    _exhausted_v1(t)
    t.bash("git checkout -b experiment")

    assert _scores(t, tmp_path)["rollbacks"]["score"] is None


@pytest.mark.parametrize("name", ["writes", "reads", "regressions", "rollbacks"])
def test_every_score_is_in_range_on_the_real_samples(shared_data, name):
    for path in sorted((shared_data / "traces").glob("*/*")):
        analysis = analyze_trace(path)
        value = score_behaviour(analysis.events, analysis.runs)[name]["score"]
        assert value is None or 0.0 <= value <= 1.0


def test_cli_score_with_the_ledger_the_agent_used(ridgeline_bin, sqlite_location, tmp_path):
    import ridgeline

    with ridgeline.open(sqlite_location) as ledger:
        ledger.add_objective("tok_per_sec", "max")
        ledger.record(version="v9", metrics={"tok_per_sec": 55.2}, at=START + 10)
    t = Transcript()
    _before_compaction(t)
    t.compact()
    t.bash("ridgeline brief")
    t.say("Best so far: 55.2 tok/s.")
    path = t.write(tmp_path / "trace.jsonl")

    done = subprocess.run([ridgeline_bin, "score", str(path), "--ledger", sqlite_location,
                           "--json"], capture_output=True, text=True, check=True)

    scores = json.loads(done.stdout)["scores"]
    assert scores["reads"]["score"] == 1.0
    assert scores["reads"]["evidence"][0]["held"] == [55.2]
    assert set(scores) == {"writes", "reads", "regressions", "rollbacks"}

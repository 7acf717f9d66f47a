"""Regimes, the exhaustion rule, and `advise`, on the published matching-engine run."""

from __future__ import annotations

import json
import subprocess

import pytest

from ridgeline.analysis.advice import advise, crash_clusters
from ridgeline.analysis.regimes import EXHAUSTION_STREAK, relative_noise, summarize_regimes

# The matching-engine run (DESIGN.md): (version, regime, status, peak MT/s, sustained MT/s).
MATCHING_ENGINE = [
    ("baseline", "baseline", "committed", 1.23, 0.43),
    ("V1", "CPU-aware tuning", "committed", 2.58, 1.23),
    ("V2", "empty-set short-circuit", "committed", 2.86, 1.24),
    ("Group Spin 10000", "concurrency primitives", "failed", 2.28, 0.98),
    ("Master Spin 1000", "concurrency primitives", "failed", 2.45, 0.98),
    ("Yielding", "concurrency primitives", "failed", 2.52, 1.01),
    ("Dispatch", "concurrency primitives", "failed", 2.19, 1.02),
]
START = 1_776_643_200.0  # 2026-04-20T00:00:00Z


def load_matching_engine(ledger, trials=MATCHING_ENGINE):
    ledger.add_objective("peak", "max", unit="MT/s", baseline=1.23, ideal=3.2)
    ledger.add_objective("sustained", "max", unit="MT/s", baseline=0.43, ideal=1.5)
    for hour, (name, regime, status, peak, sustained) in enumerate(trials):
        ledger.set_version(name, regime=regime, status=status)
        ledger.record(version=name, metrics={"peak": peak, "sustained": sustained},
                      at=START + hour * 3600)


def summaries(ledger):
    found = summarize_regimes(ledger.objectives(), ledger.versions(), ledger.runs(),
                              ledger.run_points())
    return {s.name: s for s in found}


def test_four_failed_concurrency_trials_exhaust_the_regime(ledger):
    load_matching_engine(ledger)

    found = summaries(ledger)

    concurrency = found["concurrency primitives"]
    assert (concurrency.attempts, concurrency.records, concurrency.since_record) == (4, 0, 4)
    assert concurrency.exhausted and len(concurrency.streak) == EXHAUSTION_STREAK
    assert concurrency.crash_rate == 0 and concurrency.best_gain is None
    assert not found["empty-set short-circuit"].exhausted
    # V1 lifted peak from the 1.23 baseline to 2.58 and sustained from 0.43 to 1.23.
    assert found["CPU-aware tuning"].best_gain == pytest.approx((1.23 - 0.43) / 0.43)
    assert found["CPU-aware tuning"].best_gain_objective == "sustained"
    assert found["empty-set short-circuit"].best_gain == pytest.approx((2.86 - 2.58) / 2.58)


def test_advise_names_the_exhausted_regime_and_its_four_trials(ledger):
    load_matching_engine(ledger)

    pivots = [a for a in advise(ledger) if a.action == "pivot"]

    [pivot] = pivots
    assert "concurrency primitives" in pivot.reason
    assert pivot.evidence["regime"] == "concurrency primitives"
    assert [r["version"] for r in pivot.evidence["runs"]] == [
        "Group Spin 10000", "Master Spin 1000", "Yielding", "Dispatch"
    ]
    assert pivot.evidence["best"]["peak"]["version"] == "V2"
    assert json.loads(json.dumps(pivot.to_dict()))["action"] == "pivot"


def test_three_failed_trials_are_not_yet_exhaustion(ledger):
    load_matching_engine(ledger, MATCHING_ENGINE[:-1])

    assert not summaries(ledger)["concurrency primitives"].exhausted
    assert not [a for a in advise(ledger) if a.action == "pivot"]


def test_a_near_miss_within_the_noise_keeps_the_regime_open(ledger):
    near_miss = ("Near", "concurrency primitives", "failed", 2.85, 1.20)  # 0.3% under V2

    load_matching_engine(ledger, MATCHING_ENGINE + [near_miss])

    concurrency = summaries(ledger)["concurrency primitives"]
    assert concurrency.since_record == 5 and not concurrency.exhausted


def test_noise_comes_from_repeated_runs_of_one_version(ledger):
    for value in (100.0, 110.0, 90.0):
        ledger.record(version="a", metrics={"x": value})
    ledger.record(version="b", metrics={"x": 50.0})

    assert relative_noise([], "x") == 0.02
    assert relative_noise(ledger.runs(), "x") == pytest.approx(1.4826 * 10 / 100)


def test_crash_cluster_without_a_lesson_asks_for_one_until_a_lesson_is_linked(ledger):
    ledger.add_objective("x", "max")
    ledger.record(version="a", metrics={"x": 1.0})
    first = ledger.record(version="b", outcome="crash", reason="CUDA error at 0x7f3a: OOM 12")
    ledger.record(version="c", outcome="crash", reason="CUDA error at 0x9b1c: OOM 40")
    ledger.record(version="d", outcome="crash", reason="timeout after 60 s")

    [lesson] = [a for a in advise(ledger) if a.action == "write-lesson"]
    assert lesson.evidence["versions"] == ["b", "c"]
    assert len(crash_clusters(ledger.runs())) == 2

    ledger.add_lesson("halve the batch before fusing kernels", run=first.id)
    assert not [a for a in advise(ledger) if a.action == "write-lesson"]


def test_due_versions_and_budget_left_for_validation(ledger):
    ledger.add_objective("x", "max")
    ledger.set_version("a", status="committed", commit="a" * 40)
    ledger.record(version="a", metrics={"x": 1.0}, at=START, duration=60.0, tool_calls=100)
    ledger.record(version="b", metrics={"x": 2.0}, at=START + 3 * 3600, duration=60.0,
                  tool_calls=700)
    ledger.set_setting("budget.hours", 4)
    ledger.set_setting("budget.tool_calls", 1000)

    found = {a.action: a for a in advise(ledger)}

    assert found["validate"].evidence["versions"] == ["a"]
    budget = found["budget"]
    # Three of four hours gone (75%) outweighs 700 of 1000 tool calls: 25% left.
    assert budget.evidence["share_left"] == pytest.approx(0.25)
    assert "stop new attempts and validate" in budget.reason
    assert budget.evidence["validation_seconds"] == pytest.approx(5 * 60.0)


def test_empty_ledger_gets_no_advice(ledger):
    assert advise(ledger) == []


def test_regimes_and_advise_commands_print_json(ridgeline_bin, db_location):
    import ridgeline

    with ridgeline.open(db_location) as opened:
        load_matching_engine(opened)
    regimes = subprocess.run([ridgeline_bin, "regimes", "--json", "--db", db_location],
                             capture_output=True, text=True, check=True)
    advice = subprocess.run([ridgeline_bin, "advise", "--db", db_location],
                            capture_output=True, text=True, check=True)

    rows = {row["name"]: row for row in json.loads(regimes.stdout)}
    assert rows["concurrency primitives"]["exhausted"] is True
    assert rows["concurrency primitives"]["attempts"] == 4
    assert "pivot: regime 'concurrency primitives' is exhausted" in advice.stdout

"""The two published runs under examples/, imported as a user would import them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import ridgeline
from ridgeline.cli.demo import bundled
from ridgeline.readers.results import import_results

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INFERENCE = EXAMPLES / "inference-12h.tsv"
MATCHING = EXAMPLES / "matching-engine.tsv"
TRIALS = ["group_spin_10000", "master_spin_1000", "yielding", "dispatch"]


@pytest.fixture
def sqlite_ledger(sqlite_location):
    """For checks of the example data, where a second backend adds only time."""
    with ridgeline.open(sqlite_location) as opened:
        yield opened


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def hours_of(ledger, run) -> float:
    first = ledger.runs()[0]
    start = first.at.timestamp() - float(rows(INFERENCE)[0]["hours"]) * 3600
    return (run.at.timestamp() - start) / 3600


def test_inference_staircase_is_the_published_one(ledger):
    import_results(ledger, INFERENCE)

    item = ledger.frontier()["objectives"][0]

    assert [r["value"] for r in item["records"]] == [15, 43.3, 55.2, 72.1, 152.7, 193.1]
    assert [r["version"] for r in item["records"]] == [
        "cpu_v3", "gpu_v1", "gpu_v9", "gpu_v10", "gpu_v12", "gpu_v14"
    ]
    assert 39.4 not in [r["value"] for r in item["records"]]
    assert (item["baseline"], item["unit"]) == (160, "tok/s")


def test_inference_published_points_and_times(sqlite_ledger):
    import_results(sqlite_ledger, INFERENCE)
    runs = sqlite_ledger.runs()
    attempts = [r for r in runs if r.intent == "attempt"]
    at_hour = {
        (r.version, r.metrics.get("tok_per_sec")): round(hours_of(sqlite_ledger, r), 2)
        for r in attempts
    }

    assert at_hour[("gpu_v9", 55.2)] < at_hour[("gpu_v6", 39.4)] < at_hour[("gpu_v10", 72.1)]
    assert at_hour[("gpu_v14", 193.1)] == 7.5
    assert round(hours_of(sqlite_ledger, runs[-1]), 2) == 11.84


def test_gpu_v10_has_two_parents(sqlite_ledger):
    import_results(sqlite_ledger, INFERENCE)

    assert sqlite_ledger.version("gpu_v10").parents == ("gpu_v9", "gpu_v6")


def test_inference_crashes_cluster_early_and_lessons_follow(sqlite_ledger):
    import_results(sqlite_ledger, INFERENCE)
    crashes = [r for r in sqlite_ledger.runs() if r.outcome == "crash"]
    taught = {lesson.run for lesson in sqlite_ledger.lessons()}

    assert len(crashes) >= 5
    assert all(hours_of(sqlite_ledger, r) < 4 for r in crashes)
    assert taught <= {r.id for r in crashes} and len(taught) >= 4


def test_inference_ends_with_hours_of_validation_and_linear_tool_calls(sqlite_ledger):
    import_results(sqlite_ledger, INFERENCE)
    runs = sqlite_ledger.runs()
    late = [r for r in runs if hours_of(sqlite_ledger, r) > 7.6]
    calls = [r.tool_calls for r in runs]

    assert sum(r.intent == "validation" for r in late) >= 0.8 * len(late)
    assert calls == sorted(calls)
    assert 3900 <= calls[-1] <= 4100
    for run in runs:
        assert abs(run.tool_calls - 340 * hours_of(sqlite_ledger, run)) < 60


def test_matching_engine_pareto_set_and_ideal(ledger):
    import_results(ledger, MATCHING)

    front = ledger.frontier()

    assert [p["version"] for p in front["pareto"]] == ["V2"]
    assert front["pareto"][0]["values"] == {"peak_mts": 2.86, "sustained_mts": 1.24}
    objectives = {o["name"]: o for o in front["objectives"]}
    assert (objectives["peak_mts"]["baseline"], objectives["peak_mts"]["ideal"]) == (1.23, 3.2)
    assert objectives["sustained_mts"]["baseline"] == 0.43
    assert objectives["sustained_mts"]["ideal"] == 1.5


def test_matching_engine_committed_versions_and_failed_trials(sqlite_ledger):
    import_results(sqlite_ledger, MATCHING)
    versions = {v.name: v for v in sqlite_ledger.versions()}

    assert versions["V1"].status == versions["V2"].status == "committed"
    for name in TRIALS:
        assert versions[name].status == "failed"
        assert versions[name].regime == "concurrency primitives"
    failed_in_regime = [
        v for v in versions.values()
        if v.regime == "concurrency primitives" and v.status == "failed"
    ]
    assert len(failed_in_regime) == 4
    points = {
        r.version: (r.metrics["peak_mts"], r.metrics["sustained_mts"])
        for r in sqlite_ledger.runs() if r.version in TRIALS
    }
    assert points == {
        "group_spin_10000": (2.28, 0.98), "master_spin_1000": (2.45, 0.98),
        "yielding": (2.52, 1.01), "dispatch": (2.19, 1.02),
    }


@pytest.mark.parametrize("path", [INFERENCE, MATCHING], ids=lambda p: p.name)
def test_filled_in_rows_are_marked(path):
    marks = {row["filled_in"] for row in rows(path)}

    assert marks == {"yes", "no"}


@pytest.mark.parametrize(
    "name",
    ["inference-12h.tsv", "inference-12h.toml", "matching-engine.tsv", "matching-engine.toml"],
)
def test_bundled_examples_match_the_examples_folder(name):
    assert bundled(f"examples/{name}").read_bytes() == (EXAMPLES / name).read_bytes()


def test_bundled_autoresearch_file_is_the_real_one(shared_data):
    real = shared_data / "autoresearch" / "karpathy__autoresearch__results.tsv"

    assert bundled("autoresearch/results.tsv").read_bytes() == real.read_bytes()
    assert "MIT" in bundled("autoresearch/LICENSE").read_text(encoding="utf-8")

"""The ledger's Python API on every backend."""

from __future__ import annotations

import math

import pytest

import ridgeline
from ridgeline.errors import ConflictError, InputError, NotFoundError

# The published inference run: (version, tok/s, hour), with gpu_v6 appearing late and low.
INFERENCE = [
    ("cpu_v3", 15.0, 0.5),
    ("gpu_v1", 43.3, 2.5),
    ("gpu_v9", 55.2, 4.0),
    ("gpu_v6", 39.4, 5.0),
    ("gpu_v10", 72.1, 5.5),
    ("gpu_v12", 152.7, 7.4),
    ("gpu_v14", 193.1, 7.5),
]


def _at(hours: float) -> float:
    return 1_776_643_200.0 + hours * 3600  # 2026-04-20T00:00:00Z


def test_inference_records_are_the_published_staircase(ledger):
    ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160)
    for name, value, hour in INFERENCE:
        ledger.record(version=name, metrics={"tok_per_sec": value}, at=_at(hour))

    item = ledger.frontier()["objectives"][0]

    assert [r["value"] for r in item["records"]] == [15, 43.3, 55.2, 72.1, 152.7, 193.1]
    assert "gpu_v6" not in [r["version"] for r in item["records"]]
    assert item["best"] == {"value": 193.1, "run": 7, "version": "gpu_v14"}


def test_validation_crash_and_failed_version_never_set_a_record(ledger):
    ledger.add_objective("score", "min")
    ledger.record(version="a", metrics={"score": 10}, at=_at(0))
    ledger.record(version="a", metrics={"score": 1}, intent="validation", at=_at(1))
    ledger.record(version="b", metrics={"score": 2}, outcome="crash", reason="oom", at=_at(2))
    ledger.set_version("c", status="failed")
    ledger.record(version="c", metrics={"score": 3}, at=_at(3))
    ledger.record(version="d", metrics={"score": 9}, at=_at(4))

    records = ledger.frontier()["objectives"][0]["records"]

    assert [(r["version"], r["value"]) for r in records] == [("a", 10), ("d", 9)]


def test_equal_value_is_not_a_new_record(ledger):
    ledger.add_objective("x", "max")
    ledger.record(version="a", metrics={"x": 5}, at=_at(0))
    ledger.record(version="b", metrics={"x": 5}, at=_at(1))

    assert len(ledger.frontier()["objectives"][0]["records"]) == 1


def test_nan_metric_is_stored_as_missing_and_off_the_frontier(ledger):
    ledger.add_objective("x", "max")
    ledger.record(version="a", metrics={"x": 1.0, "y": 2.0}, at=_at(0))
    run = ledger.record(version="b", metrics={"x": math.nan, "y": 3.0}, at=_at(1))

    assert ledger.run(run.id).metrics["x"] is None
    assert ledger.frontier()["objectives"][0]["best"]["version"] == "a"


def test_version_with_two_parents_round_trips(ledger):
    ledger.set_version("gpu_v10", parents=["gpu_v9", "gpu_v6"], regime="simd", status="committed")

    version = ledger.version("gpu_v10")

    assert version.parents == ("gpu_v9", "gpu_v6")
    assert version.regime == "simd"
    assert {v.name for v in ledger.versions()} == {"gpu_v10", "gpu_v9", "gpu_v6"}


def test_version_cannot_become_its_own_ancestor(ledger):
    ledger.set_version("b", parents=["a"])
    with pytest.raises(ConflictError, match="descends from"):
        ledger.set_version("a", parents=["b"])
    with pytest.raises(ConflictError, match="own parent"):
        ledger.set_version("a", parents=["a"])


def test_idempotency_key_stores_one_run(ledger):
    first = ledger.record(version="a", metrics={"x": 1}, key="retry-1")
    second = ledger.record(version="a", metrics={"x": 1}, key="retry-1")

    assert first.id == second.id
    assert ledger.count_runs() == 1
    # A retry uses up no run id, on PostgreSQL either.
    assert ledger.record(version="a", metrics={"x": 2}).id == first.id + 1


def test_ok_run_without_metric_is_refused(ledger):
    with pytest.raises(InputError, match="at least one metric"):
        ledger.record(version="a")
    crash = ledger.record(version="a", outcome="crash", reason="segfault")
    assert crash.metrics == {}


def test_bad_values_name_their_field(ledger):
    with pytest.raises(InputError, match="field 'x'"):
        ledger.record(version="a", metrics={"x": "fast"})
    with pytest.raises(InputError, match="field 'intent'"):
        ledger.record(version="a", metrics={"x": 1}, intent="guess")
    with pytest.raises(InputError, match="field 'at'"):
        ledger.record(version="a", metrics={"x": 1}, at="yesterday")


def test_transaction_rolls_back_every_write(ledger):
    ledger.record(version="kept", metrics={"x": 1})
    with pytest.raises(RuntimeError):
        with ledger.transaction():
            ledger.record(version="lost", metrics={"x": 2})
            ledger.add_lesson("never stored")
            raise RuntimeError("abort")

    assert [r.version for r in ledger.runs()] == ["kept"]
    assert ledger.lessons() == []
    # The version created inside the rolled-back transaction is gone, and can be made again.
    ledger.record(version="lost", metrics={"x": 3})
    assert [r.version for r in ledger.runs()] == ["kept", "lost"]


def test_runs_limit_keeps_the_newest_in_time_order(ledger):
    for i in range(5):
        ledger.record(version=f"v{i}", metrics={"x": i}, at=_at(i))

    assert [r.version for r in ledger.runs(limit=2)] == ["v3", "v4"]


def test_missing_things_raise_not_found(ledger):
    with pytest.raises(NotFoundError):
        ledger.run(99)
    with pytest.raises(NotFoundError):
        ledger.version("nope")
    with pytest.raises(NotFoundError):
        ledger.add_lesson("about a ghost", run=99)


def test_lessons_notes_and_settings(ledger):
    run = ledger.record(version="a", outcome="crash", reason="oom")
    ledger.add_lesson("halve the batch when memory is tight", run=run.id)
    ledger.add_note("profile shows matvec dominates", tags=["profile"])
    ledger.set_setting("bench.pattern", r"python bench\.py")

    assert [lesson.run for lesson in ledger.lessons()] == [run.id]
    assert [n.text for n in ledger.notes(tag="profile")] == ["profile shows matvec dominates"]
    assert ledger.get_setting("bench.pattern") == r"python bench\.py"


def test_ledger_survives_reopen(db_location):
    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("x", "max")
        ledger.record(version="a", metrics={"x": 1})
    with ridgeline.open(db_location) as ledger:
        assert ledger.count_runs() == 1
        assert ledger.storage.integrity_check() == []


def test_infinite_values_are_refused_by_field(ledger):
    with pytest.raises(InputError, match="field 'x'.*finite"):
        ledger.record(version="a", metrics={"x": math.inf})
    with pytest.raises(InputError, match="finite"):
        ledger.record(version="a", metrics={"x": "-1e999"})
    assert ledger.count_runs() == 0


def test_names_with_control_characters_and_nan_baselines_are_refused(ledger):
    with pytest.raises(InputError, match="control characters"):
        ledger.record(version="v\x01", metrics={"x": 1})
    with pytest.raises(InputError, match="field 'baseline'"):
        ledger.add_objective("x", "max", baseline=math.nan)

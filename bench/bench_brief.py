"""The brief at scale: time to build it, its size, and what a naive digest keeps.

For ledgers of 1,000 and 100,000 runs (one synthetic optimization effort, grown in one
transaction), it times `build_brief` and counts its tokens; then it builds a naive peer of
the same budget, the newest runs dumped as JSON and cut to the budget, and reports how
many of the facts an agent needs after a compaction each one keeps: the best version, its
value, every lesson, the exhausted regime, the newest crash.

    python bench/bench_brief.py [--budget 1500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ridgeline  # noqa: E402
from _timing import print_table  # noqa: E402
from ridgeline.analysis.brief import build_brief  # noqa: E402
from ridgeline.tokens import (  # noqa: E402
    count_tokens,
    estimate_tokens,
    tokenizer_name,
    truncate_to_tokens,
)

START = 1_776_643_200.0  # 2026-04-20T00:00:00Z
REGIMES = ["simd", "fusion", "tiling", "concurrency primitives", "memory layout", "graphs"]
LESSONS = [
    "check attention scale before fusing kernels",
    "re-run the correctness check after every fusion",
    "pin the clock governor before timing anything",
    "never trust a single run under 2% improvement",
    "spin locks starve the risk engine thread",
    "profile before touching the allocator",
]


def fill(ledger: ridgeline.Ledger, runs: int, seed: int = 7) -> None:
    """A long optimization effort: 100 versions, crashes, validations, lessons.

    The number of versions stays 100 at any size, so a larger ledger has more runs of
    the same history, not more history: the brief should not grow with it.
    """
    rng = random.Random(seed)
    per_version = max(runs // 100, 1)
    with ledger.transaction():
        ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)
        ledger.add_objective("memory_gb", "min", unit="GiB")
        for i in range(runs):
            number = i // per_version
            version = f"v{number}"
            if i % per_version == 0:
                _declare(ledger, number, rng)
            crashed = rng.random() < 0.03
            # The dead-end family runs well below the trend, so it exhausts itself.
            scale = 0.7 if REGIMES[number % len(REGIMES)] == "concurrency primitives" else 1.0
            ledger.record(
                version=version,
                metrics=None if crashed else {
                    "tok_per_sec": scale * (15 + 180 * (i / runs) + rng.gauss(0, 4)),
                    "memory_gb": 8 - 3 * (i / runs) + rng.gauss(0, 0.2),
                },
                outcome="crash" if crashed else "ok",
                reason=f"kernel timeout in step {rng.randrange(9)}" if crashed else None,
                intent="validation" if rng.random() < 0.04 else "attempt",
                at=START + i * 10,
                tool_calls=i * 2,
                key=f"run-{i}",
            )
            if crashed and rng.random() < 0.01:
                ledger.add_lesson(rng.choice(LESSONS) + f" (#{i})")
        for text in LESSONS:
            ledger.add_lesson(text)


def _declare(ledger: ridgeline.Ledger, number: int, rng: random.Random) -> None:
    regime = REGIMES[number % len(REGIMES)]
    status = "failed" if regime == "concurrency primitives" or number % 7 == 3 else "committed"
    ledger.set_version(
        f"v{number}",
        parents=[f"v{number - 1}"] if number else None,
        regime=regime,
        status=status,
        commit=f"{rng.getrandbits(40):010x}",
        description=f"{regime} idea number {number % 11}",
    )


def naive_digest(ledger: ridgeline.Ledger, budget: int) -> str:
    """The peer: the newest runs as JSON, as many as fit in the budget."""
    runs = [run.to_dict() for run in ledger.runs(limit=400)][::-1]
    return truncate_to_tokens(json.dumps(runs, indent=1), budget)


def facts_kept(ledger: ridgeline.Ledger, text: str) -> dict[str, bool]:
    best = ledger.frontier()["objectives"][0]["best"]
    crash = ledger.runs(outcome="crash", limit=1)[0]
    return {
        "best version": best["version"] in text,
        "best value": f"{best['value']:.6g}" in text or str(best["value"]) in text,
        "every lesson": all(item.text in text for item in ledger.lessons()),
        "exhausted regime": "concurrency primitives" in text,
        "newest crash": str(crash.id) in text and (crash.reason or "") in text,
    }


def measure(runs: int, budget: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        with ridgeline.open(Path(folder) / "ledger.db") as ledger:
            started = time.perf_counter()
            fill(ledger, runs)
            filled = time.perf_counter() - started
            build_brief(ledger, budget)  # warm the tokenizer and the page cache
            samples, bare = [], []
            for _ in range(repeat):
                started = time.perf_counter()
                brief = build_brief(ledger, budget)
                samples.append(time.perf_counter() - started)
                started = time.perf_counter()
                build_brief(ledger, budget, advice=False)
                bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            naive = naive_digest(ledger, budget)
            naive_seconds = time.perf_counter() - started
            ours, theirs = facts_kept(ledger, brief.text), facts_kept(ledger, naive)
            errors = estimate_errors(ledger, budget)
    return {
        "runs": runs,
        "fill_s": filled,
        "brief_ms_p50": statistics.median(samples) * 1000,
        "brief_ms_max": max(samples) * 1000,
        "no_advice_ms_p50": statistics.median(bare) * 1000,
        "brief_tokens": brief.tokens,
        "naive_ms": naive_seconds * 1000,
        "naive_tokens": count_tokens(naive),
        "facts_brief": f"{sum(ours.values())}/{len(ours)}",
        "facts_naive": f"{sum(theirs.values())}/{len(theirs)}",
        "estimate_over_%": f"{min(errors):.0f}..{max(errors):.0f}",
    }


def estimate_errors(ledger: ridgeline.Ledger, budget: int) -> list[float]:
    """How much the byte estimate over-counts the tokenizer, in percent, over briefs of
    several budgets."""
    errors = []
    for share in (1.0, 0.6, 0.3, 0.1):
        text = build_brief(ledger, int(budget * share), advice=False).text
        errors.append(100 * (estimate_tokens(text) / count_tokens(text) - 1))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sizes", default="1000,100000")
    args = parser.parse_args()
    rows = [measure(int(n), args.budget, args.repeat) for n in args.sizes.split(",")]
    print(f"tokenizer: {tokenizer_name()}, budget {args.budget} tokens")
    print_table(rows, list(rows[0]))
    small, large = rows[0], rows[-1]
    print(f"brief tokens, largest / smallest ledger: "
          f"{large['brief_tokens'] / small['brief_tokens']:.3f}")
    print(f"naive / brief time at {large['runs']} runs: "
          f"{large['naive_ms'] / large['brief_ms_p50']:.2f}")


if __name__ == "__main__":
    main()

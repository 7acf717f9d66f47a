"""Driving a run: the bench wrapper's cost, and the validation test against a bootstrap.

Part 1 runs the same tiny benchmark script two ways: the way an autoresearch loop does
it (run with output redirected to a log, read the commit with `git rev-parse`, grep the
metric from the log, append a row to results.tsv) and through `ridgeline.benchrun.bench`
(git state with a diff check, live pass-through, log artifact, extraction, a durable
ledger run, the verdict). The ratio is what ridgeline adds per benchmark run.

Part 2 judges synthetic noisy samples (5 earlier and 5 new runs, 3% lognormal noise)
with ridgeline's rank test and with a bootstrap 99% interval of the difference of
medians: how often an unchanged version is flagged, how often a 10% slowdown is found,
and the time per decision.

    python bench/bench_drive.py [--runs 30] [--trials 400]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import ridgeline  # noqa: E402
from _timing import print_table, summarize  # noqa: E402
from ridgeline import benchrun  # noqa: E402
from ridgeline.analysis.validation import compare_samples  # noqa: E402

SCRIPT = "print('step 1 | loss: 3.0')\nprint('val_bpb:          0.997900')\n"


def make_repository(folder: Path) -> Path:
    repo = folder / "repo"
    repo.mkdir()
    (repo / "train.py").write_text(SCRIPT)
    for args in (["init", "-q"], ["add", "train.py"],
                 ["-c", "user.name=b", "-c", "user.email=b@example.invalid",
                  "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def time_autoresearch_loop(repo: Path, command: list[str], runs: int) -> list[float]:
    samples = []
    pattern = re.compile(r"^val_bpb:\s+([0-9.]+)", re.MULTILINE)
    results = repo.parent / "results.tsv"
    for _ in range(runs):
        started = time.perf_counter()
        with open(repo.parent / "run.log", "w") as log:
            subprocess.run(command, cwd=repo, stdout=log, stderr=subprocess.STDOUT)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo,
                                capture_output=True, text=True).stdout.strip()
        value = pattern.search((repo.parent / "run.log").read_text()).group(1)
        with open(results, "a") as table:
            table.write(f"{commit}\t{value}\tkeep\tbench\n")
        samples.append(time.perf_counter() - started)
    return samples


def time_ridgeline_bench(repo: Path, command: list[str], runs: int) -> list[float]:
    samples = []
    with ridgeline.open(repo.parent / "ledger.db") as ledger:
        ledger.add_objective("val_bpb", "min")
        for _ in range(runs):
            started = time.perf_counter()
            benchrun.bench(ledger, command, cwd=repo)
            samples.append(time.perf_counter() - started)
    return samples


def bootstrap_flags(earlier, fresh, rng, resamples=10_000) -> bool:
    """The peer: a 99% bootstrap interval of median(new) - median(old), flagged when its
    lower end is above zero (larger is worse here)."""
    old = rng.choice(earlier, size=(resamples, len(earlier)))
    new = rng.choice(fresh, size=(resamples, len(fresh)))
    differences = np.median(new, axis=1) - np.median(old, axis=1)
    return bool(np.quantile(differences, 0.005) > 0)


def judge_all(trials: int, slowdown: float, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    samples = [(rng.lognormal(0, 0.03, 5), rng.lognormal(0, 0.03, 5) * slowdown)
               for _ in range(trials)]
    started = time.perf_counter()
    ranks = sum(compare_samples("t", "min", old, new).verdict == "regression"
                for old, new in samples)
    rank_seconds = (time.perf_counter() - started) / trials
    started = time.perf_counter()
    boot = sum(bootstrap_flags(old, new, rng) for old, new in samples)
    boot_seconds = (time.perf_counter() - started) / trials
    return {"rank": ranks / trials, "boot": boot / trials,
            "rank_us": rank_seconds * 1e6, "boot_us": boot_seconds * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--trials", type=int, default=400)
    args = parser.parse_args()
    command = [sys.executable, "-S", "train.py"]
    with tempfile.TemporaryDirectory() as folder:
        plain = summarize(time_autoresearch_loop(make_repository(Path(folder)), command,
                                                 args.runs))
    with tempfile.TemporaryDirectory() as folder:
        ours = summarize(time_ridgeline_bench(make_repository(Path(folder)), command,
                                              args.runs))
    print(f"{args.runs} benchmark runs each (microseconds per run, benchmark included)")
    print_table([
        {"system": "autoresearch loop (log, grep, tsv)", **plain, "ratio_p50": 1.0},
        {"system": "ridgeline.benchrun.bench", **ours,
         "ratio_p50": ours["p50_us"] / plain["p50_us"]},
    ], ["system", "p50_us", "p95_us", "mean_us", "ratio_p50"])

    unchanged = judge_all(args.trials, 1.0, seed=1)
    slower = judge_all(args.trials, 1.10, seed=2)
    print(f"\n{args.trials} decisions each, 5 earlier vs 5 new runs, 3% noise")
    print_table([
        {"test": "rank test (ridgeline)", "flagged_unchanged": unchanged["rank"],
         "found_10pct_slowdown": slower["rank"], "us_per_decision": unchanged["rank_us"]},
        {"test": "bootstrap 99% CI of medians", "flagged_unchanged": unchanged["boot"],
         "found_10pct_slowdown": slower["boot"], "us_per_decision": unchanged["boot_us"]},
    ], ["test", "flagged_unchanged", "found_10pct_slowdown", "us_per_decision"])
    print(f"time ratio bootstrap / rank: {unchanged['boot_us'] / unchanged['rank_us']:.1f}")


if __name__ == "__main__":
    main()

"""Importing results files: ridgeline's importer against Optuna's trial import.

Both take the same five real results files (or the bundled autoresearch file where the
shared data is absent) into a fresh SQLite database each round. Ridgeline reads every
column, infers the objective and writes runs, versions, parents and lessons in one
transaction. The peer parses the file with the csv module, maps status to a trial state
and writes the rows as finished trials of an Optuna study on RDB storage with
`add_trials`, also one transaction. The peer does strictly less work: no inference, no
versions, no idempotency keys.

    .venv/bin/python bench/bench_import.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ridgeline  # noqa: E402
from _timing import print_table  # noqa: E402
from ridgeline.cli.demo import bundled  # noqa: E402
from ridgeline.readers.results import import_results, parse_number  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "autoresearch"

# The objective and direction of each real file, so the peer is told what ridgeline infers.
OBJECTIVES = {
    "karpathy__autoresearch__results.tsv": ("val_bpb", "minimize"),
    "AlexChen31337__qwen35-moe-offload__results.tsv": ("tok_per_sec", "maximize"),
    "ChongHan__auto-microtune__results.tsv": ("score", "minimize"),
    "Djordje-Stojanovic__TrainRTX5070__results.tsv": ("val_bpb", "minimize"),
    "Cklaus1__autokernel5090__results.tsv": ("throughput_tflops", "maximize"),
}


def files() -> list[Path]:
    if SHARED.is_dir():
        return [SHARED / name for name in OBJECTIVES]
    return [bundled("autoresearch/results.tsv")]


def objective_of(path: Path) -> tuple[str, str]:
    return OBJECTIVES.get(path.name, ("val_bpb", "minimize"))


def time_ridgeline(folder: Path, paths: list[Path], round_: int) -> tuple[float, float, int]:
    """Seconds including database creation, seconds of the import alone, rows."""
    rows, total, alone = 0, 0.0, 0.0
    for index, path in enumerate(paths):
        started = time.perf_counter()
        with ridgeline.open(folder / f"r{round_}-{index}.db") as ledger:
            opened = time.perf_counter()
            rows += import_results(ledger, path).imported
            alone += time.perf_counter() - opened
        total += time.perf_counter() - started
    return total, alone, rows


def time_optuna(folder: Path, paths: list[Path], round_: int) -> tuple[float, float, int]:
    """Seconds including database creation, seconds of parsing and add_trials, rows."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    rows, total, alone = 0, 0.0, 0.0
    for index, path in enumerate(paths):
        name, direction = objective_of(path)
        started = time.perf_counter()
        storage = f"sqlite:///{folder / f'o{round_}-{index}.db'}"
        study = optuna.create_study(storage=storage, direction=direction)
        opened = time.perf_counter()
        trials = [_trial(optuna, row, name) for row in _rows(path)]
        study.add_trials(trials)
        rows += len(trials)
        alone += time.perf_counter() - opened
        total += time.perf_counter() - started
    return total, alone, rows


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _trial(optuna, row: dict[str, str], name: str):
    value = parse_number(row.get(name) or "")
    status = (row.get("status") or row.get("correctness") or "").lower()
    if isinstance(value, float) and status not in ("crash", "fail", "blocked"):
        state, value = optuna.trial.TrialState.COMPLETE, value
    else:
        state, value = optuna.trial.TrialState.FAIL, None
    attributes = {k: v for k, v in row.items() if k and k != name and v is not None}
    return optuna.trial.create_trial(state=state, value=value, user_attrs=attributes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    paths = files()
    results = {"ridgeline import_results": [], "optuna add_trials": []}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            results["ridgeline import_results"].append(time_ridgeline(Path(folder), paths, round_))
            results["optuna add_trials"].append(time_optuna(Path(folder), paths, round_))
    table = []
    for system, samples in results.items():
        total = min(sample[0] for sample in samples)
        alone = min(sample[1] for sample in samples)
        count = samples[0][2]
        table.append({"system": system, "files": len(paths), "rows": count,
                      "import_s": alone, "with_create_s": total, "rows_per_s": count / alone})
    for row in table:
        row["ratio_import"] = row["import_s"] / table[1]["import_s"]
        row["ratio_with_create"] = row["with_create_s"] / table[1]["with_create_s"]
    print(f"{len(paths)} results files, best of {args.rounds} rounds, fresh SQLite each")
    print_table(table, ["system", "files", "rows", "import_s", "with_create_s", "rows_per_s",
                        "ratio_import", "ratio_with_create"])


if __name__ == "__main__":
    main()

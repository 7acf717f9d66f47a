"""Recording latency: ridgeline's Python API against a plain durable sqlite3 insert.

Both write one run per committed transaction to a WAL-mode SQLite file with
synchronous=FULL, so both pay the same fsync; the ratio shows what ridgeline adds on top
(version lookup, metric rows, idempotency key).

    python bench/bench_record.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ridgeline  # noqa: E402
from _timing import print_table, summarize  # noqa: E402


def time_ridgeline(folder: Path, runs: int) -> list[float]:
    samples = []
    with ridgeline.open(folder / "ridgeline.db") as ledger:
        ledger.add_objective("tok_per_sec", "max")
        for i in range(runs):
            started = time.perf_counter()
            ledger.record(
                version=f"v{i % 50}",
                metrics={"tok_per_sec": float(i), "memory_gb": 1.5},
                description="bench",
            )
            samples.append(time.perf_counter() - started)
    return samples


def time_plain_sqlite(folder: Path, runs: int) -> list[float]:
    connection = sqlite3.connect(folder / "plain.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT UNIQUE, at REAL, version TEXT, "
        "tok_per_sec REAL, memory_gb REAL, description TEXT)"
    )
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO runs (key, at, version, tok_per_sec, memory_gb, description) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, time.time(), f"v{i % 50}", float(i), 1.5, "bench"),
        )
        connection.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    connection.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plain = summarize(time_plain_sqlite(Path(folder), args.runs))
        ours = summarize(time_ridgeline(Path(folder), args.runs))
    rows = [
        {"system": "plain sqlite3 (WAL, FULL)", **plain, "ratio_p50": 1.0, "ratio_p95": 1.0},
        {
            "system": "ridgeline.record",
            **ours,
            "ratio_p50": ours["p50_us"] / plain["p50_us"],
            "ratio_p95": ours["p95_us"] / plain["p95_us"],
        },
    ]
    print(f"{args.runs} durable records each")
    print_table(rows, ["system", "p50_us", "p95_us", "mean_us", "ratio_p50", "ratio_p95"])


if __name__ == "__main__":
    main()

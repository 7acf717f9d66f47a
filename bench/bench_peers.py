"""Ridgeline against its peers, all in this one process, on the same work.

Recording latency (one run per durable transaction):
- ridgeline on SQLite (WAL, synchronous=FULL) and on PostgreSQL (synchronous_commit on);
- a plain sqlite3 INSERT at the same durability: the floor for a SQLite ledger;
- MLflow's `MlflowClient.log_metric` on its SQLite tracking store;
- Optuna's `Study.tell` with SQLite storage (the `ask` before it is not timed);
- Mem0's `Memory.add(infer=False)` into local Qdrant, its embedder's `embed` replaced by
  a cheap local function (a hash into a small vector), so no model runs and nothing
  leaves the machine.

Pareto set of random two-objective points: `pareto_mask` against Optuna's array routine
(`_is_pareto_front`, what `Study.best_trials` calls), and the whole path from stored
runs: `Ledger.frontier()` over a 100,000-run ledger against `Study.best_trials` over
100,000 in-memory trials. Then the brief at 100,000 runs.

Offline: telemetry is switched off for every peer, and the process refuses any socket
connection that is not to this machine.

    python bench/bench_peers.py [--runs 2000] [--mem0-runs 300] [--postgres URL]

PostgreSQL: `--postgres` or RIDGELINE_BENCH_POSTGRES_URL names a server on which a
throwaway database is created and dropped (`source .ci/postgres.sh; start_postgres`
starts one on 127.0.0.1).
"""

from __future__ import annotations

import os

# Before any peer is imported: their telemetry reads these at import time.
os.environ.update({
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MEM0_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "OPENAI_API_KEY": "not-used",
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "GIT_PYTHON_REFRESH": "quiet",
})

import argparse  # noqa: E402
import hashlib  # noqa: E402
import ipaddress  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ridgeline  # noqa: E402
from _timing import print_table, summarize  # noqa: E402
from ridgeline.analysis.frontier import pareto_mask  # noqa: E402

logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")


# -- no network ------------------------------------------------------------------------


def forbid_network() -> None:
    """Make every Python socket connection to another machine fail at once."""
    original = socket.socket.connect

    def local_only(self: socket.socket, address) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise ConnectionRefusedError(f"benchmark is offline: refused {host}")
        original(self, address)

    socket.socket.connect = local_only  # type: ignore[method-assign]
    socket.socket.connect_ex = lambda self, address: (  # type: ignore[method-assign]
        local_only(self, address) or 0
    )


# -- recording -------------------------------------------------------------------------


def time_calls(call: Callable[[int], object], runs: int, warmup: int = 20) -> list[float]:
    for i in range(warmup):
        call(-1 - i)
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


def ridgeline_recorder(location: str) -> tuple[Callable[[int], object], Callable[[], None]]:
    ledger = ridgeline.open(location)
    ledger.add_objective("tok_per_sec", "max")

    def record(i: int) -> object:
        return ledger.record(version=f"v{i % 50}",
                             metrics={"tok_per_sec": float(i), "memory_gb": 1.5})

    return record, ledger.close


def plain_sqlite_recorder(folder: Path) -> tuple[Callable[[int], object], Callable[[], None]]:
    connection = sqlite3.connect(folder / "plain.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT UNIQUE, "
                       "at REAL, version TEXT, tok_per_sec REAL, memory_gb REAL)")

    def insert(i: int) -> object:
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO runs (key, at, version, tok_per_sec, memory_gb) VALUES (?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, time.time(), f"v{i % 50}", float(i), 1.5),
        )
        return connection.execute("COMMIT")

    return insert, connection.close


def mlflow_recorder(folder: Path) -> tuple[Callable[[int], object], Callable[[], None]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("bench", artifact_location=str(folder / "mlruns"))
    run_id = client.create_run(experiment).info.run_id

    def log(i: int) -> object:
        return client.log_metric(run_id, "tok_per_sec", float(i), step=abs(i))

    return log, lambda: client.set_terminated(run_id)


def optuna_recorder(folder: Path) -> tuple[Callable[[int], object], Callable[[], None]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{folder / 'optuna.db'}",
                                direction="maximize")

    def tell(i: int) -> object:
        trial = study.ask()
        started = time.perf_counter()
        study.tell(trial, float(i))
        # Only the tell is charged: hand back its time through the closure's list.
        tell_times.append(time.perf_counter() - started)
        return trial

    tell_times: list[float] = []
    tell.times = tell_times  # type: ignore[attr-defined]
    return tell, lambda: None


def cheap_embedding(text: str, memory_action: object = None) -> list[float]:
    """A deterministic 64-number vector from a hash: costs microseconds, runs no model."""
    digest = hashlib.blake2b(text.encode(), digest_size=64).digest()
    return [byte / 255.0 for byte in digest]


def mem0_recorder(folder: Path) -> tuple[Callable[[int], object], Callable[[], None]]:
    from mem0 import Memory

    memory = Memory.from_config({
        "vector_store": {"provider": "qdrant", "config": {
            "collection_name": "bench", "path": str(folder / "qdrant"),
            "embedding_model_dims": 64, "on_disk": True}},
        # A provider must be named; its client is never called (`embed` is replaced and
        # infer=False skips the LLM), and the key is a dummy.
        "embedder": {"provider": "openai", "config": {"api_key": "not-used",
                                                      "embedding_dims": 64}},
        "llm": {"provider": "openai", "config": {"api_key": "not-used"}},
        "history_db_path": str(folder / "mem0-history.db"),
    })
    memory.embedding_model.embed = cheap_embedding

    def add(i: int) -> object:
        text = f"run {i}: version v{i % 50} reached tok_per_sec={float(i)}"
        return memory.add([{"role": "user", "content": text}], user_id="agent",
                          infer=False)

    return add, lambda: None


# -- PostgreSQL scratch database --------------------------------------------------------


class ScratchDatabase:
    """A database created on the server of `base_url` and dropped on exit."""

    def __init__(self, base_url: str) -> None:
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.admin = psycopg.connect(base_url, autocommit=True)
        self.admin.execute(f'CREATE DATABASE "{self.name}"')  # a generated plain name
        parts = urlsplit(base_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, ""))

    def close(self) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


def recording_rows(folder: Path, args: argparse.Namespace) -> list[dict]:
    systems: list[tuple[str, Callable[[], tuple], int]] = [
        ("sqlite3 insert (WAL, FULL)", lambda: plain_sqlite_recorder(folder), args.runs),
        ("ridgeline record, SQLite", lambda: ridgeline_recorder(str(folder / "r.db")),
         args.runs),
    ]
    scratch = ScratchDatabase(args.postgres) if args.postgres else None
    if scratch:
        systems.append(("ridgeline record, PostgreSQL",
                        lambda: ridgeline_recorder(scratch.url), args.runs))
    systems += [
        ("MLflow log_metric, SQLite", lambda: mlflow_recorder(folder), args.runs),
        ("Optuna tell, SQLite", lambda: optuna_recorder(folder), args.runs),
        ("Mem0 add(infer=False)", lambda: mem0_recorder(folder), args.mem0_runs),
    ]
    rows = []
    try:
        for name, make, runs in systems:
            if any(skip in name.lower() for skip in args.skip):
                continue
            rows.append(measure(name, make, runs))
            print(f"  measured {name}", file=sys.stderr)
    finally:
        if scratch:
            scratch.close()
    floor = rows[0]["p50_us"]
    ours = next(r["p50_us"] for r in rows if r["system"] == "ridgeline record, SQLite")
    for row in rows:
        row["x_plain"] = row["p50_us"] / floor
        row["x_ridgeline"] = row["p50_us"] / ours
    return rows


def measure(name: str, make: Callable[[], tuple], runs: int) -> dict:
    call, close = make()
    samples = time_calls(call, runs)
    close()
    charged = getattr(call, "times", None)
    if charged:
        samples = charged[-runs:]
    return {"system": name, "runs": runs, **summarize(samples)}


# -- Pareto set and brief ---------------------------------------------------------------


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def pareto_rows(sizes: list[int]) -> list[dict]:
    from optuna.study._multi_objective import _is_pareto_front

    rng = np.random.default_rng(7)
    rows = []
    for n in sizes:
        points = rng.random((n, 2))
        ours_mask = pareto_mask(points, [True, True])
        # Optuna minimizes losses; maximizing both means negating both.
        theirs_mask = _is_pareto_front(-points, assume_unique_lexsorted=False)
        assert (ours_mask == theirs_mask).all(), "the two Pareto sets differ"
        ours = best_of(lambda: pareto_mask(points, [True, True]))
        theirs = best_of(lambda: _is_pareto_front(-points, assume_unique_lexsorted=False))
        rows.append({"work": f"Pareto mask, {n:,} points", "front": int(ours_mask.sum()),
                     "ridgeline_ms": ours * 1e3, "peer_ms": theirs * 1e3,
                     "peer": "Optuna _is_pareto_front", "speedup": theirs / ours})
    return rows


def fill_ledger(location: str, runs: int) -> None:
    rng = np.random.default_rng(11)
    values = rng.random((runs, 2))
    with ridgeline.open(location) as ledger, ledger.transaction():
        ledger.add_objective("tok_per_sec", "max")
        ledger.add_objective("watts", "min")
        for i, (speed, power) in enumerate(values):
            ledger.record(version=f"v{i % 500}", at=1_776_643_200.0 + 60 * i,
                          metrics={"tok_per_sec": float(speed), "watts": float(power)})


def stored_pareto_row(location: str, runs: int) -> dict:
    import optuna

    rng = np.random.default_rng(11)
    values = rng.random((runs, 2))
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.add_trials([
        optuna.trial.create_trial(values=[float(a), float(b)], params={}, distributions={})
        for a, b in values
    ])
    with ridgeline.open(location) as ledger:
        ours = best_of(ledger.frontier)
        ours_front = len(ledger.frontier()["pareto"])
    theirs = best_of(lambda: study.best_trials)
    return {"work": f"Pareto set from {runs:,} stored runs", "front": ours_front,
            "ridgeline_ms": ours * 1e3, "peer_ms": theirs * 1e3,
            "peer": "Optuna best_trials (in memory)", "speedup": theirs / ours}


def brief_row(location: str, runs: int) -> dict | None:
    try:
        from ridgeline.analysis.brief import build_brief
    except ImportError:
        return None
    with ridgeline.open(location) as ledger:
        build_brief(ledger)
        took = best_of(lambda: build_brief(ledger))
    return {"work": f"brief at {runs:,} runs", "front": None, "ridgeline_ms": took * 1e3,
            "peer_ms": None, "peer": "-", "speedup": None}


# -- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="records timed per system")
    parser.add_argument("--mem0-runs", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("RIDGELINE_BENCH_POSTGRES_URL"))
    parser.add_argument("--stored-runs", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[],
                        help="skip systems whose name contains this (mlflow, mem0, ...)")
    args = parser.parse_args()
    args.skip = [s.lower() for s in args.skip]
    forbid_network()

    with tempfile.TemporaryDirectory(prefix="ridgeline-bench-") as name:
        folder = Path(name)
        print(f"Recording latency, one durable transaction per run ({args.runs} runs)\n")
        rows = recording_rows(folder, args)
        print_table(rows, ["system", "runs", "p50_us", "p95_us", "mean_us", "x_plain",
                           "x_ridgeline"])

        print(f"\nPareto sets and the brief\n")
        location = str(folder / "big.db")
        fill_ledger(location, args.stored_runs)
        work = pareto_rows([100_000, 1_000_000])
        work.append(stored_pareto_row(location, args.stored_runs))
        brief = brief_row(location, args.stored_runs)
        if brief:
            work.append(brief)
        print_table(work, ["work", "front", "ridgeline_ms", "peer_ms", "peer", "speedup"])


if __name__ == "__main__":
    main()

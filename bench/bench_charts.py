"""Benchmark: the evolution chart and the dashboard's data endpoint at 100,000 runs.

    .venv/bin/python bench/bench_charts.py [--runs 100000]

Ridgeline's evolution chart (chart data, then a PNG with staircase, labels, bands and
tool calls) against the peer, a plain matplotlib scatter of the same points saved as
PNG. Then the dashboard API over a SQLite ledger of the same size, in process: the
chart endpoint cold (runs loaded, chart computed) and warm (served from the cache),
and the change-stamp endpoint the page polls every second. Each timing is the best of
three; the table ends with the ratios.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ridgeline  # noqa: E402
from ridgeline import charts  # noqa: E402
from ridgeline.analysis import chartdata  # noqa: E402
from ridgeline.models import Objective, Run, Version  # noqa: E402

START = datetime(2026, 4, 20, tzinfo=timezone.utc)
OBJECTIVE = Objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)


# -- synthetic runs -------------------------------------------------------------------


def synthetic_runs(count: int, seed: int = 7) -> list[dict]:
    """A long run: slow improvement, 2% crashes, a validation run in ten."""
    rng = random.Random(seed)
    level = 15.0
    rows = []
    for index in range(count):
        level *= 1 + rng.random() * 0.00005
        crashed = rng.random() < 0.02
        rows.append({
            "version": f"v{index // 20}",
            "metrics": {} if crashed else {"tok_per_sec": level * rng.uniform(0.7, 1.0)},
            "intent": "validation" if rng.random() < 0.1 else "attempt",
            "outcome": "crash" if crashed else "ok",
            "at": START + timedelta(seconds=index * 30),
            "tool_calls": index * 3,
        })
    return rows


def as_runs(rows: list[dict]) -> list[Run]:
    return [
        Run(id=i + 1, at=row["at"], version=row["version"], metrics=row["metrics"],
            intent=row["intent"], outcome=row["outcome"], tool_calls=row["tool_calls"])
        for i, row in enumerate(rows)
    ]


def best_of(function, repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


# -- the two charts -------------------------------------------------------------------


def ridgeline_chart(runs: list[Run], versions: list[Version], out: Path) -> None:
    data = chartdata.evolution(runs, versions, OBJECTIVE)
    figure = charts.draw_evolution(data)
    charts.save(figure, out)


def peer_chart(runs: list[Run], out: Path) -> None:
    from matplotlib.figure import Figure

    xs = [(run.at - START).total_seconds() / 3600 for run in runs]
    ys = [run.metrics.get("tok_per_sec", 0.0) for run in runs]
    figure = Figure(figsize=(11, 6), layout="constrained")
    figure.add_subplot().scatter(xs, ys, s=14)
    figure.savefig(out, format="png", dpi=120)


# -- the dashboard endpoint -----------------------------------------------------------


def fill_ledger(location: str, rows: list[dict]) -> float:
    started = time.perf_counter()
    with ridgeline.open(location) as ledger:
        ledger.add_objective(OBJECTIVE.name, "max", unit="tok/s", baseline=160, ideal=400)
        with ledger.transaction():
            for row in rows:
                ledger.record(**row)
    return time.perf_counter() - started


def endpoint_timings(location: str) -> dict[str, float]:
    from starlette.testclient import TestClient

    from ridgeline import server

    timings: dict[str, float] = {}
    with TestClient(server.create_app(location)) as client:
        for label, path in (("cold", "/api/charts/evolution"),
                            ("warm", "/api/charts/evolution"),
                            ("changes", "/api/changes")):
            started = time.perf_counter()
            response = client.get(path)
            timings[label] = time.perf_counter() - started
            assert response.status_code == 200, response.text
            if label == "cold":
                body = response.json()
                timings["dots sent"] = len(body["dots"])
        timings["changes"] = best_of(lambda: client.get("/api/changes"))
        timings["warm"] = best_of(lambda: client.get("/api/charts/evolution"))
        timings["after a write"] = best_of(lambda: _write_then_get(location, client))
    return timings


def _write_then_get(location: str, client) -> None:
    # What the dashboard does after another process records a run.
    with ridgeline.open(location) as writer:
        writer.record(version="late", metrics={OBJECTIVE.name: 1.0})
    assert client.get("/api/changes").status_code == 200
    assert client.get("/api/charts/evolution").status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    count = parser.parse_args().runs

    rows = synthetic_runs(count)
    runs = as_runs(rows)
    versions = [Version(name=f"v{i}", status="committed") for i in range(count // 20 + 1)]

    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        ours = best_of(lambda: ridgeline_chart(runs, versions, folder_path / "r.png"))
        peer = best_of(lambda: peer_chart(runs, folder_path / "p.png"))
        filled = fill_ledger(str(folder_path / "ledger.db"), rows)
        api = endpoint_timings(str(folder_path / "ledger.db"))

    print(f"runs: {count:,}")
    print(f"{'what':<48}{'seconds':>10}")
    print(f"{'ridgeline evolution chart (data + PNG)':<48}{ours:>10.3f}")
    print(f"{'peer: plain matplotlib scatter (PNG)':<48}{peer:>10.3f}")
    print(f"{'ledger filled (one transaction)':<48}{filled:>10.3f}")
    print(f"{'GET /api/charts/evolution, cold':<48}{api['cold']:>10.3f}")
    print(f"{'GET /api/charts/evolution, warm (cached)':<48}{api['warm']:>10.3f}")
    print(f"{'GET /api/changes (polled every second)':<48}{api['changes']:>10.3f}")
    print(f"{'one run recorded, then changes + chart':<48}{api['after a write']:>10.3f}")
    print(f"dots sent to the dashboard: {api['dots sent']:,} of {count:,}")
    print(f"ratio ridgeline / peer chart: {ours / peer:.2f}x")


if __name__ == "__main__":
    main()

"""The Pareto set of random two-objective points: ridgeline's sort-and-sweep against a
straightforward numpy peer that compares every point with the running front.

    python bench/bench_pareto.py [--points 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import print_table  # noqa: E402
from ridgeline.analysis.frontier import pareto_mask  # noqa: E402


def block_nested_loop(points: np.ndarray) -> np.ndarray:
    """The textbook peer: keep a window of undominated points, compare each newcomer."""
    window: list[int] = []
    for index in range(len(points)):
        candidate = points[index]
        if window:
            kept = points[window]
            if np.any(np.all(kept >= candidate, axis=1) & np.any(kept > candidate, axis=1)):
                continue
            beaten = np.all(candidate >= kept, axis=1) & np.any(candidate > kept, axis=1)
            window = [w for w, gone in zip(window, beaten) if not gone]
        window.append(index)
    mask = np.zeros(len(points), dtype=bool)
    mask[window] = True
    return mask


def best_of(function, repeats: int = 3) -> tuple[float, np.ndarray]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--peer-points", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    rows = []
    for n in sorted({args.peer_points, args.points}):
        points = rng.random((n, 2))
        ours, mask = best_of(lambda: pareto_mask(points, [True, True]))
        row = {"points": n, "front": int(mask.sum()), "ridgeline_s": ours}
        if n <= args.peer_points:
            peer, peer_mask = best_of(lambda: block_nested_loop(points), repeats=1)
            assert np.array_equal(mask, peer_mask), "the two methods disagree"
            row.update(peer_s=peer, speedup=peer / ours)
        rows.append(row)
    print_table(rows, ["points", "front", "ridgeline_s", "peer_s", "speedup"])


if __name__ == "__main__":
    main()

"""Small helpers shared by the benchmark scripts: percentiles and a table printer."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean of a list of seconds, in microseconds."""
    return {
        "p50_us": percentile(samples, 0.50) * 1e6,
        "p95_us": percentile(samples, 0.95) * 1e6,
        "mean_us": statistics.fmean(samples) * 1e6,
    }


def print_table(rows: Sequence[dict], columns: Sequence[str]) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)

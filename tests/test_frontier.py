"""The frontier's pure functions against brute-force references."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeline.analysis.frontier import (
    RunPoint,
    compute_frontier,
    headroom,
    hypervolume,
    pareto_mask,
    staircase,
)
from ridgeline.models import Objective

START = datetime(2026, 4, 20, tzinfo=timezone.utc)

# Few distinct values make ties and duplicates common, which is where sweeps go wrong.
values = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, 2.5, -1.0, math.inf, -math.inf]),
    st.floats(allow_nan=True, allow_infinity=False, width=16),
)


def brute_force_pareto(rows: list[tuple[float, ...]], maximize: list[bool]) -> list[bool]:
    def oriented(row):
        return [v if up else -v for v, up in zip(row, maximize)]

    def dominates(a, b):
        return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))

    result = []
    for row in rows:
        if any(math.isnan(v) for v in row):
            result.append(False)
            continue
        mine = oriented(row)
        others = (oriented(o) for o in rows if not any(math.isnan(v) for v in o))
        result.append(not any(dominates(o, mine) for o in others))
    return result


@settings(max_examples=300, deadline=None)
@given(
    dimensions=st.integers(min_value=1, max_value=3),
    data=st.data(),
)
def test_pareto_mask_matches_brute_force(dimensions, data):
    maximize = data.draw(st.lists(st.booleans(), min_size=dimensions, max_size=dimensions))
    rows = data.draw(
        st.lists(st.tuples(*[values] * dimensions), min_size=0, max_size=30)
    )

    mask = pareto_mask(np.array(rows, dtype=float).reshape(len(rows), dimensions), maximize)

    assert mask.tolist() == brute_force_pareto(rows, maximize)


def brute_force_staircase(points: list[RunPoint], objective: Objective) -> list[int]:
    ordered = sorted(points, key=lambda p: (p.at, p.id))
    records = []
    for i, point in enumerate(ordered):
        value = point.values.get(objective.name)
        if not point.counted or value is None or math.isnan(value):
            continue
        earlier = [
            p.values[objective.name]
            for p in ordered[:i]
            if p.counted
            and p.values.get(objective.name) is not None
            and not math.isnan(p.values[objective.name])
        ]
        if all(objective.better(value, e) for e in earlier):
            records.append(point.id)
    return records


@settings(max_examples=300, deadline=None)
@given(
    direction=st.sampled_from(["max", "min"]),
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),  # hour: equal times happen
            st.one_of(st.none(), values),
            st.booleans(),
        ),
        max_size=30,
    ),
)
def test_staircase_matches_brute_force(direction, rows):
    objective = Objective("x", direction)
    points = [
        RunPoint(i, START + timedelta(hours=h), f"v{i}", {"x": v} if v is not None else {}, c)
        for i, (h, v, c) in enumerate(rows)
    ]

    assert [p.id for p in staircase(points, objective)] == brute_force_staircase(points, objective)


def test_pareto_of_a_million_points_is_sort_based():
    rng = np.random.default_rng(7)
    points = rng.random((1_000_000, 2))

    mask = pareto_mask(points, [True, True])

    front = points[mask]
    # Every front point is unbeaten by the best of the others in the first coordinate order.
    assert 1 <= mask.sum() < 100
    order = np.argsort(-front[:, 0])
    assert np.all(np.diff(front[order, 1]) > 0)


def test_hypervolume_of_two_objectives_by_hand():
    # Two points above the reference (0, 0): union of rectangles 3x1 and 1x2 = 3 + 2 - 1 = 4.
    front = np.array([[3.0, 1.0], [1.0, 2.0]])

    assert hypervolume(front, [0.0, 0.0], [True, True]) == pytest.approx(4.0)
    # Minimizing the second objective with reference 3: heights become 2 and 1.
    assert hypervolume(front, [0.0, 3.0], [True, False]) == pytest.approx(3 * 2 + 1 * 1 - 1 * 1)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.integers(min_value=1, max_value=4)] * 3), min_size=1, max_size=6
    )
)
def test_hypervolume_of_three_objectives_matches_unit_cell_count(points):
    # Integer points: the dominated volume is the number of unit cells below some point.
    cells = sum(
        1
        for cell in itertools.product(range(4), repeat=3)
        if any(all(c < p for c, p in zip(cell, point)) for point in points)
    )

    assert hypervolume(np.array(points, float), [0, 0, 0], [True] * 3) == pytest.approx(cells)


def test_headroom_is_the_open_share_of_the_gap():
    throughput = Objective("tok", "max", baseline=160, ideal=400)
    latency = Objective("ms", "min", baseline=10, ideal=2)

    assert headroom(throughput, 280) == pytest.approx(0.5)
    assert headroom(latency, 4) == pytest.approx(0.25)
    assert headroom(Objective("x", "max"), 1.0) is None


def test_matching_engine_pareto_set():
    peak = Objective("peak", "max", baseline=1.23, ideal=3.2)
    sustained = Objective("sustained", "max", baseline=0.43, ideal=1.5)
    trials = [("V1", 2.58, 1.23, True), ("V2", 2.86, 1.24, True), ("Yielding", 2.52, 1.01, False)]
    points = [
        RunPoint(i, START + timedelta(hours=i), name, {"peak": p, "sustained": s}, counted)
        for i, (name, p, s, counted) in enumerate(trials)
    ]

    result = compute_frontier([peak, sustained], points)

    assert [p["version"] for p in result["pareto"]] == ["V2"]
    assert result["hypervolume"] == pytest.approx((2.86 - 1.23) * (1.24 - 0.43))

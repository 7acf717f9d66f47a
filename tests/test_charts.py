"""The evolution and Pareto charts: their data, their matplotlib artists, the CLI.

The two fixture runs follow the published figures (DESIGN.md): the inference run's
records, gpu_v6 appearing late, early crashes and a closing validation phase; the
matching-engine run's two committed versions and four failed concurrency trials.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
import xml.etree.ElementTree as ElementTree

import pytest

from ridgeline.analysis import chartdata
from ridgeline.models import Objective, Run
from tests.conftest import PROJECT_ROOT

pytest.importorskip("matplotlib", reason="charts need the 'charts' extra (matplotlib)")

from ridgeline import charts  # noqa: E402

EXAMPLES = PROJECT_ROOT / "examples"
START = 1_776_643_200.0  # 2026-04-20T00:00:00Z

# (hour, version, tok/s or None for a crash, intent)
INFERENCE_RUNS = [
    (0.0, "cpu_v1", None, "attempt"),
    (0.2, "cpu_v2", None, "attempt"),
    (0.35, "cpu_v3", None, "attempt"),
    (0.5, "cpu_v3", 15.0, "attempt"),
    (0.8, "gpu_v1", None, "attempt"),
    (1.0, "gpu_v1", None, "attempt"),
    (1.5, "gpu_v1", None, "attempt"),
    (1.8, "gpu_v2", 12.0, "attempt"),
    (2.5, "gpu_v1", 43.3, "attempt"),
    (3.0, "gpu_v3", 30.0, "attempt"),
    (3.3, "gpu_v7", 41.0, "attempt"),
    (3.6, "gpu_v8", 42.5, "attempt"),
    (4.0, "gpu_v9", 55.2, "attempt"),
    (5.0, "gpu_v6", 39.4, "attempt"),
    (5.5, "gpu_v10", 72.1, "attempt"),
    (6.0, "gpu_v11", None, "attempt"),
    (6.5, "gpu_v11", 70.0, "attempt"),
    (7.3, "gpu_v12", 152.7, "attempt"),
    (7.4, "gpu_v13", 150.0, "attempt"),
    (7.5, "gpu_v14", 193.1, "attempt"),
] + [
    (8.0 + i * 0.32, version, value, "debug" if i == 6 else "validation")
    for i, (version, value) in enumerate(
        [("gpu_v14", 192.4), ("gpu_v12", 151.9), ("gpu_v10", 71.5), ("gpu_v14", 193.0)] * 3
        + [("gpu_v14", 192.8)]
    )
]

INFERENCE_RECORDS = [
    ("cpu_v3", 15.0), ("gpu_v1", 43.3), ("gpu_v9", 55.2), ("gpu_v10", 72.1),
    ("gpu_v12", 152.7), ("gpu_v14", 193.1),
]

MATCHING_VERSIONS = [
    # (version, peak MT/s, sustained MT/s, status, regime, description)
    ("v1", 2.58, 1.23, "committed", "thread tuning", "CPU-aware tuning"),
    ("group_spin_10000", 2.28, 0.98, "failed", "concurrency primitives", "Group Spin 10000"),
    ("master_spin_1000", 2.45, 0.98, "failed", "concurrency primitives", "Master Spin 1000"),
    ("yielding", 2.52, 1.01, "failed", "concurrency primitives", "Yielding"),
    ("dispatch", 2.19, 1.02, "failed", "concurrency primitives", "Dispatch"),
    ("v2", 2.86, 1.24, "committed", "thread tuning", "empty-set short-circuit"),
]


@pytest.fixture(scope="session")
def matplotlib_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("matplotlib"))


@pytest.fixture(autouse=True)
def shared_font_cache(matplotlib_cache, monkeypatch) -> None:
    # Each test has its own HOME; without this every `ridgeline chart` subprocess would
    # rebuild matplotlib's font cache there, seconds each time.
    monkeypatch.setenv("MPLCONFIGDIR", matplotlib_cache)


def _flat(pairs) -> list[float]:
    return [float(number) for pair in pairs for number in pair]


def at_hour(hour: float) -> float:
    return START + hour * 3600


def record_inference_run(ledger) -> None:
    """The published inference run, about 340 tool calls an hour."""
    ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)
    ledger.set_version("gpu_v10", parents=["gpu_v9", "gpu_v6"], regime="simd")
    with ledger.transaction():
        for hour, version, value, intent in INFERENCE_RUNS:
            crashed = value is None
            ledger.record(
                version=version,
                metrics={} if crashed else {"tok_per_sec": value},
                intent=intent,
                outcome="crash" if crashed else "ok",
                reason="kernel fault" if crashed else None,
                at=at_hour(hour),
                commit=f"c{int(hour * 100):04d}",
                tool_calls=round(340 * hour),
                description=f"{version} at {hour:g} h",
            )


def record_matching_engine_run(ledger) -> None:
    """The published matching-engine run: two objectives, one failed regime."""
    ledger.add_objective("peak_mts", "max", unit="MT/s", baseline=1.23, ideal=3.2)
    ledger.add_objective("sustained_mts", "max", unit="MT/s", baseline=0.43, ideal=1.5)
    for hour, (name, peak, sustained, status, regime, text) in enumerate(MATCHING_VERSIONS):
        ledger.set_version(name, status=status, regime=regime, description=text)
        ledger.record(
            version=name, metrics={"peak_mts": peak, "sustained_mts": sustained},
            at=at_hour(hour), description=text,
        )


# -- evolution data -------------------------------------------------------------------


@pytest.fixture
def inference(ledger):
    record_inference_run(ledger)
    return chartdata.evolution_of(ledger)


def test_evolution_counts_each_kind_of_dot(inference):
    crashes = sum(1 for run in INFERENCE_RUNS if run[2] is None)
    checks = sum(1 for run in INFERENCE_RUNS if run[3] != "attempt")

    assert inference.count("record") == len(INFERENCE_RECORDS)
    assert inference.count("crash") == crashes == 7
    assert inference.count("check") == checks == 13
    assert inference.count("attempt") == len(INFERENCE_RUNS) - 6 - 7 - 13


def test_evolution_staircase_steps_up_at_each_record_and_runs_to_the_end(inference):
    record_hours = [0.5, 2.5, 4.0, 5.5, 7.3, 7.5]
    expected = [(0.5, 15.0)]
    for hour, (_, value), (_, previous) in zip(
        record_hours[1:], INFERENCE_RECORDS[1:], INFERENCE_RECORDS
    ):
        expected += [(hour, previous), (hour, value)]
    expected.append((11.84, 193.1))

    assert _flat(inference.staircase) == pytest.approx(_flat(expected))


def test_evolution_records_are_the_frontier_records(ledger, inference):
    from_frontier = [r["run"] for r in ledger.frontier()["objectives"][0]["records"]]

    assert [dot.run for dot in inference.dots if dot.kind == "record"] == from_frontier


def test_evolution_labels_records_and_the_version_out_of_numbering_order(inference):
    labels = {(label.text, label.why) for label in inference.labels}

    assert labels == {(name, "record") for name, _ in INFERENCE_RECORDS} | {
        ("gpu_v6", "out of order")
    }


def test_crash_is_drawn_at_the_best_so_far_and_at_the_bottom_before_any(inference):
    crashes = [dot for dot in inference.dots if dot.kind == "crash"]

    assert [dot.value for dot in crashes] == [12.0, 12.0, 12.0, 15, 15, 15, 72.1]
    assert all(dot.measured is None for dot in crashes)


def test_evolution_bands_mark_early_crashes_and_the_validation_phase(inference):
    bands = [(band.kind, band.count) for band in inference.bands]

    assert bands == [("crashes", 6), ("validation", 13)]
    crash_band = inference.bands[0]
    assert (crash_band.start, crash_band.end) == pytest.approx((0.0, 1.5))


def test_tool_calls_follow_the_runs(inference):
    assert len(inference.tool_calls) == len(INFERENCE_RUNS)
    assert inference.tool_calls[-1] == (pytest.approx(11.84), round(340 * 11.84))


def test_idle_gap_is_cut_short_and_reported():
    hours, gaps = chartdata.active_hours([0.0, 1800.0, 1800.0 + 10 * 3600, 1800.0 + 11 * 3600])

    assert hours == pytest.approx([0.0, 0.5, 0.75, 1.75])
    assert len(gaps) == 1 and gaps[0].idle_hours == pytest.approx(10.0)


def test_out_of_order_names_only_versions_first_seen_after_a_higher_number():
    names = ["v1", "v3", "v1", "v2", "w9", "w10", "v4", "baseline", "w8", None]

    assert chartdata.out_of_order_versions(names) == {"v2", "w8"}


def test_clusters_need_enough_flags_close_together():
    flags = [True, False, True, True, False, False, False, True, True]

    assert chartdata.clusters(flags, minimum=3, skip=1) == [(0, 3, 3)]
    assert chartdata.clusters(flags, minimum=2, skip=0) == [(2, 3, 2), (7, 8, 2)]


def test_thinning_keeps_records_crashes_checks_and_labelled_dots(inference):
    thin = chartdata.thinned(inference, max_dots=2)

    for kind in ("record", "crash"):
        assert thin.count(kind) == inference.count(kind)
    assert thin.count("check") == 2 < inference.count("check")
    assert thin.count("attempt") <= inference.count("attempt")
    assert any(dot.version == "gpu_v6" for dot in thin.dots)
    assert thin.tool_calls[0] == inference.tool_calls[0]
    assert thin.tool_calls[-1] == inference.tool_calls[-1] and len(thin.tool_calls) <= 3


def test_only_the_largest_steps_are_named_when_records_are_many():
    objective = Objective("x", "max")
    runs = [
        Run(id=i, at=datetime.fromtimestamp(START + i * 60, timezone.utc),
            version=f"v{i}", metrics={"x": float(i + (1000 if i >= 50 else 0))})
        for i in range(1, 101)
    ]

    data = chartdata.evolution(runs, [], objective)

    names = [label.text for label in data.labels]
    assert data.count("record") == 100 and len(names) == chartdata.MAX_LABELS
    assert names[0] == "v1" and names[-1] == "v100" and "v50" in names


def test_a_run_of_a_failed_version_is_gray_even_when_it_is_best(ledger):
    ledger.add_objective("ms", "min")
    ledger.record(version="a", metrics={"ms": 10}, at=at_hour(0))
    ledger.set_version("b", status="failed")
    ledger.record(version="b", metrics={"ms": 1}, at=at_hour(1))

    data = chartdata.evolution_of(ledger, "ms")

    assert [(dot.version, dot.kind) for dot in data.dots] == [("a", "record"), ("b", "attempt")]


def test_a_ledger_of_crashes_only_draws_an_empty_chart(ledger, tmp_path):
    ledger.add_objective("x", "max")
    ledger.record(version="a", outcome="crash", reason="build failed")

    data = chartdata.evolution_of(ledger)
    charts.save(charts.draw_evolution(data, log=True), tmp_path / "e.png")

    assert (data.dots, data.staircase, data.skipped) == ([], [], 1)


def test_unknown_objective_is_not_found(ledger):
    ledger.add_objective("x", "max")

    with pytest.raises(chartdata.NotFoundError, match="no objective named 'y'"):
        chartdata.evolution_of(ledger, "y")


# -- evolution drawing ----------------------------------------------------------------


def _by_gid(figure, gid: str):
    """Artists whose gid is `gid`, or starts with it when it ends in a colon."""

    def wanted(found: str | None) -> bool:
        found = found or ""
        return found.startswith(gid) if gid.endswith(":") else found == gid

    return [
        artist for axes in figure.axes for artist in axes.get_children()
        if wanted(artist.get_gid())
    ]


def test_evolution_figure_draws_each_colour_once_with_its_count(inference):
    figure = charts.draw_evolution(inference)

    for kind, colour in (("attempt", "#9a9a9a"), ("record", "#2ca02c"),
                         ("check", "#ff8c1a"), ("crash", "#d62728")):
        (collection,) = _by_gid(figure, f"dots:{kind}")
        assert len(collection.get_offsets()) == inference.count(kind)
        assert collection.get_facecolor()[0][:3] == pytest.approx(
            [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        )


def test_evolution_figure_staircase_baseline_labels_and_second_axis(inference):
    figure = charts.draw_evolution(inference, log=True)

    (line,) = _by_gid(figure, "staircase")
    assert _flat(zip(line.get_xdata(), line.get_ydata())) == _flat(inference.staircase)
    (baseline,) = _by_gid(figure, "baseline")
    assert baseline.get_linestyle() == "--" and baseline.get_ydata()[0] == 160
    texts = {artist.get_text() for artist in _by_gid(figure, "label:")}
    assert texts == {name for name, _ in INFERENCE_RECORDS} | {"gpu_v6 (late)"}
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "cumulative tool calls"
    assert figure.axes[0].get_yscale() == "log"
    assert len(_by_gid(figure, "band:")) == 2


def test_svg_and_png_are_written_and_other_extensions_refused(inference, tmp_path):
    figure = charts.draw_evolution(inference)

    charts.save(figure, tmp_path / "e.svg")
    charts.save(figure, tmp_path / "e.png")

    assert ElementTree.parse(tmp_path / "e.svg").getroot().tag.endswith("svg")
    assert (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(charts.InputError, match="expected a .png or .svg"):
        charts.save(figure, tmp_path / "e.jpg")


# -- Pareto ---------------------------------------------------------------------------


@pytest.fixture
def matching(ledger):
    record_matching_engine_run(ledger)
    return chartdata.pareto_of(ledger)


def test_pareto_joins_committed_versions_in_the_order_found(matching):
    assert [(p.version, p.x, p.y) for p in matching.frontier] == [
        ("v1", 2.58, 1.23), ("v2", 2.86, 1.24)
    ]
    assert matching.baseline == (1.23, 0.43) and matching.ideal == (3.2, 1.5)
    assert matching.better == (1, 1)


def test_pareto_groups_failed_trials_by_regime(matching):
    (cluster,) = matching.clusters

    assert cluster.regime == "concurrency primitives"
    assert sorted(p.version for p in cluster.points) == [
        "dispatch", "group_spin_10000", "master_spin_1000", "yielding"
    ]
    assert (cluster.x, cluster.y) == pytest.approx((2.36, 0.9975))


def test_pareto_figure_has_arrows_regime_name_and_better_corner(matching):
    figure = charts.draw_pareto(matching)

    arrows = _by_gid(figure, "pareto:arrow")
    assert [arrow.xy for arrow in arrows] == [(2.58, 1.23), (2.86, 1.24)]
    assert arrows[0].xyann == (1.23, 0.43)
    (failed,) = _by_gid(figure, "pareto:failed")
    assert len(failed.get_offsets()) == 4
    (regime,) = _by_gid(figure, "regime:")
    assert regime.get_text().startswith("concurrency primitives")
    (better,) = _by_gid(figure, "better")
    assert better.xy == (0.98, 0.98)


def test_better_corner_follows_the_directions():
    lower = Objective("latency", "min")
    higher = Objective("throughput", "max")

    data = chartdata.pareto([], [], lower, higher)

    assert data.better == (-1, 1)
    (better,) = _by_gid(charts.draw_pareto(data), "better")
    assert better.xy == (0.02, 0.98)


def test_pareto_needs_two_objectives(ledger):
    ledger.add_objective("x", "max")

    with pytest.raises(chartdata.NotFoundError, match="needs 2 objective"):
        chartdata.pareto_of(ledger)


# -- command line ---------------------------------------------------------------------


def test_chart_commands_write_png_svg_and_html(db_location, ridgeline_bin, tmp_path):
    import ridgeline

    with ridgeline.open(db_location) as ledger:
        record_inference_run(ledger)
        record_matching_engine_run(ledger)

    for args, name in (
        (["evolution", "--log", "--objective", "tok_per_sec"], "e.png"),
        (["evolution"], "e.html"),
        (["pareto", "--x", "peak_mts", "--y", "sustained_mts"], "p.svg"),
    ):
        out = tmp_path / name
        subprocess.run(
            [ridgeline_bin, "--db", db_location, "chart", *args, "-o", str(out)],
            check=True, capture_output=True, text=True,
        )
        assert out.stat().st_size > 1000, name
    assert "<script" in (tmp_path / "e.html").read_text()


def test_chart_command_names_a_bad_objective(db_location, ridgeline_bin, tmp_path):
    import ridgeline

    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("x", "max")

    result = subprocess.run(
        [ridgeline_bin, "--db", db_location, "chart", "evolution", "--objective", "nope",
         "-o", str(tmp_path / "x.png")],
        capture_output=True, text=True,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("error: no objective named 'nope'")


# -- the published examples -----------------------------------------------------------


def _import_example(ridgeline_bin: str, location: str, name: str) -> None:
    subprocess.run(
        [ridgeline_bin, "--db", location, "import", str(EXAMPLES / name)],
        check=True, capture_output=True, text=True,
    )


def test_inference_example_shows_the_published_staircase(sqlite_location, ridgeline_bin):
    import ridgeline

    _import_example(ridgeline_bin, sqlite_location, "inference-12h.tsv")
    with ridgeline.open(sqlite_location) as ledger:
        data = chartdata.evolution_of(ledger)

    records = [(d.version, d.value) for d in data.dots if d.kind == "record"]
    assert records == INFERENCE_RECORDS
    assert (data.count("crash"), data.count("check"), data.count("attempt")) == (7, 19, 20)
    assert [label.text for label in data.labels if label.why == "out of order"] == ["gpu_v6"]
    assert data.tool_calls[-1][1] == 4019
    assert [band.kind for band in data.bands] == ["crashes", "validation"]
    assert data.objective.baseline == 160


def test_matching_engine_example_shows_the_published_pareto(sqlite_location, ridgeline_bin):
    import ridgeline

    _import_example(ridgeline_bin, sqlite_location, "matching-engine.tsv")
    with ridgeline.open(sqlite_location) as ledger:
        data = chartdata.pareto_of(ledger)

    assert [(p.version, p.x, p.y) for p in data.frontier] == [
        ("Baseline", 1.23, 0.43), ("V1", 2.58, 1.23), ("V2", 2.86, 1.24)
    ]
    clusters = {c.regime: sorted(p.version for p in c.points) for c in data.clusters}
    assert clusters["concurrency primitives"] == [
        "dispatch", "group_spin_10000", "master_spin_1000", "yielding"
    ]
    assert data.ideal == (3.2, 1.5) and data.baseline == (1.23, 0.43)


def test_one_wild_value_does_not_flatten_the_records():
    objective = Objective("val_bpb", "min")
    values = [1.0 - 0.001 * i for i in range(40)]
    values[20] = 3.2  # a diverged run, as in autoresearch's own results file
    runs = [
        Run(id=i, at=datetime.fromtimestamp(START + i * 300, timezone.utc),
            version=f"c{i}", metrics={"val_bpb": value})
        for i, value in enumerate(values)
    ]

    figure = charts.draw_evolution(chartdata.evolution(runs, [], objective))

    low, high = figure.axes[0].get_ylim()
    assert high < 1.01 and low < 0.961
    [note] = _by_gid(figure, "off-scale")
    assert note.get_text() == "1 above the scale (up to 3.2) not shown"


def test_crowded_record_names_are_thinned_but_the_best_is_named():
    objective = Objective("x", "max")
    runs = [
        Run(id=i, at=datetime.fromtimestamp(START + i * 60, timezone.utc),
            version=f"v{i}", metrics={"x": float(i)})
        for i in range(1, 36)
    ]

    figure = charts.draw_evolution(chartdata.evolution(runs, [], objective))

    drawn = {artist.get_text() for artist in _by_gid(figure, "label:")}
    assert "v35" in drawn and len(drawn) < 35

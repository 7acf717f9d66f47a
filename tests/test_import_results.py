"""Import of results files: the five real files, idempotency, rollback and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ridgeline
from ridgeline.errors import InputError
from ridgeline.readers.results import import_results, name_direction, parse_results

AUTORESEARCH = "autoresearch"

# Expected values written down from reading each file: the objective and its direction,
# the best value among kept rows, how many rows are crashes, and the status words counted.
REAL_FILES = {
    "karpathy__autoresearch__results.tsv": dict(
        objective="val_bpb", direction="min", best=0.969686, best_version="438a26e",
        rows=126, crashes=1, statuses={"keep": 23, "discard": 102, "crash": 1},
    ),
    "AlexChen31337__qwen35-moe-offload__results.tsv": dict(
        objective="tok_per_sec", direction="max", best=4713.262, best_version="6eb5884",
        rows=81, crashes=0, statuses={"keep": 34, "discard": 47},
    ),
    "ChongHan__auto-microtune__results.tsv": dict(
        objective="score", direction="min", best=59394.0308, best_version="f416e48",
        rows=115, crashes=1, statuses={"keep": 27, "discard": 88},
    ),
    "Djordje-Stojanovic__TrainRTX5070__results.tsv": dict(
        objective="val_bpb", direction="min", best=1.115866, best_version="356b419",
        rows=69, crashes=7, statuses={"keep": 20, "discard": 42, "crash": 7},
    ),
    "Cklaus1__autokernel5090__results.tsv": dict(
        objective="throughput_tflops", direction="max", best=17425.7, best_version="125",
        rows=126, crashes=18,
        statuses={"PASS": 67, "REVERT": 31, "FAIL": 14, "KEEP": 5, "KILL": 4,
                  "BLOCKED": 4, "DEFERRED": 1},
    ),
}


@pytest.fixture
def sqlite_ledger(sqlite_location):
    """For behaviour above the storage layer, where a second backend adds only time."""
    with ridgeline.open(sqlite_location) as opened:
        yield opened


def write(tmp_path: Path, text: str, name: str = "results.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(ledger) -> tuple:
    """Everything an import could change, to compare before and after a failed one."""
    return (
        [r.to_dict() for r in ledger.runs()],
        [v.to_dict() for v in ledger.versions()],
        [o.to_dict() for o in ledger.objectives()],
        [m.text for m in ledger.lessons()],
        ledger.storage.query("SELECT name, value FROM settings ORDER BY name"),
    )


SIMPLE = (
    "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"
    "a1\t1.00\t40\tkeep\tbaseline\n"
    "a2\t0.98\t41\tkeep\tsmaller batch\n"
    "a3\t0.99\t41\tdiscard\twarmup\n"
    "a4\t0.97\t42\tkeep\tdeeper\n"
)


# -- the five real files ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_results_file_imports_with_expected_best_and_crashes(ledger, shared_data, name):
    expected = REAL_FILES[name]
    report = import_results(ledger, shared_data / AUTORESEARCH / name)

    assert [(o.name, o.direction) for o in report.objectives] == [
        (expected["objective"], expected["direction"])
    ]
    assert report.rows == expected["rows"] == ledger.count_runs()
    assert report.statuses == expected["statuses"]
    assert report.crashes == expected["crashes"]
    assert sum(r.outcome == "crash" for r in ledger.runs()) == expected["crashes"]
    best = ledger.frontier()["objectives"][0]["best"]
    assert best["value"] == pytest.approx(expected["best"])
    assert best["version"] == expected["best_version"]


def test_fail_in_the_metric_is_a_crash(sqlite_ledger, shared_data):
    path = shared_data / AUTORESEARCH / "ChongHan__auto-microtune__results.tsv"
    import_results(sqlite_ledger, path)

    (run,) = sqlite_ledger.runs(version="63d8df9")

    assert run.outcome == "crash" and run.source_line == 66
    assert run.metrics.get("score") is None


def test_zero_side_metric_on_a_discarded_row_is_missing_not_a_crash(
    sqlite_ledger, shared_data
):
    path = shared_data / AUTORESEARCH / "Djordje-Stojanovic__TrainRTX5070__results.tsv"
    import_results(sqlite_ledger, path)

    (run,) = sqlite_ledger.runs(version="c92e2ae")

    assert run.outcome == "ok"
    assert run.metrics["final_loss"] is None
    assert run.metrics["val_bpb"] == pytest.approx(1.227580)


def test_file_without_status_column_uses_correctness_and_regime(sqlite_ledger, shared_data):
    path = shared_data / AUTORESEARCH / "Cklaus1__autokernel5090__results.tsv"
    report = import_results(sqlite_ledger, path)

    assert report.regime_column == "kernel_type"
    assert report.other_statuses == {"KILL": 4, "DEFERRED": 1}
    assert sqlite_ledger.version("78").regime == "quantized_matmul_w4a16"
    killed = [r for r in sqlite_ledger.runs() if r.reason == "status: KILL"]
    assert len(killed) == 4


# -- mapping and inference ------------------------------------------------------------------


def test_statuses_map_to_versions_and_parents_follow_the_last_kept(ledger, tmp_path):
    import_results(ledger, write(tmp_path, SIMPLE))

    assert ledger.version("a2").status == "committed"
    assert ledger.version("a3").status == "failed"
    assert ledger.version("a3").parents == ("a2",)
    assert ledger.version("a4").parents == ("a2",)
    records = ledger.frontier()["objectives"][0]["records"]
    assert [r["value"] for r in records] == [1.00, 0.98, 0.97]


def test_rows_get_increasing_times_and_provenance(sqlite_ledger, tmp_path):
    path = write(tmp_path, SIMPLE)
    import_results(sqlite_ledger, path)

    runs = sqlite_ledger.runs()

    assert [r.source_line for r in runs] == [2, 3, 4, 5]
    assert all(r.source == str(path.resolve()) for r in runs)
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(runs, runs[1:])]
    assert gaps == [300.0, 300.0, 300.0]


def test_one_kept_row_falls_back_on_the_column_name(sqlite_ledger, tmp_path):
    text = "experiment\tlatency_us\tstatus\n1\t700\tkeep\n2\t650\tdiscard\n"
    report = import_results(sqlite_ledger, write(tmp_path, text))

    assert report.objectives[0].direction == "min"
    assert "name" in report.objectives[0].why


def test_nothing_decides_asks_for_objective(sqlite_ledger, tmp_path):
    text = "experiment\tscore\tstatus\n1\t700\tkeep\n2\t650\tdiscard\n"

    with pytest.raises(InputError, match="--objective") as caught:
        import_results(sqlite_ledger, write(tmp_path, text))

    assert caught.value.line == 1
    assert sqlite_ledger.count_runs() == 0


def test_objective_option_overrides_inference(sqlite_ledger, tmp_path):
    path = write(tmp_path, SIMPLE)
    report = import_results(sqlite_ledger, path, objectives={"memory_gb": "min"})

    assert [(o.name, o.direction) for o in report.objectives] == [("memory_gb", "min")]
    assert sqlite_ledger.objective("memory_gb").direction == "min"


def test_an_objective_the_ledger_declares_decides(sqlite_ledger, tmp_path):
    sqlite_ledger.add_objective("score", "min", unit="ns")
    text = "experiment\tscore\tstatus\n1\t700\tkeep\n2\t650\tdiscard\n"

    report = import_results(sqlite_ledger, write(tmp_path, text))

    assert [(o.name, o.direction) for o in report.objectives] == [("score", "min")]
    assert report.objectives[0].why == "the ledger already declares it"
    assert sqlite_ledger.objective("score").unit == "ns"


def test_sidecar_declares_objectives_with_baseline_and_ideal(sqlite_ledger, tmp_path):
    write(tmp_path, '[[objective]]\nname = "val_bpb"\ndirection = "min"\nbaseline = 1.0\n'
          'ideal = 0.9\n', name="results.toml")
    report = import_results(sqlite_ledger, write(tmp_path, SIMPLE))

    assert report.objectives[0].why == "declared in results.toml"
    objective = sqlite_ledger.objective("val_bpb")
    assert (objective.baseline, objective.ideal) == (1.0, 0.9)


def test_bad_sidecar_is_named(sqlite_ledger, tmp_path):
    write(tmp_path, '[[objective]]\nname = "val_bpb"\n', name="results.toml")

    with pytest.raises(InputError, match="needs name and direction") as caught:
        import_results(sqlite_ledger, write(tmp_path, SIMPLE))

    assert caught.value.file.endswith("results.toml")


def test_sidecar_value_of_the_wrong_kind_is_named(sqlite_ledger, tmp_path):
    write(tmp_path, '[[objective]]\nname = "val_bpb"\ndirection = "min"\nideal = "low"\n',
          name="results.toml")

    with pytest.raises(InputError, match="ideal") as caught:
        import_results(sqlite_ledger, write(tmp_path, SIMPLE))

    assert caught.value.file.endswith("results.toml")
    assert sqlite_ledger.count_runs() == 0


def test_hours_that_are_not_finite_are_named(sqlite_ledger, tmp_path):
    text = "version\tval_bpb\tstatus\thours\nv1\t1.0\tkeep\t0.5\nv2\t0.9\tkeep\tnan\n"

    with pytest.raises(InputError) as caught:
        import_results(sqlite_ledger, write(tmp_path, text))

    assert (caught.value.line, caught.value.field) == (3, "hours")


@pytest.mark.parametrize("calls", ["\u00b2", "12.5", "99999999999999999999"])
def test_tool_calls_must_be_a_whole_number(sqlite_ledger, tmp_path, calls):
    text = f"version\tval_bpb\tstatus\ttool_calls\nv1\t1.0\tkeep\t{calls}\n"

    with pytest.raises(InputError, match="whole number") as caught:
        import_results(sqlite_ledger, write(tmp_path, text))

    assert (caught.value.line, caught.value.field) == (2, "tool_calls")


def test_zero_on_a_discarded_row_is_a_crash_and_never_the_best(ledger, tmp_path):
    text = SIMPLE + "a5\t0.000000\t0.0\tdiscard\tbroken run\n"
    report = import_results(ledger, write(tmp_path, text))

    (run,) = ledger.runs(version="a5")

    assert run.outcome == "crash"
    assert report.best == {"val_bpb": 0.97}


def test_other_status_words_are_kept_and_reported(sqlite_ledger, tmp_path):
    text = SIMPLE + "a5\t0.96\t42\tpending-review\tneeds a second look\n"
    report = import_results(sqlite_ledger, write(tmp_path, text))

    (run,) = sqlite_ledger.runs(version="a5")

    assert report.other_statuses == {"pending-review": 1}
    assert run.reason == "status: pending-review"


def test_missing_approximate_and_percent_values(sqlite_ledger, tmp_path):
    text = (
        "config\ttok_per_sec\tgain\tstatus\n"
        "c1\t~1890\t84.50%\tkeep\n"
        "c2\t1900\tNA\tkeep\n"
        "c3\t-\t\tdiscard\n"
    )
    import_results(sqlite_ledger, write(tmp_path, text))

    runs = {r.version: r for r in sqlite_ledger.runs()}

    assert runs["c1"].metrics == {"tok_per_sec": 1890.0, "gain": 84.5}
    assert runs["c2"].metrics["gain"] is None
    assert runs["c3"].outcome == "crash"


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e999"])
def test_infinite_values_are_malformed_cells(sqlite_ledger, tmp_path, cell):
    text = SIMPLE + f"a5\t{cell}\t42\tkeep\twild\n"

    with pytest.raises(InputError, match="finite") as caught:
        import_results(sqlite_ledger, write(tmp_path, text))

    assert (caught.value.line, caught.value.field) == (6, "val_bpb")


def test_name_directions():
    assert name_direction("tok_per_sec") == "max"
    assert name_direction("throughput_tflops") == "max"
    assert name_direction("val_bpb") == "min"
    assert name_direction("latency_us") == "min"
    assert name_direction("score") is None


# -- idempotency and transactions -----------------------------------------------------------


def test_importing_the_same_file_twice_adds_nothing(ledger, tmp_path):
    path = write(tmp_path, SIMPLE)
    import_results(ledger, path)
    before = snapshot(ledger)

    again = import_results(ledger, path)

    assert (again.imported, again.already_present) == (0, 4)
    assert snapshot(ledger) == before


def test_appended_rows_are_the_only_ones_added(ledger, tmp_path):
    path = write(tmp_path, SIMPLE)
    import_results(ledger, path)
    first_times = [r.at for r in ledger.runs()]
    path.write_text(SIMPLE + "a5\t0.96\t42\tkeep\twider\n", encoding="utf-8")

    report = import_results(ledger, path)

    runs = ledger.runs()
    assert (report.imported, report.already_present) == (1, 4)
    assert [r.at for r in runs[:4]] == first_times
    assert runs[-1].version == "a5" and runs[-1].at > first_times[-1]
    assert ledger.version("a5").parents == ("a4",)


def test_malformed_row_rolls_back_everything(ledger, tmp_path):
    ledger.add_objective("tok_per_sec", "max")
    ledger.record(version="earlier", metrics={"tok_per_sec": 1.0})
    before = snapshot(ledger)
    text = SIMPLE + "a5\tfast\t42\tkeep\toops\n"
    path = write(tmp_path, text)

    with pytest.raises(InputError) as caught:
        import_results(ledger, path)

    assert (caught.value.line, caught.value.field) == (6, "val_bpb")
    assert str(path.resolve()) in str(caught.value)
    assert "line 6" in str(caught.value) and "column 'val_bpb'" in str(caught.value)
    assert snapshot(ledger) == before


def test_skip_bad_imports_the_rest_and_lists_each_line(sqlite_ledger, tmp_path):
    text = SIMPLE + "a5\tfast\t42\tkeep\toops\n" + "a6\t0.95\tkeep\n" + "a7\t0.94\t42\tkeep\tok\n"
    report = import_results(sqlite_ledger, write(tmp_path, text), skip_bad=True)

    assert [s.line for s in report.skipped] == [6, 7]
    assert "val_bpb" in report.skipped[0].reason
    assert "expected 5" in report.skipped[1].reason
    assert report.imported == 5


# -- files that are not results files -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (b"", "empty", 1),
        (b"commit\tval_bpb\tstatus\n", "no data rows", 1),
        (b"commit\tval_bpb\n\x00\x01\x02binary", "binary", 2),
        (b"commit\tval_bpb\n" + b"a1\t1.0\n" * 2000 + b"a2\t0.9\x00\n", "binary", 2002),
        (b"commit\tval_bpb\na1\t1.0\na2\t\xff\xfe\n", "UTF-8", 3),
        (b"commit\tval_bpb\tstatus\na1\t1.0\tkeep\textra\n", "expected 3", 2),
        (b"commit\tval_bpb\tval_bpb\na1\t1.0\t2.0\n", "twice", 1),
        (b"just one column\nvalue\n", "header", 1),
        (b"commit,val_bpb,status\na1,1.0,keep\n", "comma-separated", 1),
    ],
)
def test_files_that_are_not_results_files_give_clear_errors(
    sqlite_ledger, tmp_path, content, message, line
):
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)

    with pytest.raises(InputError, match=message) as caught:
        import_results(sqlite_ledger, path)

    assert caught.value.line == line
    assert sqlite_ledger.count_runs() == 0


def test_unknown_objective_column_is_named(sqlite_ledger, tmp_path):
    with pytest.raises(InputError, match="unknown column 'tok_s'") as caught:
        import_results(sqlite_ledger, write(tmp_path, SIMPLE), objectives={"tok_s": "max"})

    assert "val_bpb" in str(caught.value)


def test_unusual_characters_in_a_description_keep_line_numbers(sqlite_ledger, tmp_path):
    text = SIMPLE.replace("smaller batch", "smaller\u2028batch\x0c") + "a5\tfast\t1\tkeep\tx\n"
    path = tmp_path / "results.tsv"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))

    with pytest.raises(InputError) as caught:
        import_results(sqlite_ledger, path)

    assert caught.value.line == 6


def test_unknown_text_columns_ride_along_in_the_description(sqlite_ledger, tmp_path):
    text = "commit\tcycle\tscore\tstatus\tdescription\nc1\ttick\t10\tkeep\tfirst\n" \
           "c2\ttock\t9\tkeep\tsecond\n"
    import_results(sqlite_ledger, write(tmp_path, text))

    assert sqlite_ledger.runs()[0].description == "first [cycle=tick]"


# -- property: the parser never fails but with an InputError naming a line --------------------

_cells = st.sampled_from(["1.5", "0", "0.000000", "-", "NA", "", "~12", "84%", "FAIL", "x",
                          "keep", "discard", "crash", "odd", "\u00e9", "1e3", "-2"])
_rows = st.lists(st.lists(_cells, min_size=1, max_size=5), max_size=6)
_headers = st.lists(st.sampled_from(["commit", "val_bpb", "status", "tok_per_sec", "score",
                                     "memory_gb", "description", "regime", ""]),
                    min_size=0, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=_headers, rows=_rows, skip=st.booleans())
def test_parser_fails_only_with_an_input_error_naming_a_line(header, rows, skip):
    text = "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    try:
        parsed = parse_results(text, "generated.tsv", skip_bad=skip)
    except InputError as error:
        assert error.line is not None and error.line >= 1
        assert error.file == "generated.tsv"
        return
    assert parsed.objectives
    assert all(entry.line >= 2 for entry in parsed.entries)


def test_identifier_that_comes_back_later_is_reported(sqlite_ledger, tmp_path):
    path = write(tmp_path, "experiment\tscore_ms\tstatus\n"
                 "1\t10\tkeep\n1\t9.5\tkeep\n2\t9\tkeep\n1\t8\tkeep\n")

    report = import_results(sqlite_ledger, path, objectives={"score_ms": "min"})

    # Line 3 repeats line 2 straight away (a re-run); line 5 returns after another id.
    assert report.scattered_versions == {"1": [2, 3, 5]}


def test_skip_bad_counts_each_row_once(sqlite_ledger, tmp_path):
    path = write(tmp_path, "commit\tval_bpb\tstatus\na\t1.0\tkeep\nb\tfast\tkeep\nc\t0.9\tkeep\n")

    report = import_results(sqlite_ledger, path, skip_bad=True)

    assert (report.rows, report.imported, len(report.skipped)) == (3, 2, 1)

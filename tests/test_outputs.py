"""Metric extraction from benchmark output."""

from __future__ import annotations

import math

import pytest

from ridgeline.errors import InputError
from ridgeline.outputs import extract_metrics

# The summary block autoresearch's training script prints at the end of a run: names
# padded with spaces after the colon, one value a line.
AUTORESEARCH_SUMMARY = """\
step 00950 (99.1%) | loss: 3.012345 | lrm: 0.05 | dt: 312ms | tok/sec: 1,680,123
---
val_bpb:          0.997900
training_seconds: 300.1
total_seconds:    325.9
peak_vram_mb:     45060.2
mfu_percent:      39.80
total_tokens_M:   499.6
num_steps:        953
num_params_M:     50.3
depth:            8
"""


def test_name_value_lines_of_an_autoresearch_summary():
    metrics = extract_metrics(AUTORESEARCH_SUMMARY)

    assert metrics["val_bpb"] == 0.9979
    assert metrics["peak_vram_mb"] == 45060.2
    assert metrics["num_steps"] == 953
    assert metrics["depth"] == 8
    # The progress line holds several colons and is not a `name: value` line.
    assert "loss" not in metrics and "step 00950 (99.1%) | loss" not in metrics


def test_json_object_on_a_line_gives_its_numbers_but_not_flags_or_text():
    text = 'warming up\n{"tok_per_sec": 193.1, "ok": true, "kernel": "simd", "n": 3}\n'

    assert extract_metrics(text) == {"tok_per_sec": 193.1, "n": 3.0}


def test_later_value_wins_and_json_overrides_name_value():
    text = "loss: 3.0\nloss: 2.5\n{\"loss\": 2.25}\n"

    assert extract_metrics(text) == {"loss": 2.25}


def test_unit_after_value_is_allowed_but_clock_times_are_not_metrics():
    text = "throughput: 2.58 MT/s\nstarted at 12:30:01\nelapsed: 12:30\n"

    assert extract_metrics(text) == {"throughput": 2.58}


def test_nan_is_kept_so_the_caller_can_call_it_a_crash():
    metrics = extract_metrics("val_bpb: nan\n")

    assert math.isnan(metrics["val_bpb"])


def test_configured_pattern_with_named_groups():
    text = "RESULT decode=72.1 tok/s prefill=1,250.5 tok/s\n"
    patterns = [r"decode=(?P<decode>[0-9.]+)", r"prefill=(?P<prefill>[0-9.,]+)"]

    assert extract_metrics(text, patterns) == {"decode": 72.1, "prefill": 1250.5}


def test_pattern_with_name_and_value_groups_takes_the_name_from_the_text():
    text = "metric p50 = 3.5\nmetric p99 = 9.25\n"

    found = extract_metrics(text, [r"metric (?P<name>\w+) = (?P<value>[0-9.]+)"])

    assert found == {"p50": 3.5, "p99": 9.25}


def test_bad_patterns_are_named_in_the_error():
    with pytest.raises(InputError, match=r"bench.patterns\[1\].*regular expression"):
        extract_metrics("", [r"(?P<ok>\d)", r"(unclosed"])
    with pytest.raises(InputError, match="named group"):
        extract_metrics("", [r"x=(\d+)"])


def test_output_without_metrics_gives_nothing():
    assert extract_metrics("compiling...\ndone\n{not json}\n[1, 2]\n") == {}

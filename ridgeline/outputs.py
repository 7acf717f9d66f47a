"""Metrics read from a benchmark's own output.

A benchmark reports its result on stdout in one of three shapes, tried in this order, a
later shape overriding an earlier one for the same name:

1. `name: value` lines, the way autoresearch's training script prints its summary
   (`val_bpb:          0.997900`). A trailing unit is allowed (`throughput: 2.58 MT/s`).
2. A JSON object alone on a line (`{"tok_per_sec": 193.1, "ok": true}`); its numeric
   members become metrics, other members are ignored.
3. Regular expressions configured per ledger (setting `bench.patterns`). A pattern names
   its metrics by its named groups: `tok/s=(?P<tok_per_sec>[0-9.]+)`. A pattern with the
   groups `name` and `value` takes the metric's name from the text itself.

Within one shape the last occurrence wins: training scripts print running values and the
final summary last. Values are floats and may be NaN (`val_bpb: nan`): whether NaN is a
crash is the caller's decision, so it is kept rather than dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ridgeline.errors import InputError

PATTERNS_SETTING = "bench.patterns"

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)"

# A name, a colon, a number and at most a short unit: enough for summaries, strict enough
# that log lines such as `step 12: loss 3.1` or timestamps `12:30:01` are not taken.
_NAME_VALUE = re.compile(
    rf"^\s*(?P<name>[A-Za-z_][\w.\-/]*)\s*:\s*(?P<value>{_NUMBER})\s*(?:[A-Za-z%/]+)?\s*$",
    re.IGNORECASE,
)


def extract_metrics(text: str, patterns: Sequence[str] | None = None) -> dict[str, float]:
    """Every metric a benchmark printed, by name.

    Args:
        text: the benchmark's output (stdout, or stdout and stderr together).
        patterns: regular expressions with named groups, as stored in the ledger setting
            `bench.patterns`; None or empty for the built-in shapes only.

    Returns:
        Values by metric name; NaN is kept as NaN.

    Raises:
        InputError: a pattern is not a valid regular expression or has no named group.
    """
    compiled = compile_patterns(patterns or ())
    metrics: dict[str, float] = {}
    lines = text.splitlines()
    metrics.update(_name_value_lines(lines))
    metrics.update(_json_lines(lines))
    for pattern in compiled:
        metrics.update(_pattern_matches(pattern, text))
    return metrics


def compile_patterns(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Check and compile configured patterns, naming the bad one in the error."""
    compiled = []
    for index, pattern in enumerate(patterns):
        field = f"{PATTERNS_SETTING}[{index}]"
        try:
            regex = re.compile(pattern, re.MULTILINE)
        except re.error as error:
            raise InputError(f"not a valid regular expression ({error}): {pattern!r}",
                             field=field) from None
        if not regex.groupindex:
            raise InputError(
                f"a pattern needs a named group such as (?P<tok_per_sec>[0-9.]+): {pattern!r}",
                field=field,
            )
        compiled.append(regex)
    return compiled


def _name_value_lines(lines: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in lines:
        match = _NAME_VALUE.match(line)
        if match:
            found[match["name"]] = float(match["value"])
    return found


def _json_lines(lines: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in lines:
        stripped = line.strip()
        if not (stripped.startswith("{") and stripped.endswith("}")):
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            continue
        for name, value in data.items():
            # bool is an int in Python; `"ok": true` is a flag, not a metric.
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[str(name)] = float(value)
    return found


def _pattern_matches(pattern: re.Pattern[str], text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    generic = {"name", "value"} <= set(pattern.groupindex)
    for match in pattern.finditer(text):
        if generic:
            pairs = [(match["name"], match["value"])]
        else:
            pairs = list(match.groupdict().items())
        for name, raw in pairs:
            value = _to_float(raw)
            if name and value is not None:
                found[name] = value
    return found


def _to_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw.strip().replace(",", ""))
    except ValueError:
        return None

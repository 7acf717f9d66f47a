"""Property-based fuzzing of everything that reads outside input.

Each importer, the record parsers and the HTTP API get generated input, some of it random
and some of it real files with parts replaced. The property is the same everywhere: the
call either succeeds or raises `InputError` (or another `RidgelineError`) whose message
says where the problem is; nothing else escapes.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ridgeline
from ridgeline.errors import InputError
from tests.conftest import SHARED_DATA

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- generated values ------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=12,
)

cell_text = st.one_of(
    st.sampled_from(["", "-", "nan", "NaN", "inf", "-inf", "1e400", "0", "-0.0", "keep",
                     "discard", "crash", "PASS", "FAIL", "oom", "n/a", "2026-04-20T09:30:00Z",
                     "3f2a9c1", "1,5", "0x1f", "  7  ", "∞", "١٢", "\u00a0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(alphabet=st.characters(blacklist_characters="\t\n\r"), max_size=12),
)
header_names = st.sampled_from(
    ["commit", "val_bpb", "memory_gb", "status", "description", "tok_per_sec", "latency_ms",
     "correctness", "regime", "parents", "intent", "at", "hours", "tool_calls", "reason",
     "lesson", "version", "experiment", "score", "filled_in", "x", ""]
)


def _assert_located(error: InputError, file: str | None = None) -> None:
    """An error says what is wrong and where: a message, and the file or field."""
    assert error.message.strip()
    assert error.file is not None or error.field is not None, str(error)
    if file is not None and error.file is not None:
        assert file in str(error.file)


# -- results files ---------------------------------------------------------------------


@st.composite
def results_tables(draw: st.DrawFn) -> str:
    header = draw(st.lists(header_names, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(cell_text, min_size=len(header) - 1,
                                  max_size=len(header) + 1), max_size=8))
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))


@FUZZ
@given(text=results_tables() | st.text(max_size=200), skip_bad=st.booleans())
def test_results_parser_accepts_or_says_where(text, skip_bad):
    from ridgeline.readers.results import decode_text, parse_results

    try:
        # Through decode_text, as a file's bytes arrive: it turns away empty input.
        # A lone surrogate becomes bytes that are not UTF-8, as in a damaged file.
        data = text.encode("utf-8", "surrogatepass")
        parsed = parse_results(decode_text(data, "fuzz.tsv"), "fuzz.tsv",
                               skip_bad=skip_bad)
    except InputError as error:
        _assert_located(error, "fuzz.tsv")
        assert error.line is not None, str(error)
        return
    assert parsed.entries


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ridgeline-fuzz-") as folder:
        yield Path(folder)


def _fresh_ledger(scratch: Path) -> ridgeline.Ledger:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    return ridgeline.open(folder / "ledger.db")


@settings(FUZZ, max_examples=25)
@given(data=results_tables().map(lambda text: text.encode("utf-8", "surrogatepass"))
       | st.binary(max_size=300))
def test_results_import_leaves_the_ledger_whole_on_bad_input(scratch, data):
    from ridgeline.readers.results import import_results

    path = Path(tempfile.mkdtemp(dir=scratch)) / "results.tsv"
    path.write_bytes(data)
    with _fresh_ledger(scratch) as ledger:
        try:
            report = import_results(ledger, path)
        except InputError as error:
            _assert_located(error, "results.tsv")
            assert ledger.count_runs() == 0
            return
        assert ledger.count_runs() == report.imported


# -- transcripts -----------------------------------------------------------------------


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, item in list(value.items())[:20]:
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            yield from _paths(item, (*prefix, index))


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """`value` with a few of its parts replaced by arbitrary JSON."""
    paths = list(_paths(value))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        value = _replace(value, draw(st.sampled_from(paths)), draw(json_values))
        paths = list(_paths(value))
    return value


def _sample(name: str) -> tuple[str, list[Any]]:
    """The first objects of a real transcript: ('lines', [...]) or ('document', [doc])."""
    folder = SHARED_DATA / "traces" / name
    if not folder.is_dir():
        pytest.skip(f"real transcripts not found at {folder} (only present beside CI)")
    path = sorted(p for p in folder.iterdir() if p.is_file())[0]
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            # A dozen short lines keep each example quick; long tool outputs add nothing.
            first = [line for line, _ in zip(handle, range(200))]
        lines = [line for line in first if len(line) < 4000] or first[:1]
        # (OpenHands writes one long line a task: then its first task is the sample.)
        return "lines", [json.loads(line) for line in lines[:12]]
    return "document", [json.loads(path.read_text(encoding="utf-8"))]


def _write_trace(folder: Path, shape: str, objects: list[Any], cut: int) -> Path:
    if shape == "lines":
        text = "\n".join(json.dumps(obj) for obj in objects) + "\n"
        path = folder / "session.jsonl"
    else:
        text = json.dumps(objects[0])
        path = folder / "trajectory.json"
    # Some examples are cut short, as a transcript being written when it was copied.
    path.write_text(text[: len(text) - cut] if cut < len(text) else text, encoding="utf-8")
    return path


def _check_trace(path: Path) -> None:
    from ridgeline.readers.traces import analyze_trace

    try:
        analysis = analyze_trace(path)
    except InputError as error:
        _assert_located(error, path.name)
        return
    assert analysis is not None


@pytest.mark.parametrize(
    "name",
    [
        "claude-code",
        "codex",
        "openhands",
        "swe-agent",
        "mini-swe-agent",
        "atif",
    ],
)
def test_transcript_readers_survive_mutated_real_files(name, scratch):
    pytest.importorskip("ridgeline.readers.traces")
    shape, objects = _sample(name)

    # No shrinking: real transcript lines are large, and shrinking them takes minutes.
    @settings(FUZZ, max_examples=20, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    @given(changed=st.lists(st.integers(0, len(objects) - 1), min_size=1, max_size=3),
           data=st.data(), cut=st.integers(min_value=0, max_value=2000))
    def check(changed, data, cut):
        variant = list(objects)
        for index in changed:
            variant[index] = data.draw(mutated(variant[index]))
        _check_trace(_write_trace(Path(tempfile.mkdtemp(dir=scratch)), shape, variant, cut))

    check()


@FUZZ
@given(data=st.binary(max_size=400) | st.lists(json_values, max_size=5).map(
    lambda items: "\n".join(json.dumps(i) for i in items).encode()))
def test_transcript_reader_rejects_anything_else_cleanly(scratch, data):
    pytest.importorskip("ridgeline.readers.traces")
    path = Path(tempfile.mkdtemp(dir=scratch)) / "anything.jsonl"
    path.write_bytes(data)

    _check_trace(path)


@FUZZ
@given(data=json_values)
def test_checkpoint_reader_accepts_or_says_where(scratch, data):
    evolve = pytest.importorskip("ridgeline.readers.evolve")
    path = Path(tempfile.mkdtemp(dir=scratch)) / "checkpoint.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    try:
        evolve.read_checkpoint(path)
    except InputError as error:
        _assert_located(error, "checkpoint.json")


# -- record: Python API, --metric, --json-in -------------------------------------------

record_fields = st.fixed_dictionaries(
    {},
    optional={
        "version": st.none() | st.text(max_size=10) | st.integers(),
        "metrics": st.none() | st.dictionaries(st.text(max_size=8), json_scalars, max_size=3)
        | json_values,
        "intent": st.sampled_from(["attempt", "validation", "debug", "", "ATTEMPT"])
        | json_scalars,
        "outcome": st.sampled_from(["ok", "crash", "fine"]) | json_scalars,
        "reason": st.none() | st.text(max_size=20),
        "at": json_scalars | st.datetimes().map(str),
        "tool_calls": json_scalars,
        "duration": json_scalars,
        "exit_status": json_scalars,
        "key": st.none() | st.text(max_size=10),
        "artifacts": st.lists(st.text(max_size=10), max_size=2) | json_scalars,
    },
)


@FUZZ
@given(fields=record_fields)
def test_record_api_accepts_or_names_the_field(scratch, fields):
    with _fresh_ledger(scratch) as ledger:
        try:
            run = ledger.record(**fields)
        except InputError as error:
            assert error.field is not None, f"no field named in: {error}"
            assert ledger.count_runs() == 0
            return
        stored = ledger.run(run.id)

    assert stored.metrics == run.metrics
    assert all(v is None or not math.isnan(v) for v in stored.metrics.values())


@FUZZ
@given(text=st.text(max_size=40))
def test_metric_option_accepts_or_names_the_option(text):
    from ridgeline.cli.core import parse_metric_option

    try:
        name, value = parse_metric_option(text)
    except InputError as error:
        assert error.field == "--metric"
        return
    assert name and name == name.strip()


@FUZZ
@given(text=st.text(max_size=120) | record_fields.map(
    lambda fields: json.dumps(fields, default=str)))
def test_record_json_in_accepts_or_says_where(text):
    from ridgeline.cli.core import read_record_json

    try:
        data = read_record_json(io.StringIO(text))
    except InputError as error:
        assert error.file == "<stdin>"
        return
    assert isinstance(data, dict)


@settings(FUZZ, max_examples=25)
@given(fields=record_fields, metrics=st.lists(st.text(max_size=12), max_size=2))
def test_record_command_fails_with_one_line_never_a_traceback(scratch, fields, metrics):
    from ridgeline.cli import main

    location = str(Path(tempfile.mkdtemp(dir=scratch)) / "ledger.db")
    arguments = ["--db", location, "record", "--json-in", "--json"]
    for metric in metrics:
        arguments += ["--metric", metric]
    result = CliRunner().invoke(main, arguments, input=json.dumps(fields, default=str))

    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 0:
        assert json.loads(result.stdout)["id"] == 1
    else:
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), repr(result.exception)


# -- HTTP API ----------------------------------------------------------------------------

_ROUTES = ["/", "/api", "/api/changes", "/api/objectives", "/api/runs", "/api/runs/{}",
           "/api/versions", "/api/versions/{}", "/api/frontier", "/api/lessons", "/api/notes",
           "/api/regimes", "/api/charts/evolution", "/api/charts/pareto", "/static/{}",
           "/api/{}", "/{}"]
_PARAMS = ["limit", "offset", "version", "intent", "outcome", "objective", "tag", "scope",
           "since", "x", "y", "q", "format"]
segment_text = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["1", "0", "-1", "gpu_v1", "..", "%2e%2e", "dashboard.js", "nan", "1e9"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
)


def _http_ledger(scratch: Path) -> str:
    location = str(Path(tempfile.mkdtemp(dir=scratch)) / "ledger.db")
    with ridgeline.open(location) as ledger:
        ledger.add_objective("tok_per_sec", "max")
        ledger.add_objective("watts", "min")
        ledger.set_version("gpu_v1", parents=["cpu_v1"], regime="gpu")
        ledger.record(version="gpu_v1", metrics={"tok_per_sec": 43.0, "watts": 200.0})
        ledger.record(version="gpu_v2", outcome="crash", reason="oom")
        ledger.add_note("profile first", tags=["profile"])
    return location


def test_http_api_never_fails_with_a_server_error(scratch):
    server = pytest.importorskip("ridgeline.server")
    testclient = pytest.importorskip("starlette.testclient")
    app = server.create_app(_http_ledger(scratch))

    @settings(FUZZ, max_examples=60)
    @given(route=st.sampled_from(_ROUTES), segment=segment_text,
           method=st.sampled_from(["GET", "GET", "GET", "POST", "DELETE", "HEAD"]),
           params=st.dictionaries(st.sampled_from(_PARAMS) | st.text(max_size=5),
                                  segment_text, max_size=3))
    def check(route, segment, method, params):
        path = route.replace("{}", quote(segment, safe=""))
        answer = client.request(method, path, params=params)

        assert answer.status_code < 500, (path, params, answer.text[:300])
        if answer.status_code >= 400 and method != "HEAD" and path.startswith("/api"):
            assert answer.json()["error"].strip()

    with testclient.TestClient(app, raise_server_exceptions=True) as client:
        check()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"exit_status": 2**70}, "exit_status"),
        ({"tool_calls": 2**70}, "tool_calls"),
        ({"at": 1e300}, "at"),
        ({"at": "9999-12-31T23:00:00-14:00"}, "at"),
        ({"metrics": {"x": 10**400}}, "x"),
        ({"duration": "soon"}, "duration"),
        ({"metrics": 1}, "metrics"),
        ({"artifacts": "log.txt"}, "artifacts"),
        ({"reason": 3}, "reason"),
    ],
)
def test_record_refuses_values_out_of_range_naming_the_field(ledger, fields, field):
    with pytest.raises(InputError) as caught:
        ledger.record(**{"metrics": {"x": 1.0}, **fields})

    assert caught.value.field == field
    assert ledger.count_runs() == 0

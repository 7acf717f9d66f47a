"""`ridgeline lesson` and `ridgeline note`, run as a user runs them, on every backend."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ridgeline.recall.text import MAX_TEXT_BYTES


@pytest.fixture
def cli(ridgeline_bin, db_location):
    def run(*args: str, stdin: bytes | None = None, ok: bool = True):
        result = subprocess.run(
            [ridgeline_bin, "--db", db_location, *args],
            input=stdin, capture_output=True, timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr.decode()
        return result

    return run


def _json(result) -> object:
    return json.loads(result.stdout)


def test_lesson_add_list_and_search_as_json(cli):
    cli("lesson", "add", "halve the batch when memory is tight", "--tag", "memory")
    cli("lesson", "add", "pin the GPU clock before timing")
    repeat = cli("lesson", "add", "Halve the batch when the memory is tight")

    lessons = _json(cli("lesson", "list", "--json"))
    hits = _json(cli("lesson", "search", "out of memory, batch?", "--mode", "bm25", "--json"))

    assert "already known" in repeat.stdout.decode()
    assert [(x["text"], x["seen"]) for x in lessons] == [
        ("halve the batch when memory is tight", 2), ("pin the GPU clock before timing", 1),
    ]
    assert hits[0]["text"] == "halve the batch when memory is tight"
    assert hits[0]["tags"] == ["memory"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_note_lifecycle_update_history_forget(cli):
    cli("note", "add", "matvec dominates the profile", "--tag", "profile")
    cli("note", "update", "1", "--text", "matmul dominates the profile")
    cli("note", "forget", "1")

    history = _json(cli("note", "history", "1", "--json"))
    listed = _json(cli("note", "list", "--json"))
    found = _json(cli("note", "search", "matmul", "--mode", "bm25", "--json"))

    assert [(h["action"], h["text"]) for h in history] == [
        ("create", "matvec dominates the profile"),
        ("update", "matmul dominates the profile"),
        ("forget", "matmul dominates the profile"),
    ]
    assert listed == []
    assert found == []


def test_note_search_covers_runs_and_filters_by_kind(cli):
    cli("record", "--version", "v1", "--metric", "x=1", "--description", "fused softmax kernel")
    cli("note", "add", "softmax is numerically fragile")

    everything = _json(cli("note", "search", "softmax", "--mode", "bm25", "--json"))
    runs = _json(cli("note", "search", "softmax", "--kind", "run", "--mode", "bm25", "--json"))

    assert {h["kind"] for h in everything} == {"run", "note"}
    assert [h["kind"] for h in runs] == ["run"]


def test_note_from_file_and_stdin(cli, tmp_path: Path):
    path = tmp_path / "note.md"
    path.write_text("first line\nsecond line, ünïcode\n", encoding="utf-8")

    cli("note", "add", "--file", str(path))
    cli("note", "add", "--file", "-", stdin="from stdin\n".encode())

    assert [n["text"] for n in _json(cli("note", "list", "--json"))] == [
        "first line\nsecond line, ünïcode\n", "from stdin\n",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"good line\nbad \xff byte\n", "line 2: not valid UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
        (b"", "empty"),
        (b"x" * (MAX_TEXT_BYTES + 1), "limit is 1,048,576"),
    ],
)
def test_bad_note_input_is_refused_and_nothing_is_lost(cli, tmp_path: Path, data, message):
    cli("note", "add", "keep me")
    path = tmp_path / "bad.txt"
    path.write_bytes(data)

    from_file = cli("note", "add", "--file", str(path), ok=False)
    from_stdin = cli("note", "add", "--file", "-", stdin=data, ok=False)

    for result in (from_file, from_stdin):
        assert result.returncode == 1
        assert message in result.stderr.decode()
        assert "Traceback" not in result.stderr.decode()
    assert str(path) in from_file.stderr.decode()
    assert [n["text"] for n in _json(cli("note", "list", "--json"))] == ["keep me"]


def test_missing_file_and_missing_text_are_clear_errors(cli, tmp_path: Path):
    missing = cli("note", "add", "--file", str(tmp_path / "nope.txt"), ok=False)
    nothing = cli("note", "add", ok=False)

    assert missing.returncode == 1 and "nope.txt" in missing.stderr.decode()
    assert nothing.returncode == 1 and "--file" in nothing.stderr.decode()


def test_search_with_query_syntax_does_not_fail(cli):
    cli("note", "add", "gpu memory note")

    result = cli("note", "search", 'NEAR("gpu" -memory*) AND :(', "--mode", "bm25")

    assert result.returncode == 0


def test_lesson_group_has_update_history_and_forget(ridgeline_bin, tmp_path):
    import json
    import subprocess

    db = str(tmp_path / "l.db")

    def run(*args):
        return subprocess.run([ridgeline_bin, "--db", db, *args], capture_output=True,
                              text=True, check=True).stdout

    run("lesson", "add", "halve the batch when memory is tight")
    run("lesson", "update", "1", "--text", "halve the batch size when memory is tight")
    run("lesson", "forget", "1")

    history = json.loads(run("lesson", "history", "1", "--json"))
    assert [entry["action"] for entry in history] == ["create", "update", "forget"]
    assert json.loads(run("lesson", "list", "--json")) == []

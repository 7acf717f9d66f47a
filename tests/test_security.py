"""Security properties: loopback by default, bound SQL only, artifacts kept in their
folder, and secrets redacted before anything is stored."""

from __future__ import annotations

import ast
import inspect
import os
import re
from pathlib import Path

import pytest

import ridgeline
from ridgeline.errors import InputError

PACKAGE = Path(ridgeline.__file__).resolve().parent

# -- SQL is parameterized ----------------------------------------------------------------

_SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WHERE|VALUES|PRAGMA|ORDER BY|LIMIT"
    r"|JOIN|SET)\b"
)

# Every expression interpolated into SQL text in the package, reviewed: each is an
# identifier or fragment chosen from a fixed list in the code, a run of `?` marks, or a
# checked integer. Values always travel as bound parameters. A new interpolation fails
# the test below until someone reads it and adds it here.
REVIEWED = {
    "ledger.py": {
        "_RUN_COLUMNS", "where", "order", "column", "marks", "max(limit, 0)", "count", "only",
        "' AND '.join(clauses)",
    },
    "migrate.py": {"table", "names", "marks", "columns", "t"},
    "recall/memory.py": {
        "_ITEM_COLUMNS", "' AND '.join(clauses)", "', '.join('?' * len(candidates))",
        "', '.join('?' * len(chunk))", "live",
    },
    "recall/search.py": {
        "alias", "score", "text", "tables", "match", "' AND '.join(clauses)",
        "wanted", "_FAST_DEPTH", "', '.join('?' * len(run_ids))",
    },
    "storage/migrations.py": {"fts", "column", "table", "tokenize"},
    "storage/postgres.py": {"LOCK_TIMEOUT_MS", "column", "table", "lock_key"},
    "storage/sqlite.py": {"BUSY_TIMEOUT_MS"},
}


def _sql_interpolations(source: str) -> list[tuple[int, str]]:
    """(line, expression) for every value formatted into a string that reads as SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _SQL_WORDS.search(text):
                found += [(node.lineno, ast.unparse(v.value)) for v in node.values
                          if isinstance(v, ast.FormattedValue)]
        elif _is_sql_format_call(node) or _is_sql_percent(node):
            found.append((node.lineno, ast.unparse(node)))
    return found


def _is_sql_format_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and bool(_SQL_WORDS.search(node.func.value.value)))


def _is_sql_percent(node: ast.AST) -> bool:
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
            and bool(_SQL_WORDS.search(node.left.value)))


def test_sql_interpolates_only_reviewed_identifiers():
    unreviewed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        for line, expression in _sql_interpolations(path.read_text(encoding="utf-8")):
            if expression not in REVIEWED.get(name, set()):
                unreviewed.append(f"{name}:{line}: {expression}")

    assert unreviewed == [], (
        "SQL built with interpolated values; pass values as ? parameters, or, for an "
        "identifier chosen from a fixed list, add it to REVIEWED after checking"
    )


def test_the_scan_catches_an_interpolated_value():
    source = 'ledger._read(f"SELECT id FROM runs WHERE key = \'{key}\'")\n'
    percent = 'cursor.execute("DELETE FROM runs WHERE id = %d" % run_id)\n'

    assert _sql_interpolations(source) == [(1, "key")]
    assert _sql_interpolations(percent) == [(1, "'DELETE FROM runs WHERE id = %d' % run_id")]


HOSTILE = [
    "x'); DROP TABLE runs; --",
    'quote " and \' and \\ and ?',
    "100% of %s and %(name)s",
    "naïve ✓ \u202e reversed",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim_and_harms_nothing(ledger, text):
    ledger.add_objective("score", "max")
    run = ledger.record(version=text, metrics={text: 1.0, "score": 2.0}, description=text,
                        key=text)
    ledger.add_note(text, tags=[text])

    again = ledger.run(run.id)
    assert (again.version, again.description, again.key) == (text, text, text)
    assert again.metrics[text] == 1.0
    assert ledger.notes(tag=text)[0].text == text
    assert ledger.count_runs() == 1 and ledger.frontier()["objectives"][0]["best"]


# -- artifacts stay in their folder ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["../ledger.db", "logs/../../outside.txt", "/etc/passwd", "", ".", "logs/.."]
)
def test_artifact_paths_that_leave_the_folder_are_refused(ledger, path):
    with pytest.raises(InputError) as caught:
        ledger.record(version="v", metrics={"x": 1.0}, artifacts=[path])

    assert caught.value.field == "artifacts"
    assert ledger.count_runs() == 0
    with pytest.raises(InputError):
        ledger.artifact_path(path)


def test_a_symlink_out_of_the_artifact_folder_is_refused(ledger, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    ledger.artifact_dir.mkdir(parents=True, exist_ok=True)
    (ledger.artifact_dir / "escape").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InputError, match="leaves the artifact folder"):
        ledger.record(version="v", metrics={"x": 1.0}, artifacts=["escape/secrets.txt"])
    assert ledger.count_runs() == 0


def test_paths_inside_the_artifact_folder_are_kept(ledger):
    run = ledger.record(version="v", metrics={"x": 1.0},
                        artifacts=["logs/run1.txt", "profiles/./a b.json"])

    assert ledger.run(run.id).artifacts == ("logs/run1.txt", "profiles/./a b.json")
    assert ledger.artifact_path("logs/run1.txt") == (
        ledger.artifact_dir.resolve() / "logs" / "run1.txt"
    )


# -- secrets are redacted before storage -------------------------------------------------

ANTHROPIC_KEY = "sk-ant-api03-" + "Q" * 40
GITHUB_TOKEN = "ghp_" + "a1B2c3D4" * 5


def test_secrets_in_runs_and_notes_never_reach_the_ledger(ledger):
    run = ledger.record(
        version="v", metrics={"x": 1.0},
        command=f"ANTHROPIC_API_KEY={ANTHROPIC_KEY} python bench.py",
        description=f"pushed with {GITHUB_TOKEN}",
        outcome="ok", reason="password=hunter2hunter2",
    )
    note = ledger.add_note(f"the token is {GITHUB_TOKEN}")
    lesson = ledger.add_lesson(f"never paste {ANTHROPIC_KEY} into a prompt")

    stored = ledger.run(run.id)
    texts = [stored.command, stored.description, stored.reason,
             ledger.memory_item(note.id).text, ledger.memory_item(lesson.id).text]
    dump = repr(ledger.storage.query("SELECT * FROM runs"))
    dump += repr(ledger.storage.query("SELECT * FROM memory_items"))
    dump += repr(ledger.storage.query("SELECT * FROM memory_history"))
    assert all("[REDACTED]" in text for text in texts), texts
    assert ANTHROPIC_KEY not in dump and GITHUB_TOKEN not in dump
    assert "hunter2hunter2" not in dump
    assert stored.command.endswith("python bench.py")


# -- the server ----------------------------------------------------------------------------


def test_server_binds_loopback_unless_a_token_is_set():
    server = pytest.importorskip("ridgeline.server")

    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        server.check_bind(host, None)
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.org"):
        with pytest.raises(InputError, match="token"):
            server.check_bind(host, None)
        server.check_bind(host, "a-long-token")


def test_serve_command_defaults_to_loopback():
    pytest.importorskip("ridgeline.server")
    from ridgeline.cli import main

    serve = main.commands["serve"]
    host = next(p for p in serve.params if p.name == "host")

    assert host.default == "127.0.0.1"


def test_with_a_token_every_request_must_carry_it(db_location):
    server = pytest.importorskip("ridgeline.server")
    testclient = pytest.importorskip("starlette.testclient")
    app = server.create_app(db_location, token="s3cret-token")

    with testclient.TestClient(app) as client:
        answers = {
            "none": client.get("/api/runs").status_code,
            "wrong": client.get("/api/runs", headers={"Authorization": "Bearer nope"}),
            "right": client.get("/api/runs",
                                headers={"Authorization": "Bearer s3cret-token"}),
            "dashboard": client.get("/").status_code,
        }

    assert answers["none"] == 401 and answers["dashboard"] == 401
    assert answers["wrong"].status_code == 401
    assert "token" in answers["wrong"].json()["error"]
    assert answers["right"].status_code == 200


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_postgres_location_hides_the_password():
    postgres = pytest.importorskip("ridgeline.storage.postgres")

    assert "pw" not in postgres.redact_url("postgresql://u:pw@127.0.0.1:5/db")

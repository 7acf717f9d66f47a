"""The HTTP API, in process: status codes and bodies, the token, the bind guard."""

from __future__ import annotations

import subprocess

import pytest

pytest.importorskip("starlette", reason="the API needs the 'server' extra (starlette)")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from starlette.testclient import TestClient  # noqa: E402

import ridgeline  # noqa: E402
from ridgeline import server  # noqa: E402
from tests.test_charts import (  # noqa: E402
    INFERENCE_RUNS,
    record_inference_run,
    record_matching_engine_run,
)


@pytest.fixture
def client(ledger):
    record_inference_run(ledger)
    with TestClient(server.create_app(ledger=ledger)) as test_client:
        yield test_client


def test_runs_are_paginated_with_a_total(client):
    first = client.get("/api/runs", params={"limit": 5})
    second = client.get("/api/runs", params={"limit": 5, "offset": 5})

    assert first.status_code == 200
    body = first.json()
    assert (body["total"], body["limit"], body["offset"]) == (len(INFERENCE_RUNS), 5, 0)
    assert [run["id"] for run in body["items"]] == [1, 2, 3, 4, 5]
    assert [run["id"] for run in second.json()["items"]] == [6, 7, 8, 9, 10]
    newest = client.get("/api/runs", params={"limit": 2, "order": "newest"}).json()
    assert [run["id"] for run in newest["items"]] == [33, 32]


def test_runs_filter_by_version_and_outcome(client):
    body = client.get("/api/runs", params={"version": "gpu_v1", "outcome": "crash"}).json()

    assert body["total"] == 3
    assert {run["version"] for run in body["items"]} == {"gpu_v1"}


@pytest.mark.parametrize(
    "query, message",
    [
        ({"limit": "ten"}, "'limit' must be a whole number"),
        ({"limit": "5000"}, "'limit' must be between 0 and 1000"),
        ({"offset": "-1"}, "'offset' must be between"),
        ({"intent": "guess"}, "'intent' must be one of attempt, validation, debug"),
        ({"colour": "red"}, "unknown query parameter 'colour'"),
    ],
)
def test_bad_queries_are_400_with_a_reason(client, query, message):
    response = client.get("/api/runs", params=query)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert response.json()["status"] == 400


def test_one_run_one_version_and_their_404s(client):
    assert client.get("/api/runs/4").json()["metrics"] == {"tok_per_sec": 15.0}
    assert client.get("/api/versions/gpu_v10").json()["parents"] == ["gpu_v9", "gpu_v6"]

    missing_run = client.get("/api/runs/999")
    assert missing_run.status_code == 404 and missing_run.json()["error"] == "no run 999"
    assert client.get("/api/runs/abc").status_code == 400
    assert client.get("/api/versions/nope").status_code == 404
    unknown = client.get("/api/nothing")
    assert unknown.status_code == 404 and "no such endpoint" in unknown.json()["error"]


def test_writes_are_refused(client):
    response = client.post("/api/runs", json={})

    assert response.status_code == 405
    assert "read-only" in response.json()["error"]


def test_frontier_objectives_lessons_notes_regimes(client, ledger):
    ledger.add_lesson("check the attention scale", run=2)
    ledger.add_note("profile shows matvec bound", tags=["profile"])

    frontier = client.get("/api/frontier").json()
    assert frontier["objectives"][0]["best"]["version"] == "gpu_v14"
    assert client.get("/api/objectives").json()[0]["baseline"] == 160
    assert client.get("/api/lessons").json()["items"][0]["run"] == 2
    assert client.get("/api/notes", params={"tag": "profile"}).json()["total"] == 1
    assert client.get("/api/notes", params={"tag": "other"}).json()["total"] == 0
    regimes = client.get("/api/regimes").json()
    assert [regime["name"] for regime in regimes] == ["simd"]


def test_evolution_endpoint_is_the_chart_data(client):
    body = client.get("/api/charts/evolution").json()

    kinds = [dot["kind"] for dot in body["dots"]]
    assert kinds.count("record") == 6 and kinds.count("crash") == 7
    assert {label["text"] for label in body["labels"]} >= {"gpu_v14", "gpu_v6"}
    assert client.get("/api/charts/evolution", params={"objective": "nope"}).status_code == 404
    thin = client.get("/api/charts/evolution", params={"max_dots": 2}).json()
    assert [d["kind"] for d in thin["dots"]].count("record") == 6


def test_pareto_endpoint_needs_two_objectives(client, ledger):
    assert client.get("/api/charts/pareto").status_code == 404

    record_matching_engine_run(ledger)
    body = client.get("/api/charts/pareto", params={"x": "peak_mts", "y": "sustained_mts"})
    assert [p["version"] for p in body.json()["frontier"]] == ["v1", "v2"]


def test_change_stamp_moves_when_a_run_is_recorded(client, ledger):
    before = client.get("/api/changes").json()

    assert client.get("/api/changes").json() == before
    ledger.record(version="gpu_v15", metrics={"tok_per_sec": 200.0})
    after = client.get("/api/changes").json()
    assert after["stamp"] != before["stamp"] and after["runs"] == before["runs"] + 1


def test_dashboard_and_static_files_are_served(client):
    page = client.get("/")

    assert page.status_code == 200 and "/static/dashboard.js" in page.text
    script = client.get("/static/chart.umd.min.js")
    assert script.status_code == 200 and "Chart.js" in script.text[:200]
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404


def test_non_finite_numbers_are_sent_as_null():
    # The ledger refuses infinities today; the API must still never send invalid JSON.
    response = server.JSONResponse({"best": float("inf"), "values": [1.0, float("nan")]})

    assert response.body == b'{"best":null,"values":[1.0,null]}'


# -- the token ------------------------------------------------------------------------


def test_with_a_token_every_request_must_carry_it(sqlite_location):
    app = server.create_app(sqlite_location, token="s3cret")

    with TestClient(app) as client:
        for path in ("/", "/api/runs", "/static/charts.js", "/api/nothing"):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        wrong = client.get("/api/runs", headers={"Authorization": "Bearer s3cre"})
        assert wrong.status_code == 401
        right = client.get("/api/runs", headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200 and right.json()["total"] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.5.0.1"])
def test_loopback_binds_without_a_token(host):
    server.check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_other_addresses_are_refused_without_a_token(host):
    with pytest.raises(server.InputError, match="refusing to bind"):
        server.check_bind(host, None)
    server.check_bind(host, "token")


def test_serve_command_refuses_a_public_bind_before_listening(
    sqlite_location, ridgeline_bin, monkeypatch
):
    monkeypatch.delenv("RIDGELINE_TOKEN", raising=False)
    ridgeline.open(sqlite_location).close()

    result = subprocess.run(
        [ridgeline_bin, "--db", sqlite_location, "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1
    assert "refusing to bind 0.0.0.0" in result.stderr
    assert result.stdout == ""


def test_serve_command_refuses_a_ledger_that_is_not_there(tmp_path, ridgeline_bin):
    missing = tmp_path / "typo.db"

    result = subprocess.run(
        [ridgeline_bin, "--db", str(missing), "serve", "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 1 and "no ledger at" in result.stderr
    assert not missing.exists()


def test_run_cache_tops_up_new_runs_and_rereads_when_one_is_backdated(ledger):
    record_inference_run(ledger)
    cache = server._RunCache(ledger)
    assert [r.id for r in cache.runs()] == [r.id for r in ledger.runs()]

    ledger.record(version="gpu_v15", metrics={"tok_per_sec": 200.0}, at="2026-04-21T00:00:00Z")
    ledger.record(version="gpu_v16", metrics={"tok_per_sec": 201.0}, at="2026-04-21T01:00:00Z")
    assert [r.id for r in cache.runs()] == [r.id for r in ledger.runs()]

    ledger.record(version="cpu_v0", metrics={"tok_per_sec": 5.0}, at="2026-04-19T00:00:00Z")
    assert [r.id for r in cache.runs()] == [r.id for r in ledger.runs()]
    assert cache.runs()[0].version == "cpu_v0"


def test_chart_endpoint_follows_new_runs(client, ledger):
    before = client.get("/api/charts/evolution").json()

    ledger.record(version="gpu_v15", metrics={"tok_per_sec": 250.0})
    after = client.get("/api/charts/evolution").json()

    assert len(after["dots"]) == len(before["dots"]) + 1
    assert after["staircase"][-1][1] == 250.0

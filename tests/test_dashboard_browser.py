"""The live dashboard in a real headless Chromium, driven by Playwright.

The server runs as a subprocess (`ridgeline serve`, bound to 127.0.0.1) over a SQLite
ledger; a second subprocess records a run through the CLI, and the page must show it
without a reload. A screenshot is kept in `test-artifacts/`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import ridgeline
from tests.conftest import PROJECT_ROOT
from tests.test_charts import INFERENCE_RUNS, record_inference_run, record_matching_engine_run

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the dashboard test needs Playwright's Python package"
)
pytest.importorskip("starlette", reason="the dashboard needs the 'server' extra")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(f"ridgeline serve exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url + "api/changes", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"ridgeline serve did not answer at {url} within {deadline} s")


FIXTURE_RUNS = {"inference": record_inference_run, "matching": record_matching_engine_run}


@pytest.fixture
def served_ledger(request, sqlite_location, ridgeline_bin):
    """A served ledger holding the inference run, or the run named by indirect param."""
    with ridgeline.open(sqlite_location) as ledger:
        FIXTURE_RUNS[getattr(request, "param", "inference")](ledger)
    port = _free_port()
    process = subprocess.Popen(
        [ridgeline_bin, "--db", sqlite_location, "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process)
        yield url, sqlite_location
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1400})
        finally:
            browser.close()


_DRAWN = """() => {
    const chart = Chart.getChart('evolution');
    if (!chart) return null;
    const counts = {};
    for (const set of chart.data.datasets) {
        if (set.kind) counts[set.kind] = set.data.length;
    }
    return counts;
}"""


def test_dashboard_shows_the_runs_and_a_new_run_without_reload(
    served_ledger, page, ridgeline_bin
):
    url, location = served_ledger
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(url)
    page.wait_for_function("() => window.ridgelineDashboard.updates >= 1", timeout=15_000)
    drawn = page.evaluate(_DRAWN)
    assert drawn["record"] == 6 and drawn["crash"] == 7 and drawn["check"] == 13
    assert drawn["attempt"] == len(INFERENCE_RUNS) - 26
    page.evaluate("() => { window.notReloaded = true; }")

    subprocess.run(
        [ridgeline_bin, "--db", location, "record", "--version", "gpu_v15",
         "--metric", "tok_per_sec=201.5", "--description", "from another process"],
        check=True, capture_output=True,
    )
    page.wait_for_function(
        "() => Chart.getChart('evolution').data.datasets"
        ".find(s => s.kind === 'record').data.length === 7",
        timeout=10_000,
    )

    assert page.evaluate("() => window.notReloaded") is True
    assert "gpu_v15" in page.inner_text("#latest")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert problems == []


@pytest.mark.parametrize("served_ledger", ["matching"], indirect=True)
def test_dashboard_draws_the_pareto_chart_when_there_are_two_objectives(
    served_ledger, page
):
    url, _ = served_ledger
    page.goto(url)
    page.wait_for_function("() => window.ridgelineDashboard.updates >= 1", timeout=15_000)

    frontier = page.evaluate(
        "() => Chart.getChart('pareto').data.datasets.find(s => s.kind === 'frontier')"
        ".data.map(p => p.point.version)"
    )
    assert frontier == ["v1", "v2"]
    assert page.is_visible("#pareto")


def _hover_record(page, canvas_id: str, index: int) -> list[str]:
    """Move the mouse onto a green dot and read the tooltip that Chart.js shows."""
    spot = page.evaluate(
        """([id, index]) => {
            const chart = Chart.getChart(id);
            const set = chart.data.datasets.findIndex(s => s.kind === 'record');
            const dot = chart.getDatasetMeta(set).data[index];
            return {x: dot.x, y: dot.y};
        }""",
        [canvas_id, index],
    )
    box = page.locator(f"#{canvas_id}").bounding_box()
    page.mouse.move(box["x"] + spot["x"], box["y"] + spot["y"])
    page.wait_for_function(
        f"() => Chart.getChart('{canvas_id}').tooltip.opacity > 0", timeout=5_000
    )
    return page.evaluate(
        f"() => Chart.getChart('{canvas_id}').tooltip.body.flatMap(b => b.lines)"
    )


def test_report_opens_offline_with_both_charts_drawn(sqlite_location, page, tmp_path,
                                                   ridgeline_bin):
    with ridgeline.open(sqlite_location) as ledger:
        record_inference_run(ledger)
        record_matching_engine_run(ledger)
    report = tmp_path / "report.html"
    subprocess.run([ridgeline_bin, "--db", sqlite_location, "report", "-o", str(report)],
                   check=True, capture_output=True)
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(report.as_uri())
    page.wait_for_function("() => Chart.getChart('pareto') !== undefined", timeout=10_000)

    assert [r for r in requests if not r.startswith("file:")] == []
    assert problems == []
    counts = page.evaluate(
        "() => [0, 1, 2].map(i => Chart.getChart('evolution-' + i))"
        ".map(c => c && c.data.datasets.find(s => s.kind === 'record').data.length)"
    )
    assert counts == [6, 2, 2]
    assert _hover_record(page, "evolution-0", 0) == [
        "run 4 \u00b7 cpu_v3", "value: 15", "intent: attempt, outcome: ok",
        "commit: c0050", "cpu_v3 at 0.5 h",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


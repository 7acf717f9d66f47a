"""The self-contained HTML report and single-chart pages."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser

import pytest

import ridgeline
from ridgeline import report
from ridgeline.analysis import chartdata
from tests.test_charts import INFERENCE_RECORDS, record_inference_run


class _Page(HTMLParser):
    """Collects what a browser would fetch, the inline scripts and the table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.scripts: list[str] = []
        self.cells: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.fetched.append(attributes[name])
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "td":
            self.cells.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture
def built(ledger):
    record_inference_run(ledger)
    ledger.add_lesson("check the attention scale before fusing", run=5, tags=["gpu"])
    return report.build_report(ledger)


def test_report_needs_nothing_from_the_network(built):
    page = _parse(built)

    assert page.fetched == []
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", built)
    assert any("Chart.js v4" in script for script in page.scripts)
    assert "sourceMappingURL" not in built


def test_report_embeds_the_chart_data_of_each_objective(built):
    block = re.search(
        r'<script id="ridgeline-data" type="application/json">(.*?)</script>', built, re.S
    ).group(1)
    data = json.loads(block)

    (evolution,) = data["evolution"]
    kinds = [dot["kind"] for dot in evolution["dots"]]
    assert kinds.count("record") == len(INFERENCE_RECORDS)
    assert {"run", "version", "commit", "intent", "outcome", "description"} <= set(
        evolution["dots"][0]
    )
    assert data["pareto"] is None


def test_report_lists_frontier_regimes_lessons_and_crash_clusters(built):
    cells = _parse(built).cells

    for name, value in INFERENCE_RECORDS:
        assert name in cells and f"{value:.6g}" in cells
    assert "simd" in cells
    assert "check the attention scale before fusing" in built
    assert "(run 5, #gpu)" in built
    assert "6 crashes between hour 0.00 and 1.50" in built
    # Run 5 crashed in the cluster and taught the lesson; the table says so.
    crashes = built.split("Crash clusters", 1)[1]
    assert (
        "<tr><td>5</td><td>gpu_v1</td><td>kernel fault</td>"
        "<td>check the attention scale before fusing</td></tr>"
    ) in crashes


def test_ledger_text_cannot_break_out_of_the_page(ledger):
    ledger.add_objective("x", "max")
    hostile = "</script><script>alert(1)</script><b>"
    ledger.record(version="v1", metrics={"x": 1}, description=hostile)
    ledger.add_lesson(hostile)

    built = report.build_report(ledger)

    assert "<script>alert(1)" not in built
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in built
    assert "\\u003c/script>\\u003cscript>alert(1)" in built


def test_empty_ledger_still_makes_a_report(ledger):
    built = report.build_report(ledger)

    assert "No objectives yet." in built and "No lessons written down yet." in built


def test_chart_pages_hold_one_chart(ledger):
    record_inference_run(ledger)
    data = chartdata.evolution_of(ledger)

    page = report.evolution_page(data, log=True)

    assert 'id="evolution-0"' in page and '"log": true' in page
    assert _parse(page).fetched == []


def test_report_command_writes_the_file(db_location, ridgeline_bin, tmp_path):
    with ridgeline.open(db_location) as ledger:
        record_inference_run(ledger)
    out = tmp_path / "r.html"

    result = subprocess.run(
        [ridgeline_bin, "--db", db_location, "report", "-o", str(out)],
        capture_output=True, text=True, check=True,
    )

    assert result.stdout.strip() == f"wrote {out}"
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.tmp"))


def test_report_into_a_missing_folder_is_one_line(tmp_path, ridgeline_bin, sqlite_location):
    import subprocess

    import ridgeline

    with ridgeline.open(sqlite_location) as ledger:
        ledger.add_objective("x", "max")
        ledger.record(version="a", metrics={"x": 1})
    for command in (["report"], ["chart", "evolution"]):
        for name in ("r.html", "r.png"):
            if command == ["report"] and name == "r.png":
                continue
            done = subprocess.run(
                [ridgeline_bin, "--db", sqlite_location, *command,
                 "-o", str(tmp_path / "missing" / name)],
                capture_output=True, text=True,
            )
            assert done.returncode == 1, done.stderr
            assert done.stderr.startswith("error: field '--output': no folder")

"""The MCP server, driven by the SDK's own stdio client against `ridgeline mcp`."""

from __future__ import annotations

import json

import anyio
import pytest

import ridgeline

mcp = pytest.importorskip("mcp", reason="the MCP tests need the mcp extra")
from mcp import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

TOOLS = {
    "record_run", "frontier", "brief", "add_lesson", "add_note", "search_memory",
    "list_runs", "advice",
}


def _session(ridgeline_bin: str, db: str):
    params = StdioServerParameters(command=ridgeline_bin, args=["mcp", "--db", db])
    return stdio_client(params)


def _text(result) -> str:
    return "".join(part.text for part in result.content if getattr(part, "text", None))


def _run(scenario, ridgeline_bin: str, db: str):
    async def main():
        async with _session(ridgeline_bin, db) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await scenario(session)

    return anyio.run(main)


@pytest.fixture
def seeded(db_location: str) -> str:
    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160, ideal=400)
        ledger.record(version="gpu_v1", metrics={"tok_per_sec": 43.3}, at=1_776_650_000)
        ledger.record(version="gpu_v2", outcome="crash", reason="NaN in attention output",
                      at=1_776_651_000)
    return db_location


def test_every_tool_is_listed_with_a_description_and_schema(ridgeline_bin, seeded):
    async def scenario(session):
        return (await session.list_tools()).tools

    tools = _run(scenario, ridgeline_bin, seeded)

    assert {tool.name for tool in tools} == TOOLS
    record = next(tool for tool in tools if tool.name == "record_run")
    assert "after every benchmark run" in record.description
    properties = record.input_schema["properties"]
    assert "Metric values by name" in json.dumps(properties["metrics"])
    assert "crash" in json.dumps(properties["outcome"])


def test_each_tool_works_and_writes_reach_the_ledger(ridgeline_bin, seeded):
    async def scenario(session):
        results = {}
        results["record"] = await session.call_tool(
            "record_run", {"version": "gpu_v9", "metrics": {"tok_per_sec": 55.2},
                           "description": "all-GPU decode"})
        results["lesson"] = await session.call_tool(
            "add_lesson", {"text": "check attention scale before fusing kernels", "run": 2})
        results["note"] = await session.call_tool(
            "add_note", {"text": "profile shows matvec dominating", "tags": ["profile"]})
        for name, arguments in [
            ("frontier", {}), ("brief", {"budget": 400}), ("list_runs", {"limit": 2}),
            ("search_memory", {"query": "attention scale"}), ("advice", {}),
        ]:
            results[name] = await session.call_tool(name, arguments)
        return results

    results = _run(scenario, ridgeline_bin, seeded)

    assert not any(result.is_error for result in results.values())
    assert results["record"].structured_content["version"] == "gpu_v9"
    best = results["frontier"].structured_content["objectives"][0]["best"]
    assert (best["version"], best["value"]) == ("gpu_v9", 55.2)
    assert "gpu_v9" in _text(results["brief"])
    assert "check attention scale" in _text(results["brief"])
    listed = results["list_runs"].structured_content["result"]
    assert [(run["id"], run["version"]) for run in listed] == [(2, "gpu_v2"), (3, "gpu_v9")]
    hits = results["search_memory"].structured_content["result"]
    assert "check attention scale" in json.dumps(hits[0])
    assert isinstance(results["advice"].structured_content["result"], list)
    with ridgeline.open(seeded) as ledger:
        assert ledger.count_runs() == 3
        assert [item.text for item in ledger.lessons()] == [
            "check attention scale before fusing kernels"]
        assert [item.text for item in ledger.notes(tag="profile")] == [
            "profile shows matvec dominating"]


def test_bad_input_is_a_tool_error_and_the_server_keeps_serving(ridgeline_bin, seeded):
    async def scenario(session):
        bad = await session.call_tool("record_run", {"version": "v", "outcome": "ok"})
        missing = await session.call_tool("add_lesson", {"text": "x", "run": 999})
        good = await session.call_tool("frontier", {})
        return bad, missing, good

    bad, missing, good = _run(scenario, ridgeline_bin, seeded)

    assert bad.is_error and "metric" in _text(bad)
    assert missing.is_error and "no run 999" in _text(missing)
    assert not good.is_error


def test_brief_resource_reads_the_brief(ridgeline_bin, seeded):
    async def scenario(session):
        listed = (await session.list_resources()).resources
        read = await session.read_resource("ridgeline://brief")
        return listed, read

    listed, read = _run(scenario, ridgeline_bin, seeded)

    assert [str(resource.uri) for resource in listed] == ["ridgeline://brief"]
    text = read.contents[0].text
    assert text.startswith("# Ridgeline brief")
    assert "NaN in attention output" in text


def test_streamable_http_serves_on_loopback(ridgeline_bin, seeded):
    import socket
    import subprocess
    import time

    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [ridgeline_bin, "mcp", "--db", seeded, "--transport", "streamable-http",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def main():
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()
                    return await session.call_tool("brief", {"budget": 300})

        result = anyio.run(main)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert not result.is_error
    assert "gpu_v1" in _text(result)

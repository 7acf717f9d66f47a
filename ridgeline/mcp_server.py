"""Ridgeline as an MCP server: the ledger as tools and the brief as a resource.

Built on the official `mcp` SDK (`MCPServer`, the SDK's high-level server), over stdio by
default or streamable HTTP bound to 127.0.0.1. Every tool is a thin call on the same
`Ledger` and analysis functions the CLI uses. A ridgeline error (a bad value, a missing
run) comes back to the agent as a tool error carrying its message; the server goes on.

Needs the `mcp` extra: `pip install 'ridgeline[mcp]'`.
"""


import functools
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from ridgeline.errors import RidgelineError
from ridgeline.ledger import Ledger

logger = logging.getLogger(__name__)

BRIEF_URI = "ridgeline://brief"

INSTRUCTIONS = """\
Ridgeline is the durable memory of this optimization effort: every benchmark run, the
versions and their parents, lessons from crashes, notes. Call `brief` at the start of a
session and after every compaction, before acting. Call `record_run` after every
benchmark run. Write a lesson with `add_lesson` when a crash teaches you something.
Before trying an idea, `search_memory` for it."""


def _import_sdk() -> tuple[Any, Any, Any]:
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        from pydantic import Field
    except ImportError:
        raise RidgelineError(
            "the MCP server needs the mcp extra: pip install 'ridgeline[mcp]'"
        ) from None
    return MCPServer, ToolError, Field


def build_server(ledger: Ledger) -> Any:
    """An `MCPServer` whose tools read and write `ledger`."""
    MCPServer, ToolError, Field = _import_sdk()
    server = MCPServer("ridgeline", instructions=INSTRUCTIONS)

    def tool(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except RidgelineError as error:
                # The agent sent something the ledger refuses: say what, as a tool error.
                raise ToolError(str(error)) from error

        server.add_tool(guarded, description=function.__doc__)
        return guarded

    _register_writing_tools(tool, ledger, Field)
    _register_reading_tools(tool, ledger, Field)
    _register_resources(server, ledger)
    return server


def _register_writing_tools(tool: Callable, ledger: Ledger, Field: Any) -> None:
    @tool
    def record_run(
        version: Annotated[str | None, Field(
            description="The code state that ran, e.g. gpu_v10; created if new.")] = None,
        metrics: Annotated[dict[str, float] | None, Field(
            description="Metric values by name, e.g. {\"tok_per_sec\": 72.1}. "
                        "Required unless outcome is crash.")] = None,
        intent: Annotated[Literal["attempt", "validation", "debug"], Field(
            description="attempt: hoping for a new best; validation: re-testing a known "
                        "version; debug: not a measurement.")] = "attempt",
        outcome: Annotated[Literal["ok", "crash"], Field(
            description="crash for a non-zero exit, timeout, wrong result or anomaly.")] = "ok",
        reason: Annotated[str | None, Field(
            description="Why it crashed, or what was notable.")] = None,
        description: Annotated[str | None, Field(
            description="What this run tried, in a sentence.")] = None,
        commit: Annotated[str | None, Field(description="The git commit that ran.")] = None,
        key: Annotated[str | None, Field(
            description="An idempotency key: the same key twice stores one run. Use one "
                        "when you may retry the call.")] = None,
    ) -> dict[str, Any]:
        """Record one benchmark run in the ledger. Call this after every benchmark run,
        including crashes (outcome "crash" with a reason, metrics may be omitted). Returns
        the stored run with its id."""
        run = ledger.record(
            version=version, metrics=metrics, intent=intent, outcome=outcome, reason=reason,
            description=description, commit=commit, key=key, agent="mcp",
        )
        return run.to_dict()

    @tool
    def add_lesson(
        text: Annotated[str, Field(description="The rule, as an instruction to yourself.")],
        run: Annotated[int | None, Field(description="The id of the run that taught it.")] = None,
        tags: Annotated[list[str] | None, Field(description="Labels to find it by.")] = None,
    ) -> dict[str, Any]:
        """Write down a lesson: a rule learned from a crash or a failure, which every
        later brief will show. Call it right after a crash whose cause you understood."""
        return ledger.add_lesson(text, run=run, tags=tags or ()).to_dict()

    @tool
    def add_note(
        text: Annotated[str, Field(description="Anything worth finding again.")],
        tags: Annotated[list[str] | None, Field(description="Labels to find it by.")] = None,
        run: Annotated[int | None, Field(description="The id of a run it is about.")] = None,
    ) -> dict[str, Any]:
        """Write a free-form note (a plan, a profile reading, a hunch). Notes are found with
        search_memory; they do not appear in the brief."""
        return ledger.add_note(text, tags=tags or (), run=run).to_dict()


def _register_reading_tools(tool: Callable, ledger: Ledger, Field: Any) -> None:
    @tool
    def frontier() -> dict[str, Any]:
        """The frontier: for each objective its best run, the staircase of records and the
        headroom to the ideal; with two objectives or more, the Pareto set. Call it to
        know what the current best is before deciding what to try."""
        return ledger.frontier()

    @tool
    def brief(
        budget: Annotated[int, Field(
            description="The most tokens the brief may take.", ge=50, le=20000)] = 1500,
    ) -> str:
        """The brief: a markdown digest of the whole ledger within a token budget
        (objectives, current best, lessons, exhausted regimes, rejected ideas, crashes,
        next steps). Read it at the start of every session and after every compaction."""
        from ridgeline.analysis.brief import build_brief

        return build_brief(ledger, budget).text

    @tool
    def search_memory(
        query: Annotated[str, Field(description="Words to look for, in any form.")],
        kinds: Annotated[list[Literal["lesson", "note", "run"]] | None, Field(
            description="Only these kinds of item; all by default.")] = None,
        tags: Annotated[list[str] | None, Field(
            description="Only items carrying every one of these tags.")] = None,
        limit: Annotated[int, Field(description="At most this many hits.", ge=1, le=100)] = 10,
    ) -> list[dict[str, Any]]:
        """Search lessons, notes and run descriptions, best match first. Call it before
        trying an idea, to see whether it was tried and how it went."""
        hits = ledger.search(query, kinds=kinds, tags=tags, limit=limit)
        return [hit.to_dict() for hit in hits]

    @tool
    def list_runs(
        limit: Annotated[int, Field(description="The newest this many runs.", ge=1,
                                    le=1000)] = 20,
        version: Annotated[str | None, Field(description="Only runs of this version.")] = None,
        outcome: Annotated[Literal["ok", "crash"] | None, Field(
            description="Only ok runs, or only crashes.")] = None,
        intent: Annotated[Literal["attempt", "validation", "debug"] | None, Field(
            description="Only runs made with this intent.")] = None,
    ) -> list[dict[str, Any]]:
        """List runs, oldest first, limited to the newest `limit`."""
        runs = ledger.runs(limit=limit, version=version, outcome=outcome, intent=intent)
        return [run.to_dict() for run in runs]

    @tool
    def advice() -> list[dict[str, Any]]:
        """What to do next, read from the ledger: pivot away from an exhausted regime,
        validate a record, write a lesson after repeated crashes. Each item has an action,
        a reason and the evidence it rests on."""
        from ridgeline.analysis.advice import advise

        return [item.to_dict() for item in advise(ledger)]


def _register_resources(server: Any, ledger: Ledger) -> None:
    @server.resource(BRIEF_URI, name="brief", mime_type="text/markdown",
                     description="The ledger's brief at its default budget (setting "
                                 "brief.budget, else 1,500 tokens).")
    def brief_resource() -> str:
        from ridgeline.analysis.brief import build_brief, default_budget

        return build_brief(ledger, default_budget(ledger)).text


def serve(ledger: Ledger, transport: str = "stdio", port: int = 8765) -> None:
    """Run the server until the client goes away (stdio) or the process is stopped.

    Streamable HTTP listens on 127.0.0.1 only: the ledger has no authentication.
    """
    server = build_server(ledger)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=port)

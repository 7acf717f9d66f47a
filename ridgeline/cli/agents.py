"""Commands that connect agents to the ledger: the brief, hooks and the MCP server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ridgeline.cli.options import json_option, ledger_command, open_ledger, print_json
from ridgeline.ledger import Ledger

AGENTS = ("claude-code", "codex")


@click.command()
@click.option("--budget", type=click.IntRange(min=1), metavar="TOKENS",
              help="The most tokens the brief may take. Default: the ledger's brief.budget "
                   "setting, else 1500.")
@json_option
@ledger_command
def brief(ledger: Ledger, budget: int | None, as_json: bool) -> None:
    """Print the brief: the ledger condensed to fit a token budget."""
    from ridgeline.analysis.brief import build_brief, default_budget

    result = build_brief(ledger, budget or default_budget(ledger))
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(result.text, nl=False)


# -- hooks -------------------------------------------------------------------------------


@click.group()
def hooks() -> None:
    """Install or remove ridgeline's hooks in Claude Code or Codex."""


_project_option = click.option(
    "--project", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="The project folder the agent works in.",
)


@hooks.command("install")
@click.argument("agent", type=click.Choice(AGENTS))
@_project_option
@click.option("--db", "db", metavar="PATH|URL",
              help="The ledger the hooks use. Default: the project's default ledger.")
@click.option("--bench-pattern", metavar="REGEX",
              help="Bash commands matching this are benchmark runs (Claude Code). "
                   "Default: the ledger's bench.pattern or bench.command setting.")
@click.pass_context
def hooks_install(ctx: click.Context, agent: str, project: Path, db: str | None,
                  bench_pattern: str | None) -> None:
    """Install hooks for AGENT: claude-code or codex."""
    from ridgeline.hooks import claude_code, codex

    location = claude_code.resolve_ledger(project, db or (ctx.find_root().obj or {}).get("db"))
    if agent == "claude-code":
        path = claude_code.install(project, location, bench_pattern)
        click.echo(f"claude-code hooks installed in {path} (ledger {location})")
        return
    config, agents_file = codex.install(project, location)
    click.echo(f"codex: MCP server added to {config}; instructions in {agents_file} "
               f"(ledger {location})")


@hooks.command("uninstall")
@click.argument("agent", type=click.Choice(AGENTS))
@_project_option
def hooks_uninstall(agent: str, project: Path) -> None:
    """Remove exactly what `hooks install AGENT` added."""
    from ridgeline.hooks import claude_code, codex

    if agent == "claude-code":
        path = claude_code.uninstall(project)
        click.echo(f"claude-code hooks removed from {path}" if path else "nothing to remove")
        return
    config, agents_file = codex.uninstall(project)
    click.echo(f"codex: ridgeline removed from {config} and {agents_file}")


@click.command("hook", hidden=True)
@click.argument("agent", type=click.Choice(["claude-code"]))
@click.option("--db", "db", required=True)
@click.option("--bench-pattern")
def hook(agent: str, db: str, bench_pattern: str | None) -> None:
    """Handle one hook payload on stdin (what installed hooks run)."""
    from ridgeline.hooks.__main__ import main

    argv = [agent, "--db", db] + (["--bench-pattern", bench_pattern] if bench_pattern else [])
    sys.exit(main(argv))


# -- MCP ---------------------------------------------------------------------------------


@click.command()
@click.option("--db", "db", metavar="PATH|URL", help="The ledger (see ridgeline --help).")
@click.option("--transport", type=click.Choice(["stdio", "streamable-http"]), default="stdio",
              show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="For streamable-http: the port on 127.0.0.1.")
@click.pass_context
def mcp(ctx: click.Context, db: str | None, transport: str, port: int) -> None:
    """Serve the ledger to MCP clients (stdio, or HTTP on 127.0.0.1)."""
    from ridgeline.mcp_server import serve

    with open_ledger(ctx, db) as ledger:
        serve(ledger, transport, port)


COMMANDS = [brief, hooks, hook, mcp]

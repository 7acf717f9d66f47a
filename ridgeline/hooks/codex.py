"""Codex: ridgeline's MCP server in Codex's configuration, and a note in AGENTS.md.

Codex reads MCP servers from `$CODEX_HOME/config.toml` (`~/.codex/config.toml` by
default), one `[mcp_servers.NAME]` table each with `command`, `args` and optional `env`
and `startup_timeout_sec` (Codex's configuration reference). It reads `AGENTS.md` at the
root of the project as standing instructions. Both files are the user's: ridgeline edits
only its own table and its own marked section, and keeps the rest byte for byte.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ridgeline.errors import InputError
from ridgeline.hooks.merge import (
    parse_toml,
    remove_marked_section,
    remove_toml_table,
    set_marked_section,
    set_toml_table,
    toml_string,
    write_atomically,
)

SERVER_NAME = "ridgeline"
TABLE = f"mcp_servers.{SERVER_NAME}"
TABLE_COMMENT = "# ridgeline: added by `ridgeline hooks install codex`; uninstall removes it"
BEGIN = "<!-- ridgeline:begin -->"
END = "<!-- ridgeline:end -->"

# What an agent that cannot run hooks must do by itself to keep its memory.
AGENTS_SECTION = """\
## Memory: ridgeline

This project keeps a ledger of every benchmark run with ridgeline, available as the
`ridgeline` MCP server.

- At the start of every session, and again after every compaction of your context, call
  the `brief` tool (or read the `ridgeline://brief` resource) before doing anything else.
  It names the best version, the lessons learned and what has already failed.
- After every benchmark run, call `record_run` with the version, the metric values and,
  for a crash, the reason.
- When a crash or a failure teaches you something, call `add_lesson`; before trying an
  idea, call `search_memory` to see whether it was tried.
- Ask `advice` when unsure what to do next.
"""


def config_path() -> Path:
    """Codex's config.toml: in $CODEX_HOME when set, else in ~/.codex."""
    home = os.environ.get("CODEX_HOME")
    return Path(home) / "config.toml" if home else Path.home() / ".codex" / "config.toml"


def server_command() -> list[str]:
    """The command Codex starts: the ridgeline script installed beside this Python."""
    beside = Path(sys.executable).parent / "ridgeline"
    found = str(beside) if beside.exists() else shutil.which("ridgeline")
    if not found:
        raise InputError("cannot find the ridgeline command to give Codex; install "
                         "ridgeline so that `ridgeline` is on PATH")
    return [found]


def install(project: Path, db: str) -> tuple[Path, Path]:
    """Add the MCP server table and the AGENTS.md section; running it twice changes nothing.

    Raises:
        InputError: config.toml is not valid TOML, or defines the server in a form this
            edit cannot replace (both files are then left untouched).
    """
    path = config_path()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    parse_toml(text, path)
    command, *prefix = server_command()
    args = [*prefix, "mcp", "--db", db]
    body = (
        f"command = {toml_string(command)}\n"
        f"args = [{', '.join(toml_string(a) for a in args)}]\n"
        "startup_timeout_sec = 30\n"
    )
    updated = set_toml_table(text, TABLE, body, TABLE_COMMENT)
    _check_server(parse_toml(updated, path), command, args, path)
    agents = project / "AGENTS.md"
    agents_text = agents.read_text(encoding="utf-8") if agents.exists() else ""
    new_agents = set_marked_section(agents_text, BEGIN, END, AGENTS_SECTION)
    if updated != text:
        write_atomically(path, updated)
    if new_agents != agents_text:
        write_atomically(agents, new_agents)
    return path, agents


def _check_server(config: dict, command: str, args: list[str], path: Path) -> None:
    server = config.get("mcp_servers", {}).get(SERVER_NAME, {})
    if server.get("command") != command or server.get("args") != args:
        raise InputError(
            f"[{TABLE}] is defined in a form ridgeline cannot edit (an inline table?); "
            "remove it and run the command again. The file was left as it is.",
            file=str(path),
        )


def uninstall(project: Path) -> tuple[Path, Path]:
    """Remove the table and the section that `install` added, and nothing else."""
    path = config_path()
    if path.exists():
        text = path.read_text(encoding="utf-8")
        updated = remove_toml_table(text, TABLE)
        if updated != text:
            parse_toml(updated, path)
            _write_or_remove(path, updated)
    agents = project / "AGENTS.md"
    if agents.exists():
        text = agents.read_text(encoding="utf-8")
        updated = remove_marked_section(text, BEGIN, END)
        if updated != text:
            _write_or_remove(agents, updated)
    return path, agents


def _write_or_remove(path: Path, text: str) -> None:
    # A file that held nothing but ridgeline's part was created by install.
    if text.strip():
        write_atomically(path, text)
    else:
        path.unlink()

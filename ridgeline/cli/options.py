"""Options and output shared by every command, so each prints JSON and tables the same way."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

import ridgeline
from ridgeline.errors import InputError, NotFoundError
from ridgeline.ledger import Ledger
from ridgeline.storage import is_postgres_url


def ledger_command(function: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command `--db` and pass it an open `ledger`, closed when the command ends.

    `--db` may stand before the command (`ridgeline --db x.db runs`) or after it.
    """

    @click.option("--db", "db", metavar="PATH|URL", help="The ledger (see ridgeline --help).")
    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, db: str | None, **kwargs: Any) -> Any:
        location = db or (ctx.find_root().obj or {}).get("db")
        check_explicit_location(location, command_name(ctx))
        with ridgeline.open(location) as ledger:
            return ctx.invoke(function, ledger=ledger, **kwargs)

    return wrapper


# Commands that only read. Pointed at a ledger file that does not exist, they stop instead of
# creating an empty ledger there, because a mistyped path would otherwise look like a ledger
# whose runs are all gone.
READ_ONLY_COMMANDS = {
    "runs", "versions", "show", "frontier", "objective list", "lesson list", "lesson search",
    "note list", "note search", "note history", "lesson history", "regimes", "advise",
    "validations",
    "brief", "report", "chart evolution", "chart pareto", "serve", "budget show",
}
# Not listed though it only reads: `status`, which outside a repository has a better message.


def command_name(ctx: click.Context) -> str:
    """The command as typed after `ridgeline`, e.g. "lesson list"."""
    return ctx.command_path.partition(" ")[2]


def check_explicit_location(location: str | None, command: str) -> None:
    """Refuse a `--db`/RIDGELINE_DB file path that is surely a mistake.

    A missing folder is refused for every command but `init` (which is how a user asks for
    a new ledger in a new place); a missing file is refused for commands that only read.
    The default location (inside the git directory) is created as needed.
    """
    if location is not None and not str(location).strip():
        raise InputError("an empty ledger location; leave --db out for the default",
                         field="--db")
    if not location or is_postgres_url(str(location)) or "://" in str(location):
        return
    path = Path(location).expanduser()
    if path.exists():
        return
    if command in READ_ONLY_COMMANDS:
        raise NotFoundError(
            f"no ledger at {path}; check the path, or create one with 'ridgeline init --db {path}'"
        )
    if not path.parent.exists() and command != "init":
        raise NotFoundError(
            f"no folder {path.parent} for the ledger {path.name}; check the path, or create "
            f"it with 'ridgeline init --db {path}'"
        )


def open_ledger(ctx: click.Context, db: str | None = None) -> Ledger:
    """The ledger named by `--db` here or on the root command, for commands that manage
    its lifetime themselves."""
    location = db or (ctx.find_root().obj or {}).get("db")
    check_explicit_location(location, command_name(ctx))
    return ridgeline.open(location)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str, allow_nan=False))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table: readable in a terminal and in an agent's context alike."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[format_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for line in cells:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


def format_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, list | tuple):
        return ",".join(format_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={format_cell(v)}" for k, v in value.items()) or "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def emit(items: Sequence[Any], as_json: bool, columns: Sequence[str]) -> None:
    """Print model objects as a JSON array of objects or as a table of `columns`."""
    dicts = [item.to_dict() if hasattr(item, "to_dict") else dict(item) for item in items]
    if as_json:
        print_json(dicts)
    else:
        print_table(dicts, columns)

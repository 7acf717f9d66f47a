"""Commands over lessons and notes."""

from __future__ import annotations

import click

from ridgeline.ledger import Ledger
from ridgeline.cli.options import emit, json_option, ledger_command

MEMORY_COLUMNS = ["id", "kind", "text", "tags", "run", "created_at"]


@click.group()
def lesson() -> None:
    """Lessons: rules learned from crashes and failures."""


@lesson.command("add")
@click.argument("text")
@click.option("--run", "run_id", type=int, help="The run that taught it.")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@json_option
@ledger_command
def lesson_add(ledger: Ledger, text: str, run_id: int | None, tags, as_json: bool) -> None:
    """Write down a lesson."""
    item = ledger.add_lesson(text, run=run_id, tags=tags)
    emit([item], as_json, MEMORY_COLUMNS) if as_json else click.echo(f"lesson {item.id} saved")


@lesson.command("list")
@json_option
@ledger_command
def lesson_list(ledger: Ledger, as_json: bool) -> None:
    """List every lesson, oldest first."""
    emit(ledger.lessons(), as_json, MEMORY_COLUMNS)


@click.group()
def note() -> None:
    """Notes: free, tagged scratchpad memory."""


@note.command("add")
@click.argument("text")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@click.option("--run", "run_id", type=int, help="The run it is about.")
@json_option
@ledger_command
def note_add(ledger: Ledger, text: str, tags, run_id: int | None, as_json: bool) -> None:
    """Write a note."""
    item = ledger.add_note(text, tags=tags, run=run_id)
    emit([item], as_json, MEMORY_COLUMNS) if as_json else click.echo(f"note {item.id} saved")


@note.command("list")
@click.option("--tag", help="Only notes with this tag.")
@json_option
@ledger_command
def note_list(ledger: Ledger, tag: str | None, as_json: bool) -> None:
    """List notes, oldest first."""
    emit(ledger.notes(tag=tag), as_json, MEMORY_COLUMNS)


COMMANDS = [lesson, note]

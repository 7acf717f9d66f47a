"""Commands over lessons and notes: add, list, search, history, forget."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ridgeline.cli.options import emit, json_option, ledger_command, print_json, print_table
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.recall.search import KINDS, MODES
from ridgeline.recall.text import MAX_TEXT_BYTES, decode_text

MEMORY_COLUMNS = ["id", "kind", "text", "tags", "run", "seen", "created_at"]
HIT_COLUMNS = ["kind", "id", "score", "text", "tags", "run"]
HISTORY_COLUMNS = ["at", "action", "text", "tags", "run"]

scope_option = click.option(
    "--scope", help="ledger (default), agent:NAME or session:ID.", default=None
)


def _read_text(kind: str, text: str | None, file: str | None) -> str:
    """The text from the argument, or from a file or stdin (`-`), decoded strictly."""
    if (text is None) == (file is None):
        raise InputError(f"give the {kind} either as an argument or with --file (- for stdin)")
    if file is None:
        return text  # type: ignore[return-value]
    if file == "-":
        # Read one byte past the limit so an oversized stream is refused, not cut.
        data, name = sys.stdin.buffer.read(MAX_TEXT_BYTES + 1), "<stdin>"
    else:
        try:
            with Path(file).open("rb") as handle:
                data, name = handle.read(MAX_TEXT_BYTES + 1), file
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", file=file) from None
    return decode_text(data, kind, file=name)


def _saved(item, kind: str, as_json: bool) -> None:
    if as_json:
        emit([item], True, MEMORY_COLUMNS)
    elif item.seen > 1:
        click.echo(f"{kind} {item.id} already known; seen {item.seen} times")
    else:
        click.echo(f"{kind} {item.id} saved")


def _done(item, verb: str, as_json: bool) -> None:
    if as_json:
        emit([item], True, MEMORY_COLUMNS)
    else:
        click.echo(f"{item.kind} {item.id} {verb}")


def _search(ledger: Ledger, query: str, kinds, tags, scope, since, until, limit, mode,
            as_json: bool) -> None:
    hits = ledger.search(query, kinds=kinds or None, tags=tags or None, scope=scope,
                         since=since, until=until, limit=limit, mode=mode)
    rows = [hit.to_dict() for hit in hits]
    if as_json:
        print_json(rows)
    else:
        print_table([{**row, "score": round(row["score"], 4)} for row in rows], HIT_COLUMNS)


def _search_options(function):
    for decorator in reversed([
        click.argument("query"),
        click.option("--tag", "tags", multiple=True, help="Only items with this tag; repeatable."),
        scope_option,
        click.option("--since", help="Only items from this time on (ISO-8601)."),
        click.option("--until", help="Only items up to this time (ISO-8601)."),
        click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True),
        click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
                     help="auto is hybrid when the vector extra is installed, else bm25."),
        json_option,
    ]):
        function = decorator(function)
    return function


# -- lessons ---------------------------------------------------------------------------


@click.group()
def lesson() -> None:
    """Lessons: rules learned from crashes and failures."""


@lesson.command("add")
@click.argument("text", required=False)
@click.option("--file", "file", metavar="PATH", help="Read the lesson from a file (- for stdin).")
@click.option("--run", "run_id", type=int, help="The run that taught it.")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@scope_option
@json_option
@ledger_command
def lesson_add(ledger: Ledger, text, file, run_id, tags, scope, as_json: bool) -> None:
    """Write down a lesson; a repeat of a known lesson is counted, not stored twice."""
    text = _read_text("lesson", text, file)
    item = ledger.add_lesson(text, run=run_id, tags=tags, scope=scope or "ledger")
    _saved(item, "lesson", as_json)


@lesson.command("list")
@click.option("--tag", help="Only lessons with this tag.")
@scope_option
@json_option
@ledger_command
def lesson_list(ledger: Ledger, tag, scope, as_json: bool) -> None:
    """List every lesson, oldest first."""
    emit(ledger.lessons(tag=tag, scope=scope), as_json, MEMORY_COLUMNS)


@lesson.command("search")
@_search_options
@ledger_command
def lesson_search(ledger: Ledger, query, tags, scope, since, until, limit, mode, as_json):
    """Search lessons, best match first."""
    _search(ledger, query, ["lesson"], tags, scope, since, until, limit, mode, as_json)


# -- notes -----------------------------------------------------------------------------


@click.group()
def note() -> None:
    """Notes: free, tagged scratchpad memory, searchable with lessons and runs."""


@note.command("add")
@click.argument("text", required=False)
@click.option("--file", "file", metavar="PATH", help="Read the note from a file (- for stdin).")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@click.option("--run", "run_id", type=int, help="The run it is about.")
@scope_option
@json_option
@ledger_command
def note_add(ledger: Ledger, text, file, tags, run_id, scope, as_json: bool) -> None:
    """Write a note, given as TEXT or read with --file."""
    text = _read_text("note", text, file)
    item = ledger.add_note(text, tags=tags, run=run_id, scope=scope or "ledger")
    _saved(item, "note", as_json)


@note.command("list")
@click.option("--tag", help="Only notes with this tag.")
@scope_option
@json_option
@ledger_command
def note_list(ledger: Ledger, tag, scope, as_json: bool) -> None:
    """List notes, oldest first."""
    emit(ledger.notes(tag=tag, scope=scope), as_json, MEMORY_COLUMNS)


@note.command("search")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only this kind (lesson, note, run); repeatable. Default: all.")
@_search_options
@ledger_command
def note_search(ledger: Ledger, kinds, query, tags, scope, since, until, limit, mode, as_json):
    """Search notes, lessons and run descriptions, best match first."""
    _search(ledger, query, kinds, tags, scope, since, until, limit, mode, as_json)


@note.command("update")
@click.argument("item_id", type=int)
@click.option("--text", help="The new text; the old stays in history.")
@click.option("--tag", "tags", multiple=True, help="Replace the tags; repeatable.")
@json_option
@ledger_command
def note_update(ledger: Ledger, item_id: int, text, tags, as_json: bool) -> None:
    """Change a note's or lesson's text or tags."""
    item = ledger.update_note(item_id, text=text, tags=tags or None)
    _done(item, "updated", as_json)


@note.command("history")
@click.argument("item_id", type=int)
@json_option
@ledger_command
def note_history(ledger: Ledger, item_id: int, as_json: bool) -> None:
    """Every change to a note or lesson, oldest first, even after it was forgotten."""
    emit(ledger.memory_history(item_id), as_json, HISTORY_COLUMNS)


@note.command("forget")
@click.argument("item_id", type=int)
@json_option
@ledger_command
def note_forget(ledger: Ledger, item_id: int, as_json: bool) -> None:
    """Hide a note or lesson from lists and search; its history is kept."""
    item = ledger.forget(item_id)
    _done(item, "forgotten", as_json)


# Lessons and notes share one numbering, so these work on either; a lesson's user looks
# for them under `lesson` too.
for _shared in (note_update, note_history, note_forget):
    lesson.add_command(_shared)

COMMANDS = [lesson, note]

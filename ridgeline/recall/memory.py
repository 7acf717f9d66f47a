"""Memory items: lessons and notes with scopes, tags, history and soft deletion.

Storage model: `memory_items` holds each item's current state; `memory_history` is
append-only and holds one row per change (create, update, tag, dedup-link, forget) with
the text and tags as they were after it, so an update never loses the words it replaced.
Forgetting sets `deleted_at`: the item leaves lists and search, its history stays.

A lesson that repeats an earlier lesson of the same scope (same words, or a word-set
Jaccard similarity of at least `DUPLICATE_THRESHOLD`) is not stored again: the earlier
one's `seen` count goes up and its history records the new wording and run.

These functions are the body of `Ledger`'s memory methods and run inside its
transactions; nothing else should call them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ridgeline.errors import InputError, NotFoundError
from ridgeline.models import MemoryItem, from_timestamp, iso
from ridgeline.recall import search as search_module
from ridgeline.recall.text import DUPLICATE_THRESHOLD, check_text, jaccard, query_terms
from ridgeline.storage.base import Cursor, iterate_chunks

if TYPE_CHECKING:
    from ridgeline.ledger import Ledger

KINDS = ("lesson", "note")
ACTIONS = ("create", "update", "tag", "dedup-link", "forget")

# Lessons compared word by word with a new one; the full-text index picks them.
_DUPLICATE_CANDIDATES = 20

_ITEM_COLUMNS = "id, kind, text, created_at, updated_at, run_id, scope, seen, deleted_at"


@dataclasses.dataclass(frozen=True)
class MemoryChange:
    """One row of an item's history: what was done, and the item as it was after it."""

    item: int
    at: datetime
    action: str
    text: str | None
    tags: tuple[str, ...]
    run: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "at": iso(self.at),
            "action": self.action,
            "text": self.text,
            "tags": list(self.tags),
            "run": self.run,
        }


def check_scope(scope: str) -> str:
    """`ledger`, `agent:NAME` or `session:ID`.

    Raises:
        InputError: any other form.
    """
    if scope == "ledger":
        return scope
    if isinstance(scope, str):
        prefix, _, name = scope.partition(":")
        if prefix in ("agent", "session") and name.strip():
            return f"{prefix}:{name.strip()}"
    raise InputError(
        f"expected a scope of 'ledger', 'agent:NAME' or 'session:ID', got {scope!r}",
        field="scope",
    )


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = [tags]
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InputError("a tag must be a non-empty string", field="tag")
        cleaned.append(tag.strip())
    return tuple(dict.fromkeys(cleaned))


# -- writing ---------------------------------------------------------------------------


def add_item(
    ledger: Ledger,
    kind: str,
    text: str,
    *,
    run: int | None,
    tags: Sequence[str],
    scope: str,
) -> MemoryItem:
    """Store a lesson or note, or link a duplicate lesson to the one it repeats."""
    text = check_text(text, kind)
    tags = check_tags(tags)
    scope = check_scope(scope)
    now = time.time()
    with ledger._write() as cursor:
        if run is not None and cursor.one("SELECT 1 FROM runs WHERE id = ?", (run,)) is None:
            raise NotFoundError(f"no run {run}")
        if kind == "lesson":
            original = _find_duplicate(ledger, text, scope)
            if original is not None:
                return _link_duplicate(ledger, cursor, original, text, tags, run, now)
        item_id = cursor.execute(
            "INSERT INTO memory_items (kind, text, scope, run_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (kind, text, scope, run, now, now),
        )[0][0]
        _insert_tags(cursor, item_id, tags)
        _append_history(cursor, item_id, now, "create", text, tags, run)
    return get_item(ledger, item_id)


def _find_duplicate(ledger: Ledger, text: str, scope: str) -> int | None:
    terms = query_terms(text, keep_stopwords=True)
    if not terms:
        return None
    candidates = search_module.full_text_ids(
        ledger, terms, kinds=("lesson",), scope=scope, limit=_DUPLICATE_CANDIDATES
    )
    if not candidates:
        return None
    texts = dict(ledger._read(
        f"SELECT id, text FROM memory_items WHERE id IN ({', '.join('?' * len(candidates))})",
        candidates,
    ))
    best_id, best = None, 0.0
    for item_id in candidates:
        similarity = jaccard(text, texts[item_id])
        if similarity > best:
            best_id, best = item_id, similarity
    return best_id if best >= DUPLICATE_THRESHOLD else None


def _link_duplicate(
    ledger: Ledger,
    cursor: Cursor,
    item_id: int,
    text: str,
    tags: tuple[str, ...],
    run: int | None,
    now: float,
) -> MemoryItem:
    cursor.execute(
        "UPDATE memory_items SET seen = seen + 1, updated_at = ? WHERE id = ?", (now, item_id)
    )
    merged = _insert_tags(cursor, item_id, tags)
    # The repeated wording is kept in history, not in the item: its text stays the first.
    _append_history(cursor, item_id, now, "dedup-link", text, merged, run)
    return get_item(ledger, item_id)


def update_item(
    ledger: Ledger,
    item_id: int,
    *,
    text: str | None = None,
    tags: Sequence[str] | None = None,
) -> MemoryItem:
    """Change an item's text or replace its tags; the old state stays in history."""
    current = get_item(ledger, item_id)
    if current.deleted_at is not None:
        raise NotFoundError(f"memory item {item_id} was forgotten; add a new one instead")
    new_text = current.text if text is None else check_text(text, current.kind)
    new_tags = current.tags if tags is None else check_tags(tags)
    if new_text == current.text and set(new_tags) == set(current.tags):
        return current
    now = time.time()
    with ledger._write() as cursor:
        cursor.execute(
            "UPDATE memory_items SET text = ?, updated_at = ? WHERE id = ?",
            (new_text, now, item_id),
        )
        cursor.execute("DELETE FROM memory_tags WHERE item_id = ?", (item_id,))
        _insert_tags(cursor, item_id, new_tags)
        action = "update" if new_text != current.text else "tag"
        _append_history(cursor, item_id, now, action, new_text, new_tags, current.run)
    return get_item(ledger, item_id)


def forget_item(ledger: Ledger, item_id: int) -> MemoryItem:
    """Hide an item from lists and search; its history is kept. Forgetting twice is a no-op."""
    current = get_item(ledger, item_id)
    if current.deleted_at is not None:
        return current
    now = time.time()
    with ledger._write() as cursor:
        cursor.execute(
            "UPDATE memory_items SET deleted_at = ?, updated_at = ? WHERE id = ?",
            (now, now, item_id),
        )
        _append_history(cursor, item_id, now, "forget", current.text, current.tags, current.run)
    return get_item(ledger, item_id)


def _insert_tags(cursor: Cursor, item_id: int, tags: tuple[str, ...]) -> tuple[str, ...]:
    cursor.executemany(
        "INSERT INTO memory_tags (item_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(item_id, tag) for tag in tags],
    )
    rows = cursor.execute("SELECT tag FROM memory_tags WHERE item_id = ? ORDER BY tag", (item_id,))
    return tuple(row[0] for row in rows)


def _append_history(
    cursor: Cursor,
    item_id: int,
    at: float,
    action: str,
    text: str,
    tags: Sequence[str],
    run: int | None,
) -> None:
    cursor.execute(
        "INSERT INTO memory_history (item_id, at, action, text, tags, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (item_id, at, action, text, json.dumps(sorted(tags)), run),
    )


# -- reading ---------------------------------------------------------------------------


def get_item(ledger: Ledger, item_id: int) -> MemoryItem:
    """One item by id, forgotten or not.

    Raises:
        NotFoundError: no item has that id.
    """
    items = load_items(ledger, [int(item_id)], include_forgotten=True)
    if not items:
        raise NotFoundError(f"no lesson or note {item_id}")
    return items[int(item_id)]


def list_items(
    ledger: Ledger, kind: str, *, tag: str | None = None, scope: str | None = None
) -> list[MemoryItem]:
    """Items of one kind that have not been forgotten, oldest first."""
    clauses, params = ["kind = ?", "deleted_at IS NULL"], [kind]
    if scope is not None:
        clauses.append("scope = ?")
        params.append(check_scope(scope))
    if tag is not None:
        clauses.append("id IN (SELECT item_id FROM memory_tags WHERE tag = ?)")
        params.append(tag)
    rows = ledger._read(
        f"SELECT {_ITEM_COLUMNS} FROM memory_items WHERE {' AND '.join(clauses)} "
        "ORDER BY created_at, id",
        params,
    )
    return _build_items(ledger, rows, everything=True)


def load_items(
    ledger: Ledger, ids: Sequence[int], *, include_forgotten: bool = False
) -> dict[int, MemoryItem]:
    """Items by id; forgotten ones only when asked for."""
    rows: list[tuple] = []
    live = "" if include_forgotten else " AND deleted_at IS NULL"
    for chunk in iterate_chunks(list(ids), 500):
        rows += ledger._read(
            f"SELECT {_ITEM_COLUMNS} FROM memory_items "
            f"WHERE id IN ({', '.join('?' * len(chunk))}){live}",
            chunk,
        )
    return {item.id: item for item in _build_items(ledger, rows, everything=False)}


def _build_items(ledger: Ledger, rows: list[tuple], *, everything: bool) -> list[MemoryItem]:
    tags: dict[int, list[str]] = defaultdict(list)
    if everything:
        # One scan beats many IN (...) lookups when most items are wanted.
        tag_rows = ledger._read("SELECT item_id, tag FROM memory_tags ORDER BY tag")
    else:
        tag_rows = []
        for chunk in iterate_chunks([row[0] for row in rows], 500):
            tag_rows += ledger._read(
                f"SELECT item_id, tag FROM memory_tags "
                f"WHERE item_id IN ({', '.join('?' * len(chunk))}) ORDER BY tag",
                chunk,
            )
    for item_id, tag in tag_rows:
        tags[item_id].append(tag)
    return [
        MemoryItem(
            id=item_id, kind=kind, text=text, created_at=from_timestamp(created),
            updated_at=from_timestamp(updated), run=run, tags=tuple(tags.get(item_id, ())),
            scope=scope, seen=seen,
            deleted_at=None if deleted is None else from_timestamp(deleted),
        )
        for item_id, kind, text, created, updated, run, scope, seen, deleted in rows
    ]


def history(ledger: Ledger, item_id: int) -> list[MemoryChange]:
    """Every change to an item, oldest first, forgotten items included.

    Raises:
        NotFoundError: no item has that id.
    """
    get_item(ledger, item_id)
    rows = ledger._read(
        "SELECT item_id, at, action, text, tags, run_id FROM memory_history "
        "WHERE item_id = ? ORDER BY id",
        (int(item_id),),
    )
    return [
        MemoryChange(item, from_timestamp(at), action, text, tuple(json.loads(tags or "[]")), run)
        for item, at, action, text, tags, run in rows
    ]

"""Storage backends behind one interface; `open_storage` picks one from a location."""

from __future__ import annotations

from pathlib import Path

from ridgeline.errors import InputError
from ridgeline.storage.base import Cursor, Storage

__all__ = ["Cursor", "Storage", "open_storage", "is_postgres_url"]


def is_postgres_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_storage(location: str | Path) -> Storage:
    """Open (creating and migrating if needed) the ledger at a file path or PostgreSQL URL."""
    text = str(location)
    if "://" in text and not is_postgres_url(text):
        raise InputError(
            f"{text}: not a ledger location this ridgeline understands; give a file path or "
            "a postgresql:// URL",
            field="--db",
        )
    if is_postgres_url(text):
        from ridgeline.storage.postgres import PostgresStorage

        return PostgresStorage(text)

    from ridgeline.storage.sqlite import SQLiteStorage

    return SQLiteStorage(Path(text).expanduser())

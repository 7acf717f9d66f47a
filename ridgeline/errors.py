"""The one exception hierarchy of ridgeline.

    RidgelineError                  anything ridgeline raises on purpose
    ├── InputError                  bad input: names the file, line and field when known
    ├── NotFoundError               a run, version or objective that does not exist
    ├── ConflictError               a write that contradicts what the ledger holds
    └── StorageError                the database could not be opened, migrated or written
        └── SchemaVersionError      the ledger was written by a newer ridgeline

The CLI turns each of these into a one-line message and a non-zero exit code. Anything
else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class RidgelineError(Exception):
    """Base of every error ridgeline raises on purpose."""


class InputError(RidgelineError, ValueError):
    """Input that ridgeline cannot accept.

    Args:
        message: what is wrong and, where useful, what to do instead.
        file: the file the input came from, if any.
        line: the line number in that file, counting from 1.
        field: the column, option or key that holds the bad value.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            # In a table file (a line and a file) the field is a column; elsewhere a key.
            tabular = self.file is not None and self.line is not None
            where.append(f"column {self.field!r}" if tabular else f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class NotFoundError(RidgelineError, LookupError):
    """A named or numbered thing is not in the ledger."""


class ConflictError(RidgelineError):
    """A write that contradicts the ledger (for example a version that is its own parent)."""


class StorageError(RidgelineError):
    """The database could not be opened, migrated or written."""


class SchemaVersionError(StorageError):
    """The ledger's schema is newer than this ridgeline understands."""

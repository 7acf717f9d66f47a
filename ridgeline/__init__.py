"""Ridgeline: a durable memory for long-running optimization agents.

    import ridgeline

    ledger = ridgeline.open("ledger.db")
    ledger.add_objective("tok_per_sec", "max", unit="tok/s", baseline=160)
    ledger.record(version="gpu_v1", metrics={"tok_per_sec": 43.3})
    ledger.frontier()
"""

from ridgeline.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    RidgelineError,
    SchemaVersionError,
    StorageError,
)
from ridgeline.ledger import Ledger, open
from ridgeline.models import Event, MemoryItem, Objective, Regime, Run, Version

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "Event",
    "InputError",
    "Ledger",
    "MemoryItem",
    "NotFoundError",
    "Objective",
    "Regime",
    "RidgelineError",
    "Run",
    "SchemaVersionError",
    "StorageError",
    "Version",
    "open",
]

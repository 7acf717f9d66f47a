"""Plain records that the ledger returns.

They are frozen dataclasses with no database handle, so analysis code can be tested by
building them by hand. Times are timezone-aware UTC datetimes; `to_dict` gives the stable
JSON shape the CLI prints with `--json`.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from typing import Any, Literal

Direction = Literal["max", "min"]
Intent = Literal["attempt", "validation", "debug"]
Outcome = Literal["ok", "crash"]
VersionStatus = Literal["committed", "failed", "exploring"]

DIRECTIONS: tuple[str, ...] = ("max", "min")
INTENTS: tuple[str, ...] = ("attempt", "validation", "debug")
OUTCOMES: tuple[str, ...] = ("ok", "crash")
VERSION_STATUSES: tuple[str, ...] = ("committed", "failed", "exploring")


def to_timestamp(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _json_number(value: float | None) -> float | None:
    # JSON has no NaN or infinity; a value that is not finite is printed as null.
    if value is None or not math.isfinite(value):
        return None
    return value


@dataclasses.dataclass(frozen=True)
class Objective:
    name: str
    direction: Direction
    unit: str | None = None
    baseline: float | None = None
    ideal: float | None = None

    def better(self, a: float, b: float) -> bool:
        """True when value `a` is strictly better than `b` in this objective's direction."""
        return a > b if self.direction == "max" else a < b

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "unit": self.unit,
            "baseline": self.baseline,
            "ideal": self.ideal,
        }


@dataclasses.dataclass(frozen=True)
class Version:
    name: str
    parents: tuple[str, ...] = ()
    regime: str | None = None
    commit: str | None = None
    status: VersionStatus = "exploring"
    description: str | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parents": list(self.parents),
            "regime": self.regime,
            "commit": self.commit,
            "status": self.status,
            "description": self.description,
            "created_at": iso(self.created_at),
        }


@dataclasses.dataclass(frozen=True)
class Run:
    id: int
    at: datetime
    version: str | None
    metrics: dict[str, float]
    intent: Intent = "attempt"
    outcome: Outcome = "ok"
    reason: str | None = None
    commit: str | None = None
    dirty: bool | None = None
    diff_hash: str | None = None
    tool_calls: int | None = None
    duration: float | None = None
    command: str | None = None
    exit_status: int | None = None
    description: str | None = None
    artifacts: tuple[str, ...] = ()
    source: str | None = None
    source_line: int | None = None
    key: str | None = None
    agent: str | None = None
    session: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.at),
            "version": self.version,
            "metrics": {name: _json_number(v) for name, v in self.metrics.items()},
            "intent": self.intent,
            "outcome": self.outcome,
            "reason": self.reason,
            "commit": self.commit,
            "dirty": self.dirty,
            "diff_hash": self.diff_hash,
            "tool_calls": self.tool_calls,
            "duration": self.duration,
            "command": self.command,
            "exit_status": self.exit_status,
            "description": self.description,
            "artifacts": list(self.artifacts),
            "provenance": (
                {"source": self.source, "line": self.source_line} if self.source else None
            ),
            "key": self.key,
            "agent": self.agent,
            "session": self.session,
        }


@dataclasses.dataclass(frozen=True)
class Regime:
    name: str
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description}


@dataclasses.dataclass(frozen=True)
class MemoryItem:
    """A lesson or a note: text the agent wrote down for its future self."""

    id: int
    kind: Literal["lesson", "note"]
    text: str
    created_at: datetime
    updated_at: datetime
    run: int | None = None
    tags: tuple[str, ...] = ()
    scope: str = "ledger"
    seen: int = 1
    deleted_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "run": self.run,
            "tags": list(self.tags),
            "scope": self.scope,
            "seen": self.seen,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "deleted_at": iso(self.deleted_at),
        }


@dataclasses.dataclass(frozen=True)
class Event:
    """Something that happened to the agent rather than to the code: a compaction, a session."""

    id: int
    at: datetime
    kind: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": iso(self.at), "kind": self.kind, "data": self.data}

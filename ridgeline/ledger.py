"""The ledger: ridgeline's Python API over one storage backend.

Everything that reads or writes a ledger goes through `Ledger`; the CLI, the servers,
hooks and importers are thin layers over it. Each public write is one durable transaction,
unless it runs inside `with ledger.transaction():`, which makes a group of writes (an
import, say) land together or not at all.

Names are the public identity of objectives, versions and regimes; integer ids are the
identity of runs and memory items. A version or regime named for the first time is
created on the spot, so an agent can record a run of `gpu_v3` without declaring it first.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ridgeline.analysis.frontier import RunPoint, compute_frontier, is_counted
from ridgeline.errors import ConflictError, InputError, NotFoundError
from ridgeline.location import resolve_location
from ridgeline.models import (
    DIRECTIONS,
    INTENTS,
    OUTCOMES,
    VERSION_STATUSES,
    Event,
    MemoryItem,
    Objective,
    Regime,
    Run,
    Version,
    from_timestamp,
    to_timestamp,
)
from ridgeline.recall import memory
from ridgeline.redact import redact
from ridgeline.recall import search as recall_search
from ridgeline.storage import Cursor, Storage, open_storage
from ridgeline.storage.base import iterate_chunks

# SQLite allows 32,766 bound parameters per statement; stay far below for IN (...) lists.
_CHUNK = 500

_RUN_COLUMNS = (
    "r.id, r.at, v.name, r.intent, r.outcome, r.reason, r.commit_sha, r.dirty, r.diff_hash, "
    "r.tool_calls, r.duration, r.command, r.exit_status, r.description, r.source, "
    "r.source_line, r.key, r.agent, r.session"
)


def open(location: str | Path | None = None) -> Ledger:  # noqa: A001 - mirrors builtins.open
    """Open the ledger at a path or PostgreSQL URL, creating it if needed.

    Args:
        location: a SQLite file, a `postgresql://` URL, or None for RIDGELINE_DB or the
            default (inside the git directory of the current repository, else
            `./ridgeline.db`).
    """
    return Ledger(open_storage(resolve_location(location)))


def parse_time(value: datetime | str | float | int | None, field: str = "at") -> float:
    """Seconds since the epoch from a datetime, an ISO-8601 string or a number; now if None."""
    if value is None:
        return time.time()
    if isinstance(value, datetime):
        return to_timestamp(value)
    if isinstance(value, bool):
        raise InputError(f"expected a time, got {value!r}", field=field)
    if isinstance(value, int | float):
        return _within_calendar(value, field)
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"expected an ISO-8601 time such as 2026-04-20T09:30:00Z, got {value!r}", field=field
        ) from None
    return _within_calendar(to_timestamp(moment), field)


# Times must convert back to a datetime (years 1 to 9999) when they are read.
_EARLIEST, _LATEST = -62_135_596_800, 253_402_300_799


def _within_calendar(seconds: float, field: str) -> float:
    # NaN fails both comparisons, so it is refused here too.
    if not _EARLIEST <= seconds <= _LATEST:
        raise InputError(f"expected a finite time in the years 1 to 9999, got {seconds!r}",
                         field=field)
    return float(seconds)


def parse_metric_value(name: str, value: Any) -> float | None:
    """A metric as a float; None and NaN mean 'no value'. Strings must be plain numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", field=name)
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except (ValueError, OverflowError):
        raise InputError(f"expected a number, got {value!r}", field=name) from None
    if math.isinf(number):
        # An infinite result would stand as the best forever and cannot be written as JSON.
        raise InputError(
            f"expected a finite number, got {value!r}; record a broken result as a crash",
            field=name,
        )
    return None if math.isnan(number) else number


def _reference_value(name: str, value: Any) -> float | None:
    """A baseline or ideal: absent is fine, but a NaN given on purpose is a mistake."""
    number = parse_metric_value(name, value)
    if value is not None and number is None:
        raise InputError(f"expected a number, got {value!r}", field=name)
    return number


def _choice(value: str, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise InputError(f"expected one of {', '.join(allowed)}, got {value!r}", field=field)
    return value


def _check_run_extras(
    duration: Any, exit_status: Any, artifacts: Any
) -> tuple[float | None, int | None, tuple[str, ...]]:
    """Duration, exit status and artifacts checked, so both backends store the same types."""
    if duration is not None:
        duration = parse_metric_value("duration", duration)
        if duration is not None and not (math.isfinite(duration) and duration >= 0):
            raise InputError(f"expected seconds of at least 0, got {duration!r}",
                             field="duration")
    if exit_status is not None and (isinstance(exit_status, bool)
                                    or not isinstance(exit_status, int)
                                    or not -(2**31) <= exit_status < 2**31):
        raise InputError(f"expected a whole number, got {exit_status!r}", field="exit_status")
    if isinstance(artifacts, str | bytes) or not isinstance(artifacts, Iterable):
        raise InputError(f"expected a list of paths, got {artifacts!r}", field="artifacts")
    paths = tuple(dict.fromkeys(artifacts))
    if not all(isinstance(path, str) and path for path in paths):
        raise InputError("each artifact must be a non-empty path", field="artifacts")
    return duration, exit_status, paths


def resolve_artifact_path(root: Path, relative: str) -> Path:
    """The file behind an artifact path, which must stay inside the artifact folder `root`.

    Args:
        root: the ledger's artifact folder (it need not exist yet).
        relative: the path as stored in the ledger, relative to `root`.

    Raises:
        InputError: the path is absolute, or leaves `root` through `..` or a symlink.
    """
    if not isinstance(relative, str) or not relative.strip() or "\0" in relative:
        raise InputError(f"expected a relative file path, got {relative!r}", field="artifacts")
    base = Path(root).resolve()
    if Path(relative).is_absolute():
        raise InputError(f"artifact paths are relative to {base}, got {relative!r}",
                         field="artifacts")
    # resolve() follows symlinks, so a link inside the folder that points out is caught.
    target = (base / relative).resolve()
    if target == base or not target.is_relative_to(base):
        raise InputError(f"artifact path {relative!r} leaves the artifact folder {base}",
                         field="artifacts")
    return target


def _redacted(text: Any) -> Any:
    # Only text is redacted; anything else goes on to be refused with its field named.
    return redact(text) if isinstance(text, str) else text


def _check_texts(**fields: Any) -> None:
    for field, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise InputError(f"expected text, got {value!r}", field=field)


def _clean_name(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("a name must be a non-empty string", field=field)
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise InputError(f"a name may not hold control characters, got {value!r}", field=field)
    return value.strip()


class Ledger:
    """One optimization effort's memory. Use `ridgeline.open()` to get one."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._local = threading.local()
        self._version_ids: dict[str, int] = {}
        self._regime_ids: dict[str, int] = {}

    # -- lifetime -----------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self.storage.location

    @property
    def artifact_dir(self) -> Path:
        return self.storage.artifact_dir

    def artifact_path(self, relative: str) -> Path:
        """The file behind an artifact path of this ledger; see `resolve_artifact_path`."""
        return resolve_artifact_path(self.artifact_dir, relative)

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """Group writes: all of them land on a clean exit, none if the block raises."""
        with self._write():
            yield self

    def copy_into(self, other: Ledger, *, replace: bool = False) -> Any:
        """Copy every row and artifact of this ledger into `other`, ids and keys kept.

        Returns the `ridgeline.migrate.CopyReport`; raises `ConflictError` when `other`
        holds rows and `replace` is false. See `ridgeline.migrate`.
        """
        from ridgeline.migrate import copy_ledger

        return copy_ledger(self.storage, other.storage, replace=replace)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Cursor]:
        active = getattr(self._local, "cursor", None)
        if active is not None:
            yield active
            return
        try:
            with self.storage.transaction() as cursor:
                self._local.cursor = cursor
                yield cursor
        except BaseException:
            # Ids handed out inside a rolled-back transaction no longer exist.
            self._version_ids.clear()
            self._regime_ids.clear()
            raise
        finally:
            self._local.cursor = None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        # Inside a transaction, read through it so the block sees its own writes.
        active = getattr(self._local, "cursor", None)
        if active is not None:
            return active.execute(sql, params)
        return self.storage.query(sql, params)

    # -- objectives -------------------------------------------------------------------

    def add_objective(
        self,
        name: str,
        direction: str,
        *,
        unit: str | None = None,
        baseline: float | None = None,
        ideal: float | None = None,
    ) -> Objective:
        """Declare an objective, or update the one of that name.

        Args:
            name: the metric's name as runs report it (`tok_per_sec`).
            direction: "max" or "min".
            unit: shown on charts and in the brief.
            baseline: a reference figure to beat (a competitor's, the starting point).
            ideal: a limit that cannot be passed (a roofline, zero loss).
        """
        name = _clean_name(name, "name")
        direction = _choice(direction, DIRECTIONS, "direction")
        baseline = _reference_value("baseline", baseline)
        ideal = _reference_value("ideal", ideal)
        with self._write() as cursor:
            cursor.execute(
                "INSERT INTO objectives (name, direction, unit, baseline, ideal, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "direction = excluded.direction, unit = excluded.unit, "
                "baseline = excluded.baseline, ideal = excluded.ideal",
                (name, direction, unit, baseline, ideal, time.time()),
            )
        return Objective(name, direction, unit, baseline, ideal)  # type: ignore[arg-type]

    def objectives(self) -> list[Objective]:
        rows = self._read(
            "SELECT name, direction, unit, baseline, ideal FROM objectives ORDER BY id"
        )
        return [Objective(*row) for row in rows]

    def objective(self, name: str) -> Objective:
        for objective in self.objectives():
            if objective.name == name:
                return objective
        raise NotFoundError(f"no objective named {name!r}; add it with 'ridgeline objective add'")

    # -- regimes ----------------------------------------------------------------------

    def set_regime(self, name: str, description: str | None = None) -> Regime:
        """Create a regime (a family of techniques), or update its description."""
        name = _clean_name(name, "regime")
        with self._write() as cursor:
            self._regime_id(cursor, name)
            if description is not None:
                cursor.execute(
                    "UPDATE regimes SET description = ? WHERE name = ?", (description, name)
                )
        return self.regime(name)

    def regime(self, name: str) -> Regime:
        row = self._read("SELECT name, description FROM regimes WHERE name = ?", (name,))
        if not row:
            raise NotFoundError(f"no regime named {name!r}")
        return Regime(*row[0])

    def regimes(self) -> list[Regime]:
        rows = self._read("SELECT name, description FROM regimes ORDER BY id")
        return [Regime(*row) for row in rows]

    def _regime_id(self, cursor: Cursor, name: str) -> int:
        if name in self._regime_ids:
            return self._regime_ids[name]
        cursor.execute(
            "INSERT INTO regimes (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, time.time()),
        )
        regime_id = cursor.one("SELECT id FROM regimes WHERE name = ?", (name,))[0]
        self._regime_ids[name] = regime_id
        return regime_id

    # -- versions ---------------------------------------------------------------------

    def set_version(
        self,
        name: str,
        *,
        parents: Sequence[str] | None = None,
        regime: str | None = None,
        status: str | None = None,
        commit: str | None = None,
        description: str | None = None,
    ) -> Version:
        """Create a version or change the fields given; fields left None are kept.

        Args:
            name: the version's name (`gpu_v10`).
            parents: the versions it descends from, replacing any recorded before; a
                parent named for the first time is created too.
            regime: the family of technique it belongs to.
            status: "committed", "failed" or "exploring".
            commit: the git commit that holds it.
            description: what it changes.

        Raises:
            ConflictError: a version would become its own ancestor.
        """
        name = _clean_name(name, "version")
        if status is not None:
            _choice(status, VERSION_STATUSES, "status")
        with self._write() as cursor:
            version_id = self._version_id(cursor, name)
            updates: dict[str, Any] = {
                "status": status,
                "commit_sha": commit,
                "description": description,
            }
            if regime is not None:
                updates["regime_id"] = self._regime_id(cursor, _clean_name(regime, "regime"))
            for column, value in updates.items():
                if value is not None:
                    cursor.execute(
                        f"UPDATE versions SET {column} = ? WHERE id = ?", (value, version_id)
                    )
            if parents is not None:
                self._set_parents(cursor, name, version_id, parents)
        return self.version(name)

    def _set_parents(
        self, cursor: Cursor, name: str, version_id: int, parents: Sequence[str]
    ) -> None:
        parent_ids = []
        descendants = self._descendants(cursor, version_id)
        for parent in dict.fromkeys(_clean_name(p, "parent") for p in parents):
            if parent == name:
                raise ConflictError(f"version {name!r} cannot be its own parent")
            parent_id = self._version_id(cursor, parent)
            if parent_id in descendants:
                raise ConflictError(
                    f"version {name!r} cannot have parent {parent!r}: {parent!r} already "
                    f"descends from {name!r}"
                )
            parent_ids.append(parent_id)
        cursor.execute("DELETE FROM version_parents WHERE version_id = ?", (version_id,))
        cursor.executemany(
            "INSERT INTO version_parents (version_id, parent_id, position) VALUES (?, ?, ?)",
            [(version_id, parent_id, i) for i, parent_id in enumerate(parent_ids)],
        )

    def _descendants(self, cursor: Cursor, version_id: int) -> set[int]:
        # A parent that descends from the version would close a loop. Walking down from
        # the version is cheap where it matters: a new version has no descendants yet.
        rows = cursor.execute(
            "WITH RECURSIVE down (id) AS ("
            " SELECT version_id FROM version_parents WHERE parent_id = ?"
            " UNION SELECT vp.version_id FROM version_parents vp JOIN down"
            " ON vp.parent_id = down.id"
            ") SELECT id FROM down",
            (version_id,),
        )
        return {row[0] for row in rows}

    def _version_id(self, cursor: Cursor, name: str) -> int:
        if name in self._version_ids:
            return self._version_ids[name]
        row = cursor.one("SELECT id FROM versions WHERE name = ?", (name,))
        if row is None:
            cursor.execute(
                "INSERT INTO versions (name, created_at) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, time.time()),
            )
            row = cursor.one("SELECT id FROM versions WHERE name = ?", (name,))
        self._version_ids[name] = row[0]
        return row[0]

    def version(self, name: str) -> Version:
        for version in self._load_versions("WHERE v.name = ?", (name,)):
            return version
        raise NotFoundError(f"no version named {name!r}")

    def versions(self) -> list[Version]:
        """Every version, in the order they were first named."""
        return self._load_versions("", ())

    def _load_versions(self, where: str, params: Sequence[Any]) -> list[Version]:
        rows = self._read(
            "SELECT v.id, v.name, g.name, v.commit_sha, v.status, v.description, v.created_at "
            f"FROM versions v LEFT JOIN regimes g ON g.id = v.regime_id {where} ORDER BY v.id",
            params,
        )
        # For one version, read its own parents only: `set_version` returns the version it
        # saved, and reading every parent link each time made big imports quadratic.
        only = "WHERE vp.version_id = ?" if len(rows) == 1 else ""
        parents: dict[int, list[str]] = defaultdict(list)
        for child_id, parent in self._read(
            "SELECT vp.version_id, p.name FROM version_parents vp "
            f"JOIN versions p ON p.id = vp.parent_id {only} "
            "ORDER BY vp.version_id, vp.position",
            (rows[0][0],) if only else (),
        ):
            parents[child_id].append(parent)
        return [
            Version(
                name=name,
                parents=tuple(parents.get(version_id, ())),
                regime=regime,
                commit=commit,
                status=status,
                description=description,
                created_at=from_timestamp(created_at),
            )
            for version_id, name, regime, commit, status, description, created_at in rows
        ]

    # -- runs -------------------------------------------------------------------------

    def record(
        self,
        version: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        *,
        intent: str = "attempt",
        outcome: str = "ok",
        reason: str | None = None,
        at: datetime | str | float | None = None,
        commit: str | None = None,
        tool_calls: int | None = None,
        duration: float | None = None,
        command: str | None = None,
        exit_status: int | None = None,
        description: str | None = None,
        artifacts: Iterable[str] = (),
        dirty: bool | None = None,
        diff_hash: str | None = None,
        source: str | None = None,
        source_line: int | None = None,
        key: str | None = None,
        agent: str | None = None,
        session: str | None = None,
    ) -> Run:
        """Record one benchmark run and return it once it is durable.

        Args:
            version: the code state that ran; created if new.
            metrics: values by metric name; None or NaN mean the metric has no value.
            intent: "attempt", "validation" or "debug".
            outcome: "ok" or "crash"; a crash may carry no metric.
            reason: why it crashed, or anything notable about the outcome.
            at: when it ran (datetime, ISO-8601 string or epoch seconds); now by default.
            key: an idempotency key. Recording the same key twice returns the first run
                and writes nothing, so a retried write is never counted twice.
            source, source_line: provenance, for runs imported from a file.

        Raises:
            InputError: a value of the wrong kind, naming the field.
        """
        values = self._check_run(metrics, intent, outcome, tool_calls)
        timestamp = parse_time(at)
        duration, exit_status, artifacts = _check_run_extras(duration, exit_status, artifacts)
        for path in artifacts:
            resolve_artifact_path(self.artifact_dir, path)
        _check_texts(reason=reason, commit=commit, command=command, description=description,
                     key=key, agent=agent, session=session, diff_hash=diff_hash)
        # Agents paste commands and errors verbatim; keys and tokens in them stay out.
        reason, command, description = (
            None if text is None else redact(text) for text in (reason, command, description)
        )
        given_key, key = key, key or uuid.uuid4().hex
        with self._write() as cursor:
            # A retried key is looked up first: on PostgreSQL an insert that loses to ON
            # CONFLICT still uses up a sequence number, and run ids would skip.
            existing = given_key and cursor.one("SELECT id FROM runs WHERE key = ?", (key,))
            if existing:
                return self._load_runs("WHERE r.id = ?", (existing[0],))[0]
            version_id = (
                self._version_id(cursor, _clean_name(version, "version")) if version else None
            )
            inserted = cursor.execute(
                "INSERT INTO runs (key, at, version_id, intent, outcome, reason, commit_sha, "
                "dirty, diff_hash, tool_calls, duration, command, exit_status, description, "
                "source, source_line, agent, session, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING RETURNING id",
                (
                    key, timestamp, version_id, intent, outcome, reason, commit,
                    None if dirty is None else int(dirty), diff_hash, tool_calls, duration,
                    command, exit_status, description, source, source_line, agent, session,
                    time.time(),
                ),
            )
            if not inserted:
                existing = cursor.one("SELECT id FROM runs WHERE key = ?", (key,))
                return self._load_runs("WHERE r.id = ?", (existing[0],))[0]
            run_id = inserted[0][0]
            cursor.executemany(
                "INSERT INTO run_metrics (run_id, name, value) VALUES (?, ?, ?)",
                [(run_id, name, value) for name, value in values.items()],
            )
            cursor.executemany(
                "INSERT INTO run_artifacts (run_id, path) VALUES (?, ?)",
                [(run_id, path) for path in artifacts],
            )
        return Run(
            id=run_id, at=from_timestamp(timestamp), version=version, metrics=values,
            intent=intent, outcome=outcome, reason=reason, commit=commit,  # type: ignore[arg-type]
            dirty=dirty, diff_hash=diff_hash, tool_calls=tool_calls, duration=duration,
            command=command, exit_status=exit_status, description=description,
            artifacts=artifacts, source=source, source_line=source_line, key=key,
            agent=agent, session=session,
        )

    @staticmethod
    def _check_run(
        metrics: Mapping[str, Any] | None, intent: str, outcome: str, tool_calls: int | None
    ) -> dict[str, float | None]:
        _choice(intent, INTENTS, "intent")
        _choice(outcome, OUTCOMES, "outcome")
        whole = isinstance(tool_calls, int) and not isinstance(tool_calls, bool)
        if tool_calls is not None and not (whole and 0 <= tool_calls < 2**63):
            raise InputError(
                f"expected a whole number of at least 0, got {tool_calls!r}", field="tool_calls"
            )
        if metrics is not None and not isinstance(metrics, Mapping):
            raise InputError(f"expected a mapping of metric name to value, got {metrics!r}",
                             field="metrics")
        values = {
            _clean_name(name, "metric"): parse_metric_value(name, value)
            for name, value in (metrics or {}).items()
        }
        if outcome == "ok" and not any(v is not None for v in values.values()):
            raise InputError(
                "an ok run needs at least one metric value (NaN and empty count as none); "
                "record a run without one as outcome 'crash' with a reason",
                field="metrics",
            )
        return values

    def run(self, run_id: int) -> Run:
        if not -(2**63) <= int(run_id) < 2**63:
            raise NotFoundError(f"no run {run_id}")  # no database integer is that large
        runs = self._load_runs("WHERE r.id = ?", (int(run_id),))
        if not runs:
            raise NotFoundError(f"no run {run_id}")
        return runs[0]

    def runs(
        self,
        *,
        limit: int | None = None,
        version: str | None = None,
        intent: str | None = None,
        outcome: str | None = None,
        source: str | None = None,
    ) -> list[Run]:
        """Runs oldest first; with `limit`, only the newest that many."""
        clauses, params = [], []
        for column, value in (
            ("v.name", version), ("r.intent", intent), ("r.outcome", outcome), ("r.source", source)
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        if limit is None:
            return self._load_runs(where, params)
        newest = self._load_runs(where, params, order="DESC", limit=int(limit))
        return newest[::-1]

    def count_runs(self) -> int:
        return self._read("SELECT COUNT(*) FROM runs")[0][0]

    def run_totals(self) -> dict[str, Any]:
        """Counts and extent of all runs (for the brief), each read from an index.

        Returns a dict with `runs`, `crashes`, `validations`, `debug`, `first_at` and
        `last_at` (datetimes or None) and `tool_calls` (the largest count reported).
        """
        # Separate small queries rather than one SUM(CASE ...) pass: each is answered
        # from an index without reading the runs. Even MIN and MAX go apart: SQLite takes
        # a lone MIN or MAX from the index in one step, but scans every row for the two.
        count = "SELECT COUNT(*) FROM runs"
        first = self._read("SELECT MIN(at) FROM runs")[0][0]
        last = self._read("SELECT MAX(at) FROM runs")[0][0]
        return {
            "runs": self._read(count)[0][0],
            "crashes": self._read(f"{count} WHERE outcome = 'crash'")[0][0],
            "validations": self._read(f"{count} WHERE intent = 'validation'")[0][0],
            "debug": self._read(f"{count} WHERE intent = 'debug'")[0][0],
            "first_at": None if first is None else from_timestamp(first),
            "last_at": None if last is None else from_timestamp(last),
            "tool_calls": self._read("SELECT MAX(tool_calls) FROM runs")[0][0],
        }

    def best_point(self, objective: Objective, before: RunPoint | None = None) -> RunPoint | None:
        """The counted run with the best value of `objective`, earliest on a tie.

        With `before`, only runs earlier than that one count, so calling it again with the
        answer walks the staircase of records backwards, one indexed query a step.
        """
        order, beyond = ("DESC", "<") if objective.direction == "max" else ("ASC", ">")
        where, params = "", [objective.name]
        if before is not None:
            # Every earlier run is strictly worse than a record, so the value bound lets the
            # index start just below it instead of skipping every later, better run.
            at = to_timestamp(before.at)
            where = f"AND m.value {beyond} ? AND (r.at < ? OR (r.at = ? AND r.id < ?)) "
            params = [*params, before.values[objective.name], at, at, before.id]
        rows = self._read(
            "SELECT r.id, r.at, v.name, m.value FROM run_metrics m "
            "JOIN runs r ON r.id = m.run_id LEFT JOIN versions v ON v.id = r.version_id "
            "WHERE m.name = ? AND m.value IS NOT NULL AND r.intent = 'attempt' "
            "AND r.outcome = 'ok' AND (v.status IS NULL OR v.status <> 'failed') "
            f"{where}ORDER BY m.value {order}, r.at, r.id LIMIT 1",
            params,
        )
        if not rows:
            return None
        run_id, at, version, value = rows[0]
        return RunPoint(run_id, from_timestamp(at), version, {objective.name: value}, True)

    def _load_runs(
        self, where: str, params: Sequence[Any], order: str = "ASC", limit: int | None = None
    ) -> list[Run]:
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs r LEFT JOIN versions v ON v.id = r.version_id "
            f"{where} ORDER BY r.at {order}, r.id {order}"
        )
        if limit is not None:
            sql += f" LIMIT {max(limit, 0):d}"
        rows = self._read(sql, params)
        metrics, artifacts = self._run_details(
            [row[0] for row in rows], everything=not where and limit is None
        )
        return [
            Run(
                id=row[0], at=from_timestamp(row[1]), version=row[2],
                metrics=metrics.get(row[0], {}), intent=row[3], outcome=row[4], reason=row[5],
                commit=row[6], dirty=None if row[7] is None else bool(row[7]),
                diff_hash=row[8], tool_calls=row[9], duration=row[10], command=row[11],
                exit_status=row[12], description=row[13],
                artifacts=tuple(artifacts.get(row[0], ())), source=row[14],
                source_line=row[15], key=row[16], agent=row[17], session=row[18],
            )
            for row in rows
        ]

    def _run_details(
        self, run_ids: list[int], everything: bool
    ) -> tuple[dict[int, dict[str, float | None]], dict[int, list[str]]]:
        metrics: dict[int, dict[str, float | None]] = defaultdict(dict)
        artifacts: dict[int, list[str]] = defaultdict(list)
        if everything:
            # One scan beats thousands of IN (...) lookups when every run is wanted.
            metric_rows = self._read("SELECT run_id, name, value FROM run_metrics")
            artifact_rows = self._read("SELECT run_id, path FROM run_artifacts ORDER BY path")
        else:
            metric_rows, artifact_rows = [], []
            for chunk in iterate_chunks(run_ids, _CHUNK):
                marks = ", ".join("?" * len(chunk))
                metric_rows += self._read(
                    f"SELECT run_id, name, value FROM run_metrics WHERE run_id IN ({marks})", chunk
                )
                artifact_rows += self._read(
                    f"SELECT run_id, path FROM run_artifacts WHERE run_id IN ({marks}) "
                    "ORDER BY path",
                    chunk,
                )
        for run_id, name, value in metric_rows:
            metrics[run_id][name] = value
        for run_id, path in artifact_rows:
            artifacts[run_id].append(path)
        return metrics, artifacts

    # -- frontier ---------------------------------------------------------------------

    def run_points(self) -> list[RunPoint]:
        """Every run reduced to what the frontier needs, in time order."""
        rows = self._read(
            "SELECT r.id, r.at, v.name, v.status, r.intent, r.outcome FROM runs r "
            "LEFT JOIN versions v ON v.id = r.version_id ORDER BY r.at, r.id"
        )
        values: dict[int, dict[str, float | None]] = defaultdict(dict)
        for run_id, name, value in self._read("SELECT run_id, name, value FROM run_metrics"):
            values[run_id][name] = value
        return [
            RunPoint(
                id=run_id,
                at=from_timestamp(at),
                version=version,
                values=values.get(run_id, {}),
                counted=is_counted(intent, outcome, status),
            )
            for run_id, at, version, status, intent, outcome in rows
        ]

    def frontier(self) -> dict[str, Any]:
        """Staircases per objective and, for two or more, the Pareto set and hypervolume.

        Returns the JSON shape of `ridgeline frontier --json`: `objectives`, a list with
        `name`, `direction`, `best`, `records` and `headroom` for each, plus `pareto` and
        `hypervolume` when there are two objectives or more.
        """
        return compute_frontier(self.objectives(), self.run_points())

    # -- memory: lessons and notes ----------------------------------------------------
    # The logic lives in ridgeline.recall; these methods only name the public API.

    def add_lesson(
        self,
        text: str,
        *,
        run: int | None = None,
        tags: Sequence[str] = (),
        scope: str = "ledger",
    ) -> MemoryItem:
        """Write down a rule learned from a crash or a failure, with the run that taught it.

        A lesson that repeats one of the same scope (same words, or word sets at least
        `ridgeline.recall.text.DUPLICATE_THRESHOLD` alike) is not stored twice: the
        earlier lesson is returned with its `seen` count raised and the new wording, run
        and tags recorded in its history.

        Args:
            text: the lesson, at most 1 MiB of UTF-8 text.
            run: the run that taught it.
            tags: labels to filter by.
            scope: "ledger", "agent:NAME" or "session:ID".

        Raises:
            InputError: empty, binary or oversized text, or a bad scope or tag.
            NotFoundError: no such run.
        """
        return memory.add_item(self, "lesson", _redacted(text), run=run, tags=tags, scope=scope)

    def add_note(
        self,
        text: str,
        *,
        tags: Sequence[str] = (),
        run: int | None = None,
        scope: str = "ledger",
    ) -> MemoryItem:
        """Write a free-form note, tagged for search; arguments as for `add_lesson`."""
        return memory.add_item(self, "note", _redacted(text), run=run, tags=tags, scope=scope)

    def update_note(
        self, item_id: int, *, text: str | None = None, tags: Sequence[str] | None = None
    ) -> MemoryItem:
        """Change a note's (or lesson's) text or replace its tags; history keeps the old.

        Raises:
            NotFoundError: no such item, or it was forgotten.
        """
        return memory.update_item(self, item_id, text=_redacted(text), tags=tags)

    update_lesson = update_note

    def forget(self, item_id: int) -> MemoryItem:
        """Hide a lesson or note from lists and search; its history is kept."""
        return memory.forget_item(self, item_id)

    def memory_item(self, item_id: int) -> MemoryItem:
        """One lesson or note by id, forgotten or not."""
        return memory.get_item(self, item_id)

    def memory_history(self, item_id: int) -> list[memory.MemoryChange]:
        """Every change to a lesson or note, oldest first."""
        return memory.history(self, item_id)

    def lessons(self, *, tag: str | None = None, scope: str | None = None) -> list[MemoryItem]:
        """Every lesson that has not been forgotten, oldest first."""
        return memory.list_items(self, "lesson", tag=tag, scope=scope)

    def notes(self, tag: str | None = None, *, scope: str | None = None) -> list[MemoryItem]:
        """Every note that has not been forgotten, oldest first; only those tagged `tag`."""
        return memory.list_items(self, "note", tag=tag, scope=scope)

    def search(
        self,
        query: str,
        *,
        kinds: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        scope: str | None = None,
        since: datetime | str | float | None = None,
        until: datetime | str | float | None = None,
        limit: int = 10,
        mode: str = "auto",
    ) -> list[recall_search.SearchHit]:
        """Lessons, notes and run descriptions that match a query, best first.

        Args:
            query: words in any form; quotes, `*`, `-`, `:` and the like are plain text.
            kinds: any of "lesson", "note", "run"; all three by default.
            tags: only items carrying every one of these tags (runs carry none).
            scope: only items of this scope; for runs, "agent:NAME" and "session:ID"
                match the run's agent or session.
            since, until: only items created (runs: run) within these times.
            limit: at most this many hits.
            mode: "bm25" (full text), "vector", "hybrid" (both, fused by reciprocal
                rank), or "auto": hybrid when the `vector` extra is installed, else bm25.

        Returns:
            `SearchHit`s with `item` (a `MemoryItem`; kind "run" for a run, whose id is
            the run's) and `score` (higher is better, comparable within one search).

        Raises:
            InputError: a bad filter, or vector search without the `vector` extra.
        """
        filters = recall_search.make_filters(kinds, tags, scope, since, until)
        return recall_search.search(self, query, filters, limit=limit, mode=mode)

    # -- events and settings ----------------------------------------------------------

    def add_event(
        self,
        kind: str,
        data: Mapping[str, Any] | None = None,
        *,
        at: datetime | str | float | None = None,
        key: str | None = None,
    ) -> Event:
        """Note something that happened to the agent (a compaction, a session start).

        With a `key`, a second event of the same key is not stored again.
        """
        kind = _clean_name(kind, "kind")
        timestamp = parse_time(at)
        payload = json.dumps(dict(data or {}), sort_keys=True, default=str)
        with self._write() as cursor:
            row = cursor.execute(
                "INSERT INTO events (at, kind, data, key) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING RETURNING id",
                (timestamp, kind, payload, key),
            )
            if not row:
                row = cursor.execute("SELECT id FROM events WHERE key = ?", (key,))
        return Event(row[0][0], from_timestamp(timestamp), kind, json.loads(payload))

    def events(self, kind: str | None = None) -> list[Event]:
        where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        rows = self._read(f"SELECT id, at, kind, data FROM events {where} ORDER BY at, id", params)
        return [Event(i, from_timestamp(at), k, json.loads(d)) for i, at, k, d in rows]

    def get_setting(self, name: str, default: Any = None) -> Any:
        rows = self._read("SELECT value FROM settings WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, name: str, value: Any) -> None:
        """Store a ledger-wide setting (benchmark patterns, budgets) as JSON."""
        with self._write() as cursor:
            cursor.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (_clean_name(name, "setting"), json.dumps(value)),
            )

"""OpenEvolve checkpoints: the program database as versions with parents and scores.

OpenEvolve saves its state as a folder `checkpoint_N/` holding `metadata.json` (the
islands, the archive, `best_program_id`, `last_iteration`) and `programs/<id>.json`, one
file per program (`id`, `parent_id`, `generation`, `iteration_found`, `timestamp`,
`metrics`, the code, and fields this reader ignores), beside `best_program_info.json`.

Each program becomes a version named by its id, with its parent as parent and its island
as regime (`island 2`), and its metrics become one run (key `evolve:<id>`, so a second
import of the same or a later checkpoint adds only new programs). Numeric metrics only;
OpenEvolve maximizes `combined_score`, which is declared as an objective to maximize when
the ledger has none of that name. Directions of the other metrics are not written down
anywhere in a checkpoint, so they are left for the user to declare.

Accepted inputs: a checkpoint folder, a folder of `checkpoint_*` folders (the newest is
read), the metadata file, a single program file, or a best-program record; each is
recognised by its content.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

from ridgeline.errors import InputError

logger = logging.getLogger(__name__)

NAME = "openevolve"
SCORE = "combined_score"

_CHECKPOINT_DIR = re.compile(r"checkpoint_(\d+)$")


@dataclasses.dataclass
class Program:
    id: str
    parent: str | None
    metrics: dict[str, float]
    at: float | None
    generation: int | None
    iteration: int | None
    source: str
    island: int | None = None


@dataclasses.dataclass
class Checkpoint:
    """What one checkpoint holds: programs with scores, and ids known only by name."""

    source: str
    programs: dict[str, Program] = dataclasses.field(default_factory=dict)
    islands: dict[str, int] = dataclasses.field(default_factory=dict)
    best: str | None = None
    last_iteration: int | None = None


def is_program(data: Any) -> bool:
    return isinstance(data, dict) and "id" in data and isinstance(data.get("metrics"), dict) and (
        "parent_id" in data or "generation" in data or "iteration_found" in data
    )


def is_metadata(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("islands"), list) and (
        "archive" in data or "best_program_id" in data
    )


def looks_like_checkpoint(path: Path) -> bool:
    """True for anything `read_checkpoint` accepts, judged by content."""
    if path.is_dir():
        return _checkpoint_folder(path) is not None
    # Checkpoint files are small; a large file is a transcript, not worth parsing here.
    if path.stat().st_size > 16 * 1024 * 1024:
        return False
    try:
        data = _load(path)
    except InputError:
        return False
    return is_program(data) or is_metadata(data)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Programs, islands and the best program from a checkpoint in any accepted shape.

    Raises:
        InputError: the path holds no OpenEvolve checkpoint, naming it.
    """
    path = Path(path)
    checkpoint = Checkpoint(source=str(path))
    if path.is_dir():
        folder = _checkpoint_folder(path)
        if folder is None:
            raise InputError("no OpenEvolve checkpoint (metadata.json or programs/) here",
                             file=str(path))
        _read_folder(folder, checkpoint)
        return checkpoint
    data = _load(path)
    if is_metadata(data):
        _read_metadata(data, checkpoint)
        sibling = path.parent / "programs"
        if sibling.is_dir():
            _read_programs(sibling, checkpoint)
    elif is_program(data):
        _add_program(data, str(path), checkpoint)
    else:
        raise InputError(
            "not an OpenEvolve checkpoint: expected metadata with 'islands' or a program "
            "with 'id', 'metrics' and 'parent_id'",
            file=str(path),
        )
    return checkpoint


def _checkpoint_folder(path: Path) -> Path | None:
    if (path / "metadata.json").is_file() or (path / "programs").is_dir():
        return path
    numbered = []
    for child in path.iterdir():
        match = _CHECKPOINT_DIR.search(child.name)
        if child.is_dir() and match:
            numbered.append((int(match.group(1)), child))
    if not numbered:
        nested = path / "checkpoints"
        return _checkpoint_folder(nested) if nested.is_dir() else None
    return max(numbered)[1]


def _read_folder(folder: Path, checkpoint: Checkpoint) -> None:
    metadata = folder / "metadata.json"
    if metadata.is_file():
        _read_metadata(_load(metadata), checkpoint)
    if (folder / "programs").is_dir():
        _read_programs(folder / "programs", checkpoint)
    best = folder / "best_program_info.json"
    if best.is_file():
        data = _load(best)
        if is_program(data):
            _add_program(data, str(best), checkpoint)


def _read_metadata(data: dict[str, Any], checkpoint: Checkpoint) -> None:
    for island, members in enumerate(data.get("islands") or []):
        for program_id in members or []:
            checkpoint.islands[str(program_id)] = island
    for program_id in data.get("archive") or []:
        checkpoint.islands.setdefault(str(program_id), -1)
    best = data.get("best_program_id")
    checkpoint.best = str(best) if best else None
    if isinstance(data.get("last_iteration"), int):
        checkpoint.last_iteration = data["last_iteration"]


def _read_programs(folder: Path, checkpoint: Checkpoint) -> None:
    for file in sorted(folder.glob("*.json")):
        try:
            data = _load(file)
        except InputError as error:
            # One unreadable program (a crash mid-save) must not lose the others.
            logger.warning("skipping %s", error)
            continue
        if is_program(data):
            _add_program(data, str(file), checkpoint)


def _add_program(data: dict[str, Any], source: str, checkpoint: Checkpoint) -> None:
    metrics = {
        str(name): float(value)
        for name, value in data["metrics"].items()
        if isinstance(value, int | float) and not isinstance(value, bool)
        and math.isfinite(float(value))
    }
    parent = data.get("parent_id")
    program = Program(
        id=str(data["id"]),
        parent=str(parent) if parent else None,
        metrics=metrics,
        at=_number(data.get("timestamp")),
        generation=data.get("generation") if isinstance(data.get("generation"), int) else None,
        iteration=_iteration(data),
        source=source,
    )
    checkpoint.programs[program.id] = program


def _iteration(data: dict[str, Any]) -> int | None:
    for field in ("iteration_found", "iteration"):
        if isinstance(data.get(field), int):
            return data[field]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as stream:
            return json.loads(stream.read())
    except ValueError as error:
        raise InputError(f"not valid JSON ({error})", file=str(path),
                         line=getattr(error, "lineno", None)) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", file=str(path)) from None


# -- into the ledger ---------------------------------------------------------------------


def import_checkpoint(ledger: Any, path: str | Path) -> dict[str, Any]:
    """Record a checkpoint's programs as versions (with parents) and runs (with scores).

    Returns:
        Counts: `versions` (named in the checkpoint), `runs` (new runs written),
        `best` (the best program's id, if the checkpoint names one).
    """
    checkpoint = read_checkpoint(path)
    runs_before = ledger.count_runs()
    names = set(checkpoint.islands) | set(checkpoint.programs)
    with ledger.transaction():
        if any(SCORE in p.metrics for p in checkpoint.programs.values()):
            if SCORE not in {o.name for o in ledger.objectives()}:
                ledger.add_objective(SCORE, "max")
        for name in sorted(names, key=lambda n: _order(checkpoint, n)):
            _record_program(ledger, checkpoint, name)
    return {
        "format": NAME,
        "versions": len(names),
        "runs": ledger.count_runs() - runs_before,
        "best": checkpoint.best,
    }


def _order(checkpoint: Checkpoint, name: str) -> tuple[float, str]:
    program = checkpoint.programs.get(name)
    return (program.at if program and program.at is not None else -1.0, name)


def _record_program(ledger: Any, checkpoint: Checkpoint, name: str) -> None:
    program = checkpoint.programs.get(name)
    island = checkpoint.islands.get(name)
    regime = f"island {island}" if island is not None and island >= 0 else None
    description = None
    if program is not None and program.generation is not None:
        description = f"OpenEvolve generation {program.generation}"
        if program.iteration is not None:
            description += f", iteration {program.iteration}"
    ledger.set_version(
        name,
        parents=[program.parent] if program and program.parent else None,
        regime=regime,
        status="committed" if name == checkpoint.best else None,
        description=description,
    )
    if program is None or not program.metrics:
        return
    ledger.record(
        version=name,
        metrics=program.metrics,
        at=program.at,
        description="imported from an OpenEvolve checkpoint",
        source=program.source,
        source_line=1,
        key=f"evolve:{name}",
        agent="openevolve",
    )

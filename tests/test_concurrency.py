"""Many agents writing one ledger at once: nothing lost, nothing doubled, frontier sound."""

from __future__ import annotations

import contextlib
import multiprocessing
import subprocess
import time
from collections.abc import Iterator

import pytest

import ridgeline
from ridgeline.errors import StorageError

WRITERS = 8
RUNS_PER_WRITER = 1000
RETRY_EVERY = 25  # every so many runs the writer sends the same run again, as after a timeout


def _value(writer: int, index: int) -> float:
    # Interleaved and rising, so records keep being set while the writers run.
    return index + writer / WRITERS


def _write_runs(location: str, writer: int, start: multiprocessing.Event) -> int:
    with ridgeline.open(location) as ledger:
        start.wait()
        for index in range(RUNS_PER_WRITER):
            key = f"w{writer}-{index}"
            run = ledger.record(version=f"agent{writer}",
                                metrics={"score": _value(writer, index)}, key=key)
            if index % RETRY_EVERY == 0:
                again = ledger.record(version=f"agent{writer}",
                                      metrics={"score": _value(writer, index)}, key=key)
                assert again.id == run.id
    return RUNS_PER_WRITER


def _watch_frontier(ledger: ridgeline.Ledger, writers: list) -> list[tuple[int, float, list]]:
    """Frontier readings taken while the writers run: (runs seen, best, records)."""
    readings = []
    while any(w.is_alive() for w in writers) or not readings:
        seen = ledger.count_runs()
        item = ledger.frontier()["objectives"][0]
        best = item["best"]["value"] if item["best"] else float("-inf")
        readings.append((seen, best, [r["value"] for r in item["records"]]))
        time.sleep(0.05)
    return readings


def test_eight_writers_lose_and_double_nothing(db_location):
    with ridgeline.open(db_location) as ledger:
        ledger.add_objective("score", "max")
        context = multiprocessing.get_context("spawn")
        start = context.Event()
        writers = [
            context.Process(target=_write_runs, args=(db_location, i, start))
            for i in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        start.set()
        readings = _watch_frontier(ledger, writers)
        for writer in writers:
            writer.join(timeout=120)

        assert [w.exitcode for w in writers] == [0] * WRITERS
        keys = [row[0] for row in ledger.storage.query("SELECT key FROM runs")]
        expected = {f"w{w}-{i}" for w in range(WRITERS) for i in range(RUNS_PER_WRITER)}
        assert len(keys) == WRITERS * RUNS_PER_WRITER
        assert set(keys) == expected
        final = ledger.frontier()["objectives"][0]

    _check_readings(readings)
    assert final["best"]["value"] == _value(WRITERS - 1, RUNS_PER_WRITER - 1)


def _check_readings(readings: list[tuple[int, float, list]]) -> None:
    for (seen, best, records), (later_seen, later_best, _) in zip(readings, readings[1:]):
        assert later_seen >= seen, "a reader saw runs disappear"
        assert later_best >= best, "the best value went down while writers ran"
    for _, best, records in readings:
        # A staircase: each record beats the one before, and the last is the best.
        assert all(b > a for a, b in zip(records, records[1:]))
        assert not records or records[-1] == best


# -- idempotency keys ------------------------------------------------------------------


class _LostAcknowledgement:
    """A storage whose next transaction commits, then fails as if the reply never came."""

    def __init__(self, storage) -> None:
        self._storage = storage
        self.armed = True

    def __getattr__(self, name):
        return getattr(self._storage, name)

    @contextlib.contextmanager
    def transaction(self) -> Iterator:
        with self._storage.transaction() as cursor:
            yield cursor
        if self.armed:
            self.armed = False
            raise StorageError("connection lost before the commit was acknowledged")


def test_retry_after_a_lost_acknowledgement_is_not_counted_twice(ledger):
    flaky = _LostAcknowledgement(ledger.storage)
    client = ridgeline.Ledger(flaky)

    with pytest.raises(StorageError, match="acknowledged"):
        client.record(version="v1", metrics={"score": 1.0}, key="attempt-7")
    retried = client.record(version="v1", metrics={"score": 1.0}, key="attempt-7")

    assert ledger.count_runs() == 1
    assert [run.id for run in ledger.runs()] == [retried.id]
    assert retried.key == "attempt-7" and retried.metrics == {"score": 1.0}


def test_record_command_with_the_same_key_stores_one_run(ridgeline_bin, db_location):
    command = [ridgeline_bin, "--db", db_location, "record", "--version", "v1",
               "--metric", "score=3.5", "--key", "bench-42", "--json"]

    first = subprocess.run(command, capture_output=True, text=True, check=False)
    second = subprocess.run(command, capture_output=True, text=True, check=False)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    with ridgeline.open(db_location) as ledger:
        assert ledger.count_runs() == 1


def _send_shared_keys(location: str, start: multiprocessing.Event) -> list[int]:
    with ridgeline.open(location) as ledger:
        start.wait()
        return [ledger.record(version="v", metrics={"score": float(i)}, key=f"shared-{i}").id
                for i in range(50)]


def test_writers_racing_on_the_same_keys_store_each_run_once(db_location):
    ridgeline.open(db_location).close()  # create the schema before the race
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(4) as pool:
        pending = [pool.apply_async(_send_shared_keys, (db_location, start)) for _ in range(4)]
        start.set()
        answers = [result.get(timeout=120) for result in pending]

    with ridgeline.open(db_location) as ledger:
        assert ledger.count_runs() == 50
    assert all(ids == answers[0] for ids in answers)

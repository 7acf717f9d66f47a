"""A writer killed with SIGKILL at random moments never costs an acknowledged run.

Each round forks a writer that records runs (alone and in groups) and, once a call has
returned, writes the run's key to a pipe: that key was acknowledged. The test kills the
writer at a random moment, then reopens the ledger and checks that it passes its
integrity check, holds every acknowledged key, and holds each group whole or not at all.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import defaultdict

import pytest

import ridgeline

ROUNDS = 50
GROUP = 4  # runs written in one transaction


def _writer(location: str, round_number: int, ack_fd: int) -> None:
    with ridgeline.open(location) as ledger:
        for index in range(100_000):
            key = f"r{round_number}-{index}"
            if index % 3 == 2:
                with ledger.transaction():
                    for part in range(GROUP):
                        ledger.record(version=f"v{round_number}", metrics={"x": float(index)},
                                      key=f"{key}-g{part}", artifacts=[f"logs/{key}.txt"])
                acknowledged = [f"{key}-g{part}" for part in range(GROUP)]
            else:
                ledger.record(version=f"v{round_number}", metrics={"x": float(index)}, key=key)
                acknowledged = [key]
            if index % 10 == 0:
                ledger.add_note(f"note {key}", tags=["crash-test"])
            os.write(ack_fd, "".join(k + "\n" for k in acknowledged).encode())


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def _kill_one_writer(location: str, round_number: int, rng: random.Random) -> list[str]:
    """Run a writer, SIGKILL it at a random moment, and return the keys it acknowledged."""
    read_fd, write_fd = os.pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_writer, args=(location, round_number, write_fd)
    )
    process.start()
    os.close(write_fd)
    # Early kills land while the ledger opens (or migrates), later ones mid-write.
    time.sleep(rng.uniform(0.0, 0.3))
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert process.exitcode == -signal.SIGKILL
    return _read_all(read_fd).split()


def _check_after_crash(location: str, acknowledged: set[str]) -> None:
    with ridgeline.open(location) as ledger:
        problems = ledger.storage.integrity_check()
        keys = {row[0] for row in ledger.storage.query("SELECT key FROM runs")}

    assert problems == []
    assert acknowledged <= keys, f"lost acknowledged runs: {sorted(acknowledged - keys)[:5]}"
    groups: dict[str, int] = defaultdict(int)
    for key in keys:
        if "-g" in key:
            groups[key.rsplit("-g", 1)[0]] += 1
    assert all(count == GROUP for count in groups.values()), "a group landed in part"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() and SIGKILL")
def test_killed_writer_never_loses_an_acknowledged_run(db_location):
    rng = random.Random(20260420)
    acknowledged: set[str] = set()
    for round_number in range(ROUNDS):
        acknowledged |= set(_kill_one_writer(db_location, round_number, rng))
        _check_after_crash(db_location, acknowledged)

    # The writers did get work done between the kills, so the checks above had teeth.
    assert len(acknowledged) > ROUNDS

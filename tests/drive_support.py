"""Git repositories with a controllable benchmark, for the bench/validate/status tests.

The benchmark script is committed into the repository; how it behaves is set from
outside the repository through a JSON control file named by BENCH_CONTROL, so changing
it never dirties the tree. Its metric is drawn from a seeded normal distribution (the
run index, kept in a counter beside the control file, is part of the seed), so noisy
runs are reproducible and fast.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

BENCH_SCRIPT = '''\
import json, math, os, random, sys, time, pathlib
control_path = pathlib.Path(os.environ["BENCH_CONTROL"])
control = json.loads(control_path.read_text())
counter = control_path.with_suffix(".count")
index = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(index + 1))
variant = pathlib.Path("variant.txt").read_text().strip()
rng = random.Random(control.get("seed", 0) * 100003 + index)
value = control.get("centre", 100.0) * control.get("slowdown", {}).get(variant, 1.0)
value *= 1 + rng.gauss(0, control.get("noise", 0.02))
time.sleep(control.get("sleep", 0))
print("bench starting", variant)
print("to stderr", file=sys.stderr)
shape = control.get("shape", "kv")
name = control.get("metric", "latency_ms")
if control.get("nan"):
    value = math.nan
if shape == "kv":
    print(f"{name}:          {value:.6f}")
elif shape == "json":
    print(json.dumps({name: value, "ok": True}))
elif shape == "custom":
    print(f"RESULT {name}={value:.6f}")
sys.exit(control.get("exit", 0))
'''


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(path: Path, variant: str = "v1") -> Path:
    """A fresh repository holding the benchmark script and a variant file, committed."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.email", "bench@example.invalid")
    git(path, "config", "user.name", "Bench")
    git(path, "config", "commit.gpgsign", "false")
    (path / "bench.py").write_text(BENCH_SCRIPT)
    commit_variant(path, variant)
    return path


def commit_variant(repo: Path, variant: str) -> str:
    """Commit a new variant of the code; returns the new commit id."""
    (repo / "variant.txt").write_text(variant + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", variant)
    return git(repo, "rev-parse", "HEAD")


def set_control(control: Path, **settings: Any) -> None:
    """Rewrite the control file, keeping the run counter."""
    control.write_text(json.dumps(settings))


def bench_env(control: Path) -> dict[str, str]:
    return {**os.environ, "BENCH_CONTROL": str(control)}

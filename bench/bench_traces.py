"""Benchmark: analysing a 1 GB transcript in bounded memory.

Builds a transcript of about 1 GB in a temporary folder by repeating the real Claude Code
sample, runs `analyze_trace` on it in a child process (so `ru_maxrss` is that run's own
peak), and compares with a naive peer that `json.loads` every line into a list, on a
smaller file so that the peer fits in memory. Prints a table and the ratios; the folder
is deleted afterwards.

    .venv/bin/python bench/bench_traces.py [--gigabytes 1.0] [--peer-megabytes 200]

Targets: under 200 MB resident, at least 50 MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (ROOT.parent / "shared" / "data" / "traces" / "claude-code"
          / "local-web-services__local-web-services__eb-92d46a5ddb-0-full.jsonl")

RIDGELINE_CHILD = """
import json, resource, sys, time
from ridgeline.readers.traces import analyze_trace
start = time.perf_counter()
analysis = analyze_trace(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "tool_calls": analysis.tool_calls,
                  "compactions": len(analysis.compactions),
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# The peer: what a script does without thinking about size.
NAIVE_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as stream:
    events = [json.loads(line) for line in stream if line.strip()]
tool_calls = sum(
    1 for event in events if event.get("type") == "assistant"
    for part in (event.get("message") or {}).get("content") or []
    if isinstance(part, dict) and part.get("type") == "tool_use")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "tool_calls": tool_calls, "compactions": None,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def build(path: Path, target_bytes: int) -> int:
    """Repeat the sample until the file reaches `target_bytes`; return its size."""
    sample = SAMPLE.read_bytes()
    written = 0
    with path.open("wb") as stream:
        while written < target_bytes:
            stream.write(sample)
            written += len(sample)
    return written


def measure(code: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    result = json.loads(done.stdout)
    result["bytes"] = path.stat().st_size
    result["mb_per_s"] = result["bytes"] / 1e6 / result["seconds"]
    result["peak_mb"] = result["peak_kib"] / 1024
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--peer-megabytes", type=float, default=200.0)
    options = parser.parse_args()
    if not SAMPLE.is_file():
        print(f"sample transcript not found at {SAMPLE}", file=sys.stderr)
        return 2

    folder = Path(tempfile.mkdtemp(prefix="ridgeline-bench-traces-"))
    try:
        big_bytes = int(options.gigabytes * 1e9)
        peer_bytes = int(options.peer_megabytes * 1e6)
        free = shutil.disk_usage(folder).free
        if free < (big_bytes + peer_bytes) * 1.2:
            print(f"not enough free disk in {folder}: {free / 1e9:.1f} GB", file=sys.stderr)
            return 2
        big, small = folder / "big.jsonl", folder / "small.jsonl"
        build(big, big_bytes)
        build(small, peer_bytes)
        # Let the written gigabyte reach the disk first, so the reads do not compete
        # with its write-back.
        os.sync()
        rows = [
            ("ridgeline (1st read)", big.name, measure(RIDGELINE_CHILD, big)),
            ("ridgeline (2nd read)", big.name, measure(RIDGELINE_CHILD, big)),
            ("ridgeline", small.name, measure(RIDGELINE_CHILD, small)),
            ("naive json.loads list", small.name, measure(NAIVE_CHILD, small)),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report(rows)
    return 0


def report(rows: list[tuple[str, str, dict]]) -> None:
    from ridgeline.readers.traces import source

    print(f"parser: {source._fast_loads.__module__}")
    print(f"{'tool':<24}{'file':<12}{'MB':>8}{'seconds':>9}{'MB/s':>8}{'peak MB':>9}"
          f"{'tool calls':>12}")
    for tool, name, result in rows:
        print(f"{tool:<24}{name:<12}{result['bytes'] / 1e6:>8.0f}{result['seconds']:>9.2f}"
              f"{result['mb_per_s']:>8.1f}{result['peak_mb']:>9.1f}{result['tool_calls']:>12}")
    cold, big, small, naive = (row[2] for row in rows)
    print()
    for label, result in (("1st", cold), ("2nd", big)):
        print(f"1 GB, {label} read: {result['mb_per_s']:.1f} MB/s (target >= 50), "
              f"peak {result['peak_mb']:.1f} MB (target < 200)")
    print(f"speed ratio, ridgeline / naive (same file): "
          f"{small['mb_per_s'] / naive['mb_per_s']:.2f}x")
    print(f"peak memory ratio, naive / ridgeline (same file): "
          f"{naive['peak_mb'] / small['peak_mb']:.1f}x")
    naive_per_mb = naive["peak_mb"] / (naive["bytes"] / 1e6)
    print(f"naive peak memory extrapolated to the 1 GB file: "
          f"{naive_per_mb * big['bytes'] / 1e6 / 1024:.1f} GB")


if __name__ == "__main__":
    sys.exit(main())

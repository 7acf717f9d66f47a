"""`python -m ridgeline.hooks claude-code --db LEDGER`: the command installed hooks run.

It reads one hook payload as JSON on stdin and prints what the agent should see. It
stays off the click command line on purpose: a hook runs after every Bash call, and
loading every CLI module each time would be felt.
"""

from __future__ import annotations

import argparse
import json
import sys

from ridgeline.errors import RidgelineError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ridgeline.hooks")
    parser.add_argument("agent", choices=["claude-code"])
    parser.add_argument("--db", required=True, help="The ledger the hooks write to.")
    parser.add_argument("--bench-pattern", help="A regex that marks benchmark commands.")
    args = parser.parse_args(argv)
    try:
        payload = json.loads(sys.stdin.read() or "{}")
        if not isinstance(payload, dict):
            raise ValueError("expected one JSON object on stdin")
        from ridgeline.hooks.claude_code import handle

        result = handle(payload, args.db, args.bench_pattern)
    except Exception as error:  # noqa: BLE001
        # A hook must never break the agent's session: whatever went wrong (a locked
        # ledger, a bad payload, a bug), say so on stderr and let the agent carry on.
        print(f"ridgeline hook: {_describe(error)}", file=sys.stderr)
        return 0
    if result.stdout:
        print(result.stdout)
    if result.stderr:
        print(result.stderr, file=sys.stderr)
    return 0


def _describe(error: Exception) -> str:
    # Input problems read as a sentence; anything else keeps its class name, which is
    # what a bug report needs.
    if isinstance(error, json.JSONDecodeError):
        return f"the payload on stdin is not JSON ({error.msg} at line {error.lineno})"
    if isinstance(error, RidgelineError | ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    sys.exit(main())

"""What a shell command in a transcript stands for.

A transcript shows commands as text; this module decides which of them ran the
benchmark, which were ridgeline's own commands (the agent reading or writing its memory),
which rolled the workspace back, and what the agent claimed in prose. Nothing here runs
a command: it only reads the text.

The default benchmark heuristic: a command is a benchmark run when one of its parts
(split at `&&`, `;`, `|`) mentions a word that benchmark commands use (`bench`,
`benchmark`, a `*bench*` script, `hyperfine`, `perf stat`, `timeit`, `--benchmark`) or
runs `ridgeline bench`, unless that part's program only looks at or moves files (`ls`,
`cat`, `grep`, `git`, `cp`, ...) or is another ridgeline command. A ledger can replace it with the
settings `bench.command` (text the command contains) or `bench.pattern` (a regular
expression searched in the command), and `--bench-pattern` overrides both.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from ridgeline.errors import InputError

DEFAULT_BENCH_PATTERN = (
    r"(?i)(?:\bbench(?:mark)?s?\b|[\w/.-]*bench[\w.-]*\.(?:py|sh|js|ts|zig)\b|\bhyperfine\b"
    r"|\bperf\s+stat\b|\btimeit\b|--benchmark\b|\bridgeline\s+bench\b)"
)

_DEFAULT_BENCH = re.compile(DEFAULT_BENCH_PATTERN)
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;|\||\n")

# Programs that look at, move or edit files: a benchmark's name in their arguments is
# a file name, not a run.
_NOT_RUNNERS = {
    "ls", "cat", "less", "more", "head", "tail", "grep", "rg", "ag", "find", "fd", "sed",
    "awk", "vim", "vi", "nano", "emacs", "code", "echo", "printf", "mkdir", "cp", "mv",
    "rm", "touch", "wc", "diff", "git", "cd", "tree", "stat", "file", "chmod", "open",
    "du", "tar", "zip", "unzip", "sort", "uniq", "cut", "tee", "xargs",
}

# Ridgeline subcommands by what they do to memory.
_READS = {"brief", "status", "frontier", "runs", "versions", "lesson list", "note list",
          "recall", "search", "show", "regimes"}
_WRITES = {"record", "lesson add", "note add", "version set", "bench", "validate"}

# MCP tools may name the same actions verb first.
_MCP_ALIASES = {
    "add lesson": "lesson add", "add note": "note add", "record run": "record",
    "get brief": "brief", "set version": "version set", "get status": "status",
    "get frontier": "frontier", "list runs": "runs", "search memory": "recall",
}

_RIDGELINE = re.compile(
    r"(?:^|[\s;&|(`])(?:[\w./-]*/)?ridgeline(?:\s+--db\s+\S+)?\s+"
    r"(?P<sub>lesson\s+(?:add|list)|note\s+(?:add|list)|version\s+set|[a-z]+)(?P<rest>[^;&|\n]*)"
)

# `git reset --hard X`, `git checkout X` (not `-b`, not `-- path`), `git switch X`,
# `git restore --source X`: the workspace goes back to an older state.
_ROLLBACK = re.compile(
    r"\bgit\s+(?:-C\s+\S+\s+)?(?:reset\s+--hard(?:\s+(?P<reset>[^\s;&|]+))?"
    r"|checkout\s+(?!-b\b|-B\b|--\s)(?:-f\s+)?(?P<checkout>[^\s;&|-][^\s;&|]*+)(?!\s+--)"
    r"|switch\s+(?!-c\b|-C\b)(?P<switch>[^\s;&|]+)"
    r"|restore\s+--source[= ](?P<restore>[^\s;&|]+))"
)

_GIT_LOG = re.compile(r"\bgit\s+(?:-C\s+\S+\s+)?(?:log|show|reflog)\b")

# "best so far is 72.1 tok/s", "best: 0.9979", "new best 193.1", "our best result was 55".
_BEST_CLAIM = re.compile(
    r"(?i)\bbest\b[^0-9\n]{0,40}?(?P<value>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
)
_REGRESSION_WORDS = re.compile(
    r"(?i)\b(?:regress(?:ion|ed|es)?|slow(?:down|er)|got worse|performance drop|"
    r"dropped from|is worse than)\b"
)


def compile_bench_matcher(
    pattern: str | None = None, command: str | None = None
) -> Callable[[str], bool]:
    """A test for benchmark commands: `pattern` (a regex) or `command` (contained text),
    else the default heuristic.

    Raises:
        InputError: the pattern is not a valid regular expression.
    """
    if command and not pattern:
        needle = command.strip()
        return lambda text: needle in text
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise InputError(f"not a valid regular expression ({error}): {pattern!r}",
                             field="--bench-pattern") from None
        return lambda text: bool(regex.search(text))
    return _looks_like_benchmark


def _looks_like_benchmark(command: str) -> bool:
    """The default heuristic, applied to each part of a compound command, so that
    `ls bench/` or `cat bench.py` is not a benchmark run but `cd x && ./bench.sh` is."""
    for part in _COMMAND_SEPARATOR.split(command):
        words = part.split()
        while words and ("=" in words[0] and not words[0].startswith("-")):
            words = words[1:]  # `VAR=value cmd`: the program comes after the assignments
        if not words or words[0].rsplit("/", 1)[-1] in _NOT_RUNNERS:
            continue
        if words[0].rsplit("/", 1)[-1] == "ridgeline" and (len(words) < 2
                                                          or words[1] != "bench"):
            continue  # recording or reading memory is not running the benchmark
        if _DEFAULT_BENCH.search(part):
            return True
    return False


def classify(command: str) -> list[tuple[str, dict[str, Any]]]:
    """The events a shell command stands for, in the order they appear in it."""
    found: list[tuple[str, dict[str, Any]]] = []
    for match in _RIDGELINE.finditer(command):
        sub = " ".join(match.group("sub").split())
        found += ridgeline_event(sub, via="cli", rest=match.group("rest"))
    for match in _ROLLBACK.finditer(command):
        target = next((g for g in match.groups() if g), None)
        if target == "HEAD":
            continue  # checking out HEAD moves nothing
        found.append(("rollback", {"target": target, "command": match.group(0)[:200]}))
    if _GIT_LOG.search(command):
        found.append(("history", {"command": "git log"}))
    return found


def ridgeline_event(
    sub: str, *, via: str, rest: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """`ridgeline_read` or `ridgeline_write` for a subcommand, with what it names."""
    sub = _MCP_ALIASES.get(sub, sub)
    if sub in _READS:
        return [("ridgeline_read", {"command": sub, "via": via})]
    if sub not in _WRITES:
        return []
    data: dict[str, Any] = {"command": sub, "via": via}
    data.update(_record_options(rest, positional_version=sub == "version set"))
    return [("ridgeline_write", data)]


def _record_options(rest: str, positional_version: bool = False) -> dict[str, Any]:
    """`--version`, `--intent`, `--outcome`, `--status` and `--metric` of a ridgeline
    command; `version set` names its version as the first word instead."""
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    options: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    for index, word in enumerate(words):
        name, _, inline = word.partition("=")
        value = inline or (words[index + 1] if index + 1 < len(words) else "")
        if name in ("--version", "--intent", "--outcome", "--status") and value:
            options[name[2:]] = value
        elif positional_version and index == 0 and not word.startswith("-"):
            options["version"] = word
        elif word == "--metric" and value:
            metric, _, number = value.partition("=")
            try:
                metrics[metric] = float(number)
            except ValueError:
                pass
    if metrics:
        options["metrics"] = metrics
    return options


def claims_in(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Claims in the agent's prose: its best result, a regression it noticed."""
    found: list[tuple[str, dict[str, Any]]] = []
    best = _BEST_CLAIM.search(text)
    if best:
        found.append(("claim_best", {"value": float(best.group("value"))}))
    if _REGRESSION_WORDS.search(text):
        found.append(("flag_regression", {}))
    return found


def metrics_extractor(patterns: Sequence[str] | None = None) -> Callable[[str], dict[str, float]]:
    """Metric values from a benchmark's output, read the way `ridgeline bench` reads them."""
    from ridgeline.outputs import compile_patterns, extract_metrics

    compile_patterns(patterns or ())  # fail on a bad pattern now, not on the first run
    return lambda text: extract_metrics(text, patterns)

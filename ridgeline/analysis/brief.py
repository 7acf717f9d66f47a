"""The brief: a markdown digest of a ledger that never exceeds a token budget.

An agent reads the brief at the start of a session and after every compaction, so it must
say, in a fixed space, where the effort stands (objectives, the best version, records),
what was learned (lessons), what not to try again (rejected ideas, exhausted regimes,
crashes) and what to do next (advice).

Building it takes two steps. `gather` reads a bounded set of facts from the ledger with
aggregates and limited queries, so the cost does not grow with the number of runs. Then
`render` lays the facts out as sections of lines and cuts them to the budget in a fixed
order: the least important section loses its oldest lines first, then becomes a count,
then disappears; the objectives, the current best and the lessons are cut last. The same
ledger always gives the same text, byte for byte: every list has a total order and no
time is measured against the clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from ridgeline.analysis.advice import advise
from ridgeline.analysis.frontier import RunPoint, headroom, is_counted
from ridgeline.analysis.regimes import summarize_regimes
from ridgeline.errors import InputError
from ridgeline.ledger import Ledger
from ridgeline.models import MemoryItem, Objective, Run, Version
from ridgeline.tokens import count_tokens, tokenizer_name, truncate_to_tokens

DEFAULT_BUDGET = 1500
BUDGET_SETTING = "brief.budget"

# How much of each kind of fact is read at most: enough to fill any sensible budget, and
# the reason a ledger of 100,000 runs costs no more than one of 1,000.
MAX_RECORDS = 6
MAX_CRASHES = 30
MAX_EXPLORING = 30
MAX_FAILED = 200
MAX_VALIDATIONS = 6
MAX_ADVICE = 8
MAX_IDEAS_PER_REGIME = 6
MAX_TEXT = 160
REGIME_WINDOW = 300
# `advise` reads every run: about a second at 20,000 runs, far more beyond. Past this the
# brief points to `ridgeline advise` instead, so a session-start hook stays quick.
ADVICE_MAX_RUNS = 20_000


class ObjectiveFacts(NamedTuple):
    objective: Objective
    records: list[RunPoint]  # newest first, at most MAX_RECORDS
    more_records: bool


class BriefFacts(NamedTuple):
    """Everything the brief says, read from the ledger once."""

    totals: dict[str, Any]
    compactions: int
    objectives: list[ObjectiveFacts]
    best_version: Version | None
    best_run: Run | None
    lessons: list[MemoryItem]
    exploring: list[Version]  # newest first
    failed: list[Version]  # newest first
    exhausted: list[tuple[str, str]]  # (regime, why)
    crashes: list[Run]  # newest first
    validations: list[Run]  # newest first
    best_validations: list[Run]
    advice: list[Any]
    advice_skipped: bool = False


class Section(NamedTuple):
    """A heading and its lines, most important first; `rank` 1 is cut first."""

    title: str
    lines: list[str]
    rank: int
    keep: int  # lines never cut
    extra: int  # items beyond the lines, left unread (crashes past the newest few)
    what: str  # the items' name for "and N more ...", or "" for none


class Brief(NamedTuple):
    text: str
    tokens: int
    budget: int
    tokenizer: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


# -- reading the ledger -----------------------------------------------------------------


def build_brief(ledger: Ledger, budget: int = DEFAULT_BUDGET, *, advice: bool = True) -> Brief:
    """The brief of `ledger`, at most `budget` tokens long.

    Args:
        ledger: the ledger to digest.
        budget: the most tokens the text may take; a budget too small for the headlines
            gives as much of them as fits.
        advice: False to leave out the next steps, whose analysis reads every run.
    """
    text = render(gather(ledger, advice=advice), budget)
    return Brief(text, count_tokens(text), budget, tokenizer_name())


def default_budget(ledger: Ledger) -> int:
    """The ledger's `brief.budget` setting, else DEFAULT_BUDGET.

    Raises:
        InputError: the setting is not a whole number of at least 1.
    """
    budget = ledger.get_setting(BUDGET_SETTING, DEFAULT_BUDGET)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise InputError(f"expected a whole number of tokens, got {budget!r}",
                         field=BUDGET_SETTING)
    return budget


def gather(ledger: Ledger, *, advice: bool = True) -> BriefFacts:
    """Read the facts the brief needs, with queries whose cost is bounded."""
    totals = ledger.run_totals()
    skip_advice = advice and totals["runs"] > ADVICE_MAX_RUNS
    objectives = [_objective_facts(ledger, o) for o in ledger.objectives()]
    best_run, best_version = _current_best(ledger, objectives)
    versions = ledger.versions()
    best_name = best_run.version if best_run else None
    exploring = [
        v for v in reversed(versions) if v.status == "exploring" and v.name != best_name
    ]
    failed = [v for v in reversed(versions) if v.status == "failed"]
    best_validations = (
        ledger.runs(version=best_run.version, intent="validation", limit=MAX_VALIDATIONS)
        if best_run is not None and best_run.version else []
    )
    return BriefFacts(
        totals=totals,
        compactions=len(ledger.events("compaction")),
        objectives=objectives,
        best_version=best_version,
        best_run=best_run,
        lessons=ledger.lessons(),
        exploring=_with_runs(ledger, exploring[:MAX_EXPLORING]),
        failed=failed[:MAX_FAILED],
        exhausted=_exhausted_regimes(ledger, versions),
        crashes=ledger.runs(outcome="crash", limit=MAX_CRASHES)[::-1],
        validations=ledger.runs(intent="validation", limit=MAX_VALIDATIONS)[::-1],
        best_validations=best_validations[::-1],
        advice=_next_steps(ledger)[:MAX_ADVICE] if advice and not skip_advice else [],
        advice_skipped=skip_advice,
    )


def _objective_facts(ledger: Ledger, objective: Objective) -> ObjectiveFacts:
    # Walk the staircase backwards from the best: one indexed query per record.
    records: list[RunPoint] = []
    point = ledger.best_point(objective)
    while point is not None and len(records) < MAX_RECORDS:
        records.append(point)
        point = ledger.best_point(objective, before=point)
    return ObjectiveFacts(objective, records, point is not None)


def _current_best(
    ledger: Ledger, objectives: Sequence[ObjectiveFacts]
) -> tuple[Run | None, Version | None]:
    # The first objective declared is the primary one; its best run names the best version.
    for facts in objectives:
        if facts.records:
            run = ledger.run(facts.records[0].id)
            return run, ledger.version(run.version) if run.version else None
    return None, None


def _with_runs(ledger: Ledger, versions: list[Version]) -> list[Version]:
    # Versions named only as someone's parent, with nothing recorded, are not being explored.
    return [v for v in versions if v.description or ledger.runs(version=v.name, limit=1)]


def _exhausted_regimes(ledger: Ledger, versions: Sequence[Version]) -> list[tuple[str, str]]:
    """Regimes not worth another try, with the reason, newest first."""
    # Only the newest runs are read, so the cost stays flat as the ledger grows; a regime
    # with no run in the window is not judged here (`ridgeline regimes` reads them all).
    runs = ledger.runs(limit=REGIME_WINDOW)
    status = {v.name: v.status for v in versions}
    points = [
        RunPoint(r.id, r.at, r.version, r.metrics, is_counted(r.intent, r.outcome,
                                                                status.get(r.version)))
        for r in runs
    ]
    summaries = summarize_regimes(ledger.objectives(), versions, runs, points)
    exhausted = [
        (s.name, f"its last {len(s.streak)} attempts set no record and none came close "
                 f"(runs {', '.join(str(i) for i in s.streak)})")
        for s in summaries if s.exhausted
    ]
    return exhausted[::-1]


def _next_steps(ledger: Ledger) -> list[Any]:
    return advise(ledger)


# -- laying out -------------------------------------------------------------------------


def render(facts: BriefFacts, budget: int = DEFAULT_BUDGET) -> str:
    """The brief's markdown, cut to `budget` tokens (a pure function of `facts`)."""
    header = _header(facts)
    sections = _sections(facts)
    text = header
    for state in _cuts(sections):
        text = _layout(header, sections, state)
        if _estimate(header, sections, state) <= budget and count_tokens(text) <= budget:
            return text
    # Even the headlines do not fit: keep as much of the barest brief as the budget allows.
    return truncate_to_tokens(text, budget)


def _header(facts: BriefFacts) -> str:
    totals = facts.totals
    lines = ["# Ridgeline brief"]
    if not totals["runs"]:
        lines.append("No runs recorded yet. Record each benchmark run with ridgeline.")
        return "\n".join(lines) + "\n"
    span = f"from {_time(totals['first_at'])} to {_time(totals['last_at'])}"
    hours = (totals["last_at"] - totals["first_at"]).total_seconds() / 3600
    summary = (
        f"{_plural(totals['runs'], 'run')} {span} ({hours:.1f} h): {totals['crashes']} crashed, "
        f"{totals['validations']} validation, {totals['debug']} debug"
    )
    if totals["tool_calls"]:
        summary += f"; {totals['tool_calls']} tool calls"
    if facts.compactions:
        summary += f"; {_plural(facts.compactions, 'compaction')} so far"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"


def _sections(facts: BriefFacts) -> list[Section]:
    # Order here is reading order; `rank` is cutting order (1 goes first).
    candidates = [
        _objectives_section(facts),
        _best_section(facts),
        _lessons_section(facts),
        _advice_section(facts),
        _exploring_section(facts),
        _exhausted_section(facts),
        _rejected_section(facts),
        _crashes_section(facts),
        _validation_section(facts),
    ]
    return [s for s in candidates if s is not None and s.lines]


def _objectives_section(facts: BriefFacts) -> Section | None:
    lines = [_objective_line(f) for f in facts.objectives]
    records = [_records_line(f) for f in facts.objectives if len(f.records) > 1]
    # The headline of every objective stays; only the staircases may go.
    return Section("Objectives", lines + records, 7, len(lines), 0, "")


def _objective_line(facts: ObjectiveFacts) -> str:
    objective = facts.objective
    unit = f", {objective.unit}" if objective.unit else ""
    parts = [f"- **{objective.name}** ({objective.direction}{unit}):"]
    if facts.records:
        best = facts.records[0]
        value = best.values[objective.name]
        parts.append(f"best {_number(value)} by {best.version or '-'} (run {best.id});")
    else:
        parts.append("no counted run yet;")
    parts.append(f"baseline {_number(objective.baseline)}, ideal {_number(objective.ideal)}")
    room = headroom(objective, facts.records[0].values[objective.name]) if facts.records else None
    if room is not None:
        parts[-1] += f"; headroom {room:.0%} of the baseline-to-ideal gap"
    return " ".join(parts) + "."


def _records_line(facts: ObjectiveFacts) -> str:
    name = facts.objective.name
    steps = [f"{_number(p.values[name])} {p.version or '-'}" for p in facts.records]
    earlier = ", earlier ones too" if facts.more_records else ""
    arrow = " < " if facts.objective.direction == "max" else " > "
    return f"  - {name} records, newest first{earlier}: " + arrow.join(steps)


def _best_section(facts: BriefFacts) -> Section | None:
    run, version = facts.best_run, facts.best_version
    if run is None:
        return None
    commit = (version.commit if version else None) or run.commit
    line = f"- version **{run.version or '-'}**, commit {commit or 'not recorded'}, run {run.id}"
    line += f" at {_time(run.at)}"
    if version and version.regime:
        line += f"; regime {version.regime}"
    if version and version.parents:
        line += f"; parents {', '.join(version.parents)}"
    lines = [line + "."]
    about = (version.description if version else None) or run.description
    if about:
        lines.append(f"- what it does: {_clip(about)}")
    return Section("Current best", lines, 9, len(lines), 0, "")


def _lessons_section(facts: BriefFacts) -> Section | None:
    lessons = facts.lessons[::-1]  # newest first, so the oldest are summarised first
    lines = [_lesson_line(item) for item in lessons]
    return Section("Lessons (follow these)", lines, 8, 0, 0, "older lessons")


def _lesson_line(item: MemoryItem) -> str:
    source = f" (run {item.run})" if item.run is not None else ""
    return f"- {_clip(item.text)}{source}"


def _advice_section(facts: BriefFacts) -> Section | None:
    lines = [f"- {a.action}: {_clip(a.reason)}" for a in facts.advice]
    if facts.advice_skipped:
        lines.append("- run `ridgeline advise` for advice (left out: the ledger is large).")
    return Section("Next steps", lines, 6, 0, 0, "suggestions")


def _exploring_section(facts: BriefFacts) -> Section | None:
    lines = [f"- {_version_label(v)}" for v in facts.exploring]
    return Section("Being explored", lines, 3, 0, 0, "versions")


def _exhausted_section(facts: BriefFacts) -> Section | None:
    lines = [f"- {regime}: {why}. Do not try it again." for regime, why in facts.exhausted]
    return Section("Exhausted regimes", lines, 5, 0, 0, "regimes")


def _rejected_section(facts: BriefFacts) -> Section | None:
    groups: dict[str, list[str]] = {}
    for version in facts.failed:
        idea = _clip(version.description or version.name, 80)
        ideas = groups.setdefault(version.regime or "no regime", [])
        if _normal(idea) not in {_normal(i) for i in ideas}:
            ideas.append(idea)
    lines = []
    for regime, ideas in groups.items():
        shown = "; ".join(ideas[:MAX_IDEAS_PER_REGIME])
        extra = len(ideas) - MAX_IDEAS_PER_REGIME
        more = f"; and {extra} more" if extra > 0 else ""
        lines.append(f"- {regime}: {shown}{more}")
    return Section("Tried and rejected", lines, 4, 0, 0, "regimes")


def _crashes_section(facts: BriefFacts) -> Section | None:
    # One line per distinct reason, newest first: thirty timeouts say less than one line
    # that counts them.
    groups: dict[str, list[Run]] = {}
    for run in facts.crashes:
        reason = _clip(run.reason or "no reason given", 120)
        groups.setdefault(_normal(reason), []).append(run)
    taught = {item.run for item in facts.lessons if item.run is not None}
    lines = []
    for runs in groups.values():
        newest = runs[0]
        times = f"{len(runs)} times, " if len(runs) > 1 else ""
        learned = "; a lesson was written" if any(r.id in taught for r in runs) else ""
        lines.append(
            f"- {_clip(newest.reason or 'no reason given', 120)} ({times}latest run "
            f"{newest.id}, {newest.version or '-'}, {_time(newest.at)}{learned})"
        )
    extra = facts.totals["crashes"] - len(facts.crashes)
    return Section("Recent crashes", lines, 2, 0, extra, "older crashes")


def _validation_section(facts: BriefFacts) -> Section | None:
    lines, best = [], facts.best_run
    if best is not None and best.version:
        if facts.best_validations:
            lines.append(
                f"- best version {best.version}: latest {len(facts.best_validations)} "
                f"validation runs gave {_ranges(facts.best_validations)} (record "
                f"{_metrics(best)})."
            )
        else:
            lines.append(f"- best version {best.version} has no validation run yet.")
    others = [r for r in facts.validations if best is None or r.version != best.version]
    for run in others:
        lines.append(f"- run {run.id} ({run.version or '-'}, {_time(run.at)}): {_metrics(run)}")
    extra = facts.totals["validations"] - len(facts.validations)
    return Section("Validation", lines, 1, 0, extra, "validation runs")


# -- cutting to the budget --------------------------------------------------------------


def _cuts(sections: Sequence[Section]) -> Any:
    """States from the full brief to the barest, each one cut further than the last.

    A state maps a section's title to how many of its lines are shown; -1 drops the
    section. Sections are cut in rank order, each from its last (oldest) line.
    """
    state = {s.title: len(s.lines) for s in sections}
    yield dict(state)
    for section in sorted(sections, key=lambda s: s.rank):
        while state[section.title] > section.keep:
            state[section.title] -= 1
            yield dict(state)
        if section.keep == 0:
            state[section.title] = -1
            yield dict(state)


def _layout(header: str, sections: Sequence[Section], state: dict[str, int]) -> str:
    parts = [header]
    for section in sections:
        shown = state[section.title]
        if shown < 0:
            continue
        body = section.lines[:shown]
        hidden = len(section.lines) - shown + section.extra
        if hidden > 0 and section.what:
            body = [*body, f"- and {hidden} more {section.what}"]
        parts.append(f"\n## {section.title}\n" + "\n".join(body) + "\n")
    return "".join(parts)


_line_costs: dict[str, int] = {}


def _estimate(header: str, sections: Sequence[Section], state: dict[str, int]) -> int:
    # A cheap sum of per-line counts to skip states that are plainly too long; the exact
    # count of the whole text decides.
    total = _cost(header)
    for section in sections:
        shown = state[section.title]
        if shown >= 0:
            # The heading's marks and an "and N more" line cost about a dozen tokens.
            total += _cost(section.title) + 12 + sum(_cost(line) for line in section.lines[:shown])
    return total


def _cost(line: str) -> int:
    if line not in _line_costs:
        if len(_line_costs) > 10_000:
            _line_costs.clear()
        _line_costs[line] = count_tokens(line + "\n")
    return _line_costs[line]


# -- small formatting helpers -----------------------------------------------------------


def _version_label(version: Version) -> str:
    label = version.name
    if version.regime:
        label += f" [{version.regime}]"
    if version.parents:
        label += f" from {', '.join(version.parents)}"
    if version.description:
        label += f": {_clip(version.description, 100)}"
    return label


def _ranges(runs: Sequence[Run]) -> str:
    values: dict[str, list[float]] = {}
    for run in runs:
        for name, value in run.metrics.items():
            if value is not None:
                values.setdefault(name, []).append(value)
    spans = []
    for name, found in sorted(values.items()):
        low, high = min(found), max(found)
        span = _number(low) if low == high else f"{_number(low)}–{_number(high)}"
        spans.append(f"{name} {span}")
    return ", ".join(spans) or "no values"


def _metrics(run: Run) -> str:
    values = [f"{k}={_number(v)}" for k, v in sorted(run.metrics.items()) if v is not None]
    return ", ".join(values) or run.outcome


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%dT%H:%MZ")


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()

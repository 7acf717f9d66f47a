"""What to do next, read from the ledger alone, and where the workspace stands.

`advise()` returns a list of `Advice`, most pressing first. Each has an action, the
reason in one sentence, and the evidence (run ids, versions, values) a reader can check
against the ledger. Four kinds are given:

- `pivot`: a regime is exhausted (the rule is in `ridgeline.analysis.regimes`).
- `write-lesson`: two crashes or more share a reason and no lesson is linked to any of
  them. Reasons are compared with digits and hex ids blanked out, so `exit status 1`
  and `exit status 2` are one cluster.
- `validate`: committed versions never validated (or last found inconclusive).
- `budget`: how much of the budget (settings `budget.hours`, `budget.tool_calls`) is
  left, and whether it is time to validate. A third of the budget is kept for
  validation: the published 12-hour inference run spent its last four hours on it.
  Time used runs from the first run to the newest run or event, so a ledger of runs
  imported long after the fact is judged on its own clock.

`describe_workspace()` compares a checkout (HEAD and its history) with the ledger for
`ridgeline status`.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ridgeline.analysis import validation
from ridgeline.analysis.frontier import compute_frontier, staircase
from ridgeline.analysis.regimes import summarize_regimes
from ridgeline.ledger import Ledger
from ridgeline.models import Run, iso

HOURS_SETTING = "budget.hours"
TOOL_CALLS_SETTING = "budget.tool_calls"
VALIDATION_SHARE = 1 / 3
VALIDATION_REPEAT = 5
_VOLATILE = re.compile(r"0x[0-9a-f]+|[0-9a-f]{7,40}|\d+(?:\.\d+)?")


@dataclasses.dataclass(frozen=True)
class Advice:
    """One recommendation: `action` is a short verb phrase (`pivot`, `validate`,
    `write-lesson`, `budget`), `reason` a sentence, `evidence` what it rests on."""

    action: str
    reason: str
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "reason": self.reason, "evidence": self.evidence}


def advise(ledger: Ledger) -> list[Advice]:
    """Advice for the agent, most pressing first: pivots, lessons, validation, budget.

    Args:
        ledger: the ledger to read; nothing is written.

    Returns:
        A list of `Advice`, empty when there is nothing to say.
    """
    runs = ledger.runs()
    versions = ledger.versions()
    # Read once and shared: on a large ledger each read of every run costs a second.
    points = ledger.run_points()
    objectives = ledger.objectives()
    best = {item["name"]: item["best"]
            for item in compute_frontier(objectives, points)["objectives"]}
    due = validation.due_versions(versions, runs, ledger.events(validation.EVENT_KIND))
    advice = regression_advice(ledger, best)
    advice += pivot_advice(runs, versions, objectives, points, best)
    advice += lesson_advice(runs, ledger.lessons())
    if due:
        advice.append(Advice(
            "validate",
            f"{len(due)} committed version(s) never validated: run "
            f"'ridgeline validate {' '.join(due[:3])}'",
            {"versions": due},
        ))
    budget = budget_advice(ledger, runs, due)
    if budget is not None:
        advice.append(budget)
    return advice


# -- regressions ------------------------------------------------------------------------


def regression_advice(ledger: Ledger, best: dict[str, Any]) -> list[Advice]:
    """An `investigate-regression` for each version whose latest validation regressed.

    It comes first: a best version that no longer reproduces undermines every comparison
    made against it, so the agent should know before it plans anything else.

    Args:
        ledger: read for its validation events.
        best: the best run of each objective, as the frontier gives it.
    """
    verdicts = validation.latest_verdicts(ledger.events(validation.EVENT_KIND))
    best_versions = {(item or {}).get("version") for item in best.values()}
    advice = []
    for name, verdict in verdicts.items():
        if verdict.get("verdict") != "regression":
            continue
        is_best = name in best_versions
        role = "the current best version" if is_best else "a superseded version"
        advice.append(Advice(
            "investigate-regression",
            f"{role} {name!r} regressed when re-tested: {verdict.get('reason', '')}".rstrip(": "),
            {"version": name, "best": is_best, "commit": verdict.get("commit"),
             "runs": verdict.get("runs", [])},
        ))
    advice.sort(key=lambda a: not a.evidence["best"])
    return advice


# -- regimes ----------------------------------------------------------------------------


def pivot_advice(runs: Sequence[Run], versions: Sequence[Any], objectives: Sequence[Any],
                 points: Sequence[Any], best: dict[str, Any]) -> list[Advice]:
    """A `pivot` for each exhausted regime, naming the runs of its losing streak."""
    summaries = summarize_regimes(objectives, versions, runs, points)
    by_id = {run.id: run for run in runs}
    latest_attempt = max((r.id for r in runs if r.intent == "attempt"), default=None)
    advice = []
    for summary in summaries:
        if not summary.exhausted:
            continue
        streak = [by_id[i] for i in summary.streak]
        current = summary.last_attempt_run == latest_attempt
        where = "the latest attempts are in it" if current else "do not go back to it"
        advice.append(Advice(
            "pivot",
            f"regime {summary.name!r} is exhausted: its last {len(streak)} attempts set no "
            f"record and none came within the noise of the best; {where}",
            {
                "regime": summary.name,
                "attempts": summary.attempts,
                "since_record": summary.since_record,
                "runs": [_run_brief(run) for run in streak],
                "best": best,
            },
        ))
    return advice


def _run_brief(run: Run) -> dict[str, Any]:
    return {"run": run.id, "version": run.version, "outcome": run.outcome,
            "metrics": run.metrics, "reason": run.reason}


# -- crashes ----------------------------------------------------------------------------


def crash_clusters(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Crashes grouped by their reason with numbers and hex ids blanked out."""
    clusters: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        if run.outcome == "crash":
            key = _VOLATILE.sub("#", (run.reason or "no reason given").lower())
            clusters[" ".join(key.split())[:80]].append(run)
    return dict(clusters)


def lesson_advice(runs: Sequence[Run], lessons: Sequence[Any]) -> list[Advice]:
    """A `write-lesson` for each cluster of two crashes or more with no lesson linked."""
    taught = {lesson.run for lesson in lessons if lesson.run is not None}
    advice = []
    for key, cluster in crash_clusters(runs).items():
        if len(cluster) < 2 or any(run.id in taught for run in cluster):
            continue
        last = cluster[-1]
        advice.append(Advice(
            "write-lesson",
            f"{len(cluster)} crashes share the reason {last.reason!r} and no lesson is "
            f"linked to them: 'ridgeline lesson add \"...\" --run {last.id}'",
            {"reason": key, "runs": [run.id for run in cluster],
             "versions": sorted({run.version for run in cluster if run.version})},
        ))
    return advice


# -- budget -----------------------------------------------------------------------------


def budget_advice(ledger: Ledger, runs: Sequence[Run], due: Sequence[str]) -> Advice | None:
    """How much of the budget is left and what validating the due versions would cost."""
    hours = ledger.get_setting(HOURS_SETTING)
    calls = ledger.get_setting(TOOL_CALLS_SETTING)
    if hours is None and calls is None:
        return None
    shares, evidence = [], {}
    if hours is not None:
        used = _hours_used(ledger, runs)
        shares.append(1 - used / hours if hours else 0.0)
        evidence.update(hours=hours, hours_used=round(used, 3))
    if calls is not None:
        used_calls = max((r.tool_calls for r in runs if r.tool_calls is not None), default=0)
        shares.append(1 - used_calls / calls if calls else 0.0)
        evidence.update(tool_calls=calls, tool_calls_used=used_calls)
    left = max(0.0, min(shares))
    durations = [r.duration for r in runs if r.duration is not None and r.outcome == "ok"]
    cost = len(due) * VALIDATION_REPEAT * statistics.median(durations) if durations else None
    evidence.update(share_left=round(left, 4), due=list(due), validation_seconds=cost)
    cost_text = f"; validating {len(due)} due version(s) takes about {cost / 60:.1f} min" \
        if cost is not None and due else ""
    if left <= VALIDATION_SHARE:
        reason = (f"{left:.0%} of the budget is left, within the third kept for validation: "
                  f"stop new attempts and validate{cost_text}")
    else:
        reason = (f"{left:.0%} of the budget is left; keep the last third "
                  f"for validation{cost_text}")
    return Advice("budget", reason, evidence)


def _hours_used(ledger: Ledger, runs: Sequence[Run]) -> float:
    if not runs:
        return 0.0
    moments = [run.at for run in runs] + [event.at for event in ledger.events()]
    return (max(moments) - min(run.at for run in runs)).total_seconds() / 3600


# -- workspace --------------------------------------------------------------------------


def describe_workspace(ledger: Ledger, history: Sequence[str],
                       dirty: bool = False) -> dict[str, Any]:
    """Where a checkout stands against the ledger.

    Args:
        ledger: the ledger.
        history: HEAD's commit and its first-parent ancestors, newest first.
        dirty: whether the working tree differs from HEAD.

    Returns:
        A dict with `head`, `version` (the newest version recorded at HEAD or an
        ancestor, with `commits_ahead`), `best` (per objective), `superseded` and
        `rolled_back` flags, `message` lines, `tried_from_here` (child versions and their
        outcomes) and the version's latest validation verdict.
    """
    runs = ledger.runs()
    versions = ledger.versions()
    position = {commit: i for i, commit in enumerate(history)}
    here, ahead = _version_at(versions, runs, position)
    best = _best_versions(ledger, versions, runs)
    best_commits = {b["commit"] for b in best.values() if b and b.get("commit")}
    rolled_back = bool(best_commits) and not (best_commits & set(position))
    # Superseded: not the best, and the best is not in HEAD's history (so HEAD is not
    # simply newer work built on top of it).
    superseded = rolled_back and here is not None and here.name not in {
        b["version"] for b in best.values() if b
    }
    verdicts = validation.latest_verdicts(ledger.events(validation.EVENT_KIND))
    status = {
        "head": history[0] if history else None,
        "dirty": dirty,
        "version": here.name if here else None,
        "version_commit": validation.version_commit(here, runs) if here else None,
        "commits_ahead": ahead,
        "best": best,
        "superseded": superseded,
        "rolled_back": rolled_back,
        "validation": _verdict_brief(verdicts.get(here.name)) if here else None,
        "tried_from_here": _children(here.name, versions, runs, verdicts) if here else [],
    }
    status["message"] = _status_message(status)
    return status


def _version_at(versions, runs, position: dict[str, int]):
    """The version recorded at the newest commit of HEAD's history, and how far back."""
    found = None
    for version in versions:
        commit = validation.version_commit(version, runs)
        if commit in position:
            # Several versions can share a commit; the one named last wins.
            if found is None or position[commit] <= found[1]:
                found = (version, position[commit])
    return found if found else (None, None)


def _best_versions(ledger: Ledger, versions, runs) -> dict[str, dict[str, Any] | None]:
    points = ledger.run_points()
    by_name = {v.name: v for v in versions}
    best = {}
    for objective in ledger.objectives():
        records = staircase(points, objective)
        if not records:
            best[objective.name] = None
            continue
        top = records[-1]
        version = by_name.get(top.version)
        commit = validation.version_commit(version, runs) if version else None
        best[objective.name] = {"version": top.version, "commit": commit,
                                "value": top.values[objective.name], "run": top.id}
    return best


def _children(name: str, versions, runs, verdicts) -> list[dict[str, Any]]:
    children = []
    for version in versions:
        if name not in version.parents:
            continue
        own = [r for r in runs if r.version == version.name]
        ok = [r for r in own if r.outcome == "ok"]
        children.append({
            "version": version.name,
            "status": version.status,
            "regime": version.regime,
            "runs": len(own),
            "crashes": len(own) - len(ok),
            "last_reason": next((r.reason for r in reversed(own) if r.reason), None),
            "metrics": ok[-1].metrics if ok else {},
            "validation": _verdict_brief(verdicts.get(version.name)),
        })
    return children


def _verdict_brief(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    return {"verdict": verdict.get("verdict"), "reason": verdict.get("reason"),
            "at": iso(verdict.get("at"))}


def _status_message(status: dict[str, Any]) -> list[str]:
    lines = []
    head = (status["head"] or "")[:10] or "no commit"
    if status["version"] is None:
        lines.append(f"HEAD {head} is not a recorded version and descends from none")
    elif status["commits_ahead"]:
        lines.append(f"HEAD {head} is {status['commits_ahead']} commit(s) past version "
                     f"{status['version']}")
    else:
        lines.append(f"HEAD {head} is version {status['version']}")
    if status["dirty"]:
        lines.append("the working tree has changes not yet committed")
    for objective, best in status["best"].items():
        if best:
            label = "superseded" if status["superseded"] else "best"
            lines.append(f"{label} on {objective}: the best is {best['version']} "
                         f"({best['value']:g}, commit {(best['commit'] or '?')[:10]})")
    if status["rolled_back"]:
        lines.append("HEAD does not contain the best version's commit: the workspace was "
                     "reset to an older commit or is on another branch; check out the best "
                     "before building on it")
    if status["tried_from_here"]:
        tried = ", ".join(f"{c['version']} ({c['status']}, {c['runs']} run(s), "
                          f"{c['crashes']} crash(es))" for c in status["tried_from_here"])
        lines.append(f"already tried from here: {tried}")
    return lines

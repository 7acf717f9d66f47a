"""Is a version still as good as it was? A noise-aware comparison of old and new runs.

The test is a one-sided Mann-Whitney rank test of the validation runs against the
version's earlier `ok` runs, with the exact permutation p-value. It was chosen over a
bootstrap interval of the difference of medians because benchmark timings are skewed and
have outliers (a cold cache, a noisy neighbour), which ranks shrug off; because it is
exact and deterministic at the small sample sizes a validation has (3 to 10 runs a side),
where a bootstrap is both random and badly calibrated; and because it needs nothing
beyond numpy.

A version is flagged as a **regression** when both hold:

- the rank test says the new runs are worse at the 1% level (`ALPHA`): strict enough
  that an unchanged version is flagged in about one check of a hundred, and
- the Hodges-Lehmann shift (the median of all new-minus-old differences) is worse by at
  least 1% of the old median (`MIN_EFFECT`), so a consistent but negligible drift of the
  machine is not called a regression.

With too few earlier runs no arrangement of ranks can reach 1% (one earlier run against
five new ones gives at best 1/6; it takes four earlier runs against five new). Then a
one-sided Student's t test at the same level decides, with the spread pooled over both
sides (with a single earlier run, the new runs' spread alone: a prediction test). When
every value is identical nothing is flagged; when each side is constant but they differ,
the effect threshold alone decides.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# numpy is imported inside the functions that use it: hooks run `ridgeline` often and
# must start fast.
if TYPE_CHECKING:
    import numpy as np

ALPHA = 0.01
MIN_EFFECT = 0.01
# Beyond this many label arrangements the normal approximation replaces enumeration.
_EXACT_LIMIT = 200_000

# One-sided 99% quantiles of Student's t by degrees of freedom; 2.326 is the normal limit.
_T99 = (31.821, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764,
        2.718, 2.681, 2.650, 2.624, 2.602, 2.583, 2.567, 2.552, 2.539, 2.528,
        2.518, 2.508, 2.500, 2.492, 2.485, 2.479, 2.473, 2.467, 2.462, 2.457)


@dataclasses.dataclass(frozen=True)
class SampleComparison:
    """One objective: earlier values against fresh ones, and what the test says."""

    objective: str
    direction: str
    earlier: tuple[float, ...]
    fresh: tuple[float, ...]
    method: str
    p_value: float | None
    shift: float | None
    relative_shift: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {
            "earlier": list(self.earlier), "fresh": list(self.fresh)
        }


def compare_samples(
    objective: str,
    direction: str,
    earlier: Sequence[float],
    fresh: Sequence[float],
    *,
    min_effect: float = MIN_EFFECT,
) -> SampleComparison:
    """Judge whether `fresh` values are worse than `earlier` ones beyond the noise.

    Args:
        objective: the metric's name, carried into the result.
        direction: "max" or "min"; says which way is worse.
        earlier: the version's values before validation.
        fresh: the values the validation measured.
        min_effect: the smallest relative worsening called a regression.

    Returns:
        A comparison whose `verdict` is "regression", "confirmed" or "inconclusive"
        (no earlier value, or fewer than two fresh ones). `shift` is in the metric's
        unit, positive when worse.
    """
    import numpy as np

    earlier_values = tuple(float(v) for v in earlier if _finite(v))
    fresh_values = tuple(float(v) for v in fresh if _finite(v))
    if not earlier_values or len(fresh_values) < 2:
        return SampleComparison(objective, direction, earlier_values, fresh_values,
                                "none", None, None, None, "inconclusive")
    sign = -1.0 if direction == "max" else 1.0  # oriented: larger is worse
    old = np.array(earlier_values) * sign
    new = np.array(fresh_values) * sign
    shift = float(np.median(np.subtract.outer(new, old)))
    reference = abs(float(np.median(earlier_values)))
    relative = shift / reference if reference else None
    method, p_value, significant = _test(old, new)
    big_enough = shift > 0 and (relative is None or relative >= min_effect)
    worse = significant and big_enough
    return SampleComparison(objective, direction, earlier_values, fresh_values, method,
                            p_value, shift, relative, "regression" if worse else "confirmed")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _test(old: np.ndarray, new: np.ndarray) -> tuple[str, float | None, bool]:
    """The method used, its one-sided p-value that `new` is larger (worse), and whether
    that is significant at ALPHA."""
    import numpy as np

    if np.ptp(np.concatenate([old, new])) == 0:
        return "identical", 1.0, False
    arrangements = math.comb(len(old) + len(new), len(new))
    if 1 / arrangements > ALPHA:
        return "prediction t", None, prediction_t(old, new)
    if arrangements <= _EXACT_LIMIT:
        p_value = mann_whitney_exact(old, new)
        return "mann-whitney exact", p_value, p_value <= ALPHA
    p_value = mann_whitney_normal(old, new)
    return "mann-whitney normal", p_value, p_value <= ALPHA


def _midranks(values: np.ndarray) -> np.ndarray:
    import numpy as np

    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # ties share their mean rank
            start = end
    return ranks


def mann_whitney_exact(old: np.ndarray, new: np.ndarray) -> float:
    """P(rank sum of `new` >= observed) over every split of the pooled ranks."""
    import numpy as np

    ranks = _midranks(np.concatenate([old, new]))
    observed = ranks[len(old):].sum()
    splits = np.array(list(itertools.combinations(range(len(ranks)), len(new))))
    sums = ranks[splits].sum(axis=1)
    # Rank sums are multiples of 0.5; the tolerance absorbs float rounding.
    return float(np.mean(sums >= observed - 1e-9))


def mann_whitney_normal(old: np.ndarray, new: np.ndarray) -> float:
    """The same p-value from the normal approximation, with tie and continuity corrections."""
    import numpy as np

    n, m = len(old), len(new)
    pooled = np.concatenate([old, new])
    ranks = _midranks(pooled)
    u = ranks[n:].sum() - m * (m + 1) / 2
    _, counts = np.unique(pooled, return_counts=True)
    tie_term = float(np.sum(counts**3 - counts)) / ((n + m) * (n + m - 1))
    variance = n * m / 12 * ((n + m + 1) - tie_term)
    if variance <= 0:
        return 1.0
    z = (u - n * m / 2 - 0.5) / math.sqrt(variance)
    return 0.5 * math.erfc(z / math.sqrt(2))


def prediction_t(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether the new mean is worse than the old one by more than a one-sided 99%
    Student's t bound.

    The spread is pooled over both samples; with a single earlier run it comes from the
    new runs alone, which makes this a prediction test for that run. Only the critical
    value is tabulated, not the whole t distribution, so this gives a decision and no
    p-value.
    """
    import numpy as np

    squares = float(np.sum((new - new.mean()) ** 2))
    degrees = len(new) - 1
    if len(old) > 1:
        squares += float(np.sum((old - old.mean()) ** 2))
        degrees += len(old) - 1
    spread = math.sqrt(squares / degrees)
    difference = float(new.mean() - old.mean())
    if spread == 0:
        return difference > 0
    t = difference / (spread * math.sqrt(1 / len(new) + 1 / len(old)))
    critical = _T99[degrees - 1] if degrees <= len(_T99) else 2.326
    return t > critical


# -- verdicts in the ledger -------------------------------------------------------------

EVENT_KIND = "validation"


def latest_verdicts(events: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """The newest validation event's data per version, from `ledger.events("validation")`."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.kind == EVENT_KIND and event.data.get("version"):
            latest[event.data["version"]] = {**event.data, "at": event.at}
    return latest


def version_commit(version: Any, runs: Sequence[Any]) -> str | None:
    """The commit that holds a version: its own, else that of its newest clean run."""
    if version.commit:
        return version.commit
    for run in reversed(runs):
        if run.version == version.name and run.commit and run.dirty is not True:
            return run.commit
    return None


def due_versions(versions: Sequence[Any], runs: Sequence[Any],
                 events: Sequence[Any]) -> list[str]:
    """Committed versions with a commit that were never validated or were last found
    inconclusive, the longest without validation first."""
    verdicts = latest_verdicts(events)
    return [
        name for name in by_staleness(versions, runs, events)
        if verdicts.get(name, {}).get("verdict", "inconclusive") == "inconclusive"
    ]


def by_staleness(versions: Sequence[Any], runs: Sequence[Any],
                 events: Sequence[Any]) -> list[str]:
    """Every committed version with a commit, the longest without validation first."""
    verdicts = latest_verdicts(events)
    keyed = []
    for version in versions:
        if version.status != "committed" or version_commit(version, runs) is None:
            continue
        verdict = verdicts.get(version.name)
        last = verdict["at"].timestamp() if verdict else float("-inf")
        keyed.append((last, version.created_at.timestamp() if version.created_at else 0,
                      version.name))
    return [name for *_, name in sorted(keyed)]

"""What to do next, read from the ledger alone.

Each piece of advice is an `Advice`: an action, the reason in one sentence, and the
evidence (run ids, versions, numbers) a reader can check against the ledger.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ridgeline.ledger import Ledger


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
    """Advice for the agent, most pressing first."""
    return []

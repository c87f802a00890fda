"""Several reviews of one item: each reviewer's part, what counts as agreeing, and the tally.

A review is one reviewer's claim on an item that needs several reviews, and then their
vote. Two votes agree when they have the same verdict and the same outcome: the same
final action, or for edits the same content (reasons may differ). Flags are not votes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import Verdict

VOTING_VERDICTS = frozenset({Verdict.APPROVE, Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT})


@dataclass
class Review:
    """One reviewer's part in an item that needs several reviews: a lease, then a vote."""

    reviewer_id: str
    claimed_at: datetime
    expires_at: datetime
    decision_id: str | None = None  # the vote, once cast
    outcome: str | None = None  # what the vote chose (outcome_of), once cast

    @property
    def voted(self) -> bool:
        return self.decision_id is not None

    def is_live(self, now: datetime) -> bool:
        """A lease still running and not yet spent on a vote."""
        return not self.voted and self.expires_at > now

    def engaged(self, now: datetime) -> bool:
        """It takes one of the item's reviews: a vote, or a live lease."""
        return self.voted or self.expires_at > now

    def to_json(self) -> dict[str, Any]:
        return {
            "reviewer_id": self.reviewer_id,
            "claimed_at": self.claimed_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "decision_id": self.decision_id,
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Review:
        return cls(
            reviewer_id=str(data["reviewer_id"]),
            claimed_at=datetime.fromisoformat(data["claimed_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            decision_id=data.get("decision_id"),
            outcome=data.get("outcome"),
        )


def outcome_of(verdict: Verdict, final_action: str | None, content: str | None) -> str:
    """What a vote chose, as a key: votes agree when their keys are equal."""
    if verdict is Verdict.EDIT:
        digest = hashlib.sha256((content or "").encode()).hexdigest()
        return f"EDIT:{final_action}:{digest}"
    return f"{verdict.value}:{final_action or ''}"


@dataclass(frozen=True)
class Tally:
    votes: int
    leading: str | None  # the outcome with the most votes (the first to get there on a tie)
    agreeing: int  # votes for it


def tally(reviews: Sequence[Review]) -> Tally:
    """Count the votes cast so far by outcome."""
    outcomes = [r.outcome for r in reviews if r.voted and r.outcome is not None]
    if not outcomes:
        return Tally(0, None, 0)
    counts = Counter(outcomes)
    best = max(counts.values())
    leading = next(o for o in outcomes if counts[o] == best)
    return Tally(len(outcomes), leading, best)

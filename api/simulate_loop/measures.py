"""A month's figures, measured against the generator's truth, and the promise they test.

Accuracy is the proposing model's proposals on the month's cases, fresh from the generator
(no model saw them before proposing), scored by the generator's own probabilities
(ml.worlds.expected_accuracy: 1 - noise where the proposal is the rule's action) and,
beside it, against the labels drawn (`true_action`). The auto-approved error is the share
of auto-approved items whose proposal is not the drawn truth. Human reviews count every
decision a simulated person made (the queue and the audit sample).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ml.worlds import NOISE, WorldCase, expected_accuracy


@dataclass
class Routed:
    """One submitted case and what the ladder did with the model's proposal."""

    case: WorldCase
    proposed: str
    confidence: float
    tier: str
    auto_approved: bool
    sampled_for_audit: bool


@dataclass
class MonthFigures:
    month: int
    world: str  # the month's planted rule
    start: str  # the simulated month's first and last moments, ISO 8601
    end: str
    proposer: str  # the modelVersion the month's items carry ("upstream", "v1", ...)
    cases: int
    accuracy: float  # expected, from the generator's probabilities
    accuracy_realised: float  # against the drawn labels
    upstream_accuracy: float  # the upstream model on the same cases (expected)
    bayes_accuracy: float  # the rule's own accuracy (1 - noise)
    auto_approved_share: float
    auto_approved_error: float | None  # None when nothing was auto-approved
    human_reviews: int
    audit_reviews: int
    reviewer_mistakes: int
    threshold_start: float  # autoApproveAt when the month began
    threshold_end: float  # and when it ended (after recommendThreshold moved it)
    recommendation: str  # recommendThreshold's last message this month
    top_theme: str | None
    retraining: str  # the RETRAIN job's message
    active_model_after: str | None
    feedback: str | None  # feedbackReport's sentence
    drift_alarms: list[str] = field(default_factory=list)
    accuracy_se: float = 0.0  # the standard error of `accuracy` over the month's cases
    model_events: list[str] = field(default_factory=list)  # heard on modelEvents ("PROMOTED v2")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def month_accuracy(routed: list[Routed]) -> tuple[float, float, float, float]:
    """(expected accuracy of the proposals, its standard error over the cases, realised
    accuracy, upstream's expected accuracy)."""
    cases = [r.case for r in routed]
    proposals = [r.proposed for r in routed]
    per_case = [expected_accuracy([c], [p]) for c, p in zip(cases, proposals, strict=True)]
    mean = sum(per_case) / len(per_case)
    variance = sum((x - mean) ** 2 for x in per_case) / max(1, len(per_case) - 1)
    realised = sum(p == c.true_action for p, c in zip(proposals, cases, strict=True))
    return (
        mean,
        math.sqrt(variance / len(per_case)),
        realised / len(cases),
        expected_accuracy(cases, [c.upstream_action for c in cases]),
    )


def auto_approval(routed: list[Routed]) -> tuple[float, float | None]:
    """(share auto-approved, share of those whose proposal is not the drawn truth)."""
    auto = [r for r in routed if r.auto_approved]
    if not auto:
        return 0.0, None
    wrong = sum(r.proposed != r.case.true_action for r in auto)
    return len(auto) / len(routed), wrong / len(auto)


BAYES_ACCURACY = 1.0 - NOISE


@dataclass(frozen=True)
class Promise:
    """The seed's promise, checked on the months: accuracy never down (ACCURACY_SLACK_SE) and
    up overall, human reviews per case never up (WORKLOAD_SLACK_SE) and down overall, and every
    month's auto-approved error (against the drawn truth) at most the target."""

    accuracy_up: bool
    workload_down: bool
    error_under_target: bool

    @property
    def kept(self) -> bool:
        return self.accuracy_up and self.workload_down and self.error_under_target


ACCURACY_SLACK_SE = 2.0
"""A month's accuracy counts as not down unless it is lower than the month before by more
than this many standard errors of the difference (each month's cases are a fresh sample)."""
WORKLOAD_SLACK_SE = 2.0
"""A month's human reviews per case count as not up unless higher than the month before by
more than this many standard errors of the difference (binomial over the month's cases: the
audit sample is a random draw, and each month's cases a fresh sample)."""


def _share_se(count: int, total: int) -> float:
    share = count / total
    return math.sqrt(share * (1.0 - share) / total)


def check_promise(months: list[MonthFigures], target: float) -> Promise:
    accuracy = [m.accuracy for m in months]
    not_down = all(
        b.accuracy >= a.accuracy - ACCURACY_SLACK_SE * math.hypot(a.accuracy_se, b.accuracy_se)
        for a, b in itertools.pairwise(months)
    )
    reviews = [m.human_reviews / m.cases for m in months]
    not_up = all(
        b.human_reviews / b.cases
        <= a.human_reviews / a.cases
        + WORKLOAD_SLACK_SE
        * math.hypot(_share_se(a.human_reviews, a.cases), _share_se(b.human_reviews, b.cases))
        for a, b in itertools.pairwise(months)
    )
    errors = [m.auto_approved_error for m in months if m.auto_approved_error is not None]
    return Promise(
        accuracy_up=not_down and accuracy[-1] > accuracy[0],
        workload_down=not_up and reviews[-1] < reviews[0],
        error_under_target=all(e <= target for e in errors),
    )

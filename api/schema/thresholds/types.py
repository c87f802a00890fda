"""ThresholdRecommendation."""

from __future__ import annotations

import strawberry

from domain import thresholds


@strawberry.type(
    name="ThresholdRecommendation",
    description="The lowest autoApproveAt whose auto-approvals are wrong at most "
    "maxAutoApproveError of the time with probability at least confidenceLevel "
    "(Learn-then-Test, fixed-sequence from the highest threshold down, exact binomial "
    "bounds), from human labels of the proposing model's items only: people's decisions "
    "on items below the threshold and on the audit sample above it, never automated ones.",
)
class ThresholdRecommendation:
    max_auto_approve_error: float
    confidence_level: float
    auto_approve_at: float | None = strawberry.field(
        description="The lowest threshold the evidence guarantees; null when none can be."
    )
    error_upper_bound: float | None = strawberry.field(
        description="The exact upper bound on the error rate of items auto-approved at "
        "autoApproveAt, at confidenceLevel, as if that threshold had been fixed in advance "
        "(never above maxAutoApproveError, which is what the procedure guarantees)."
    )
    evidence: int = strawberry.field(description="Human-labelled items the bound rests on.")
    expected_auto_approve_share: float | None = strawberry.field(
        description="Share of the window's items of the proposing model that autoApproveAt "
        "would auto-approve (high stakes never are); null without a recommendation."
    )
    message: str = strawberry.field(
        description="In plain words: the guarantee, or why there is none and about how "
        "much more evidence would give one."
    )

    @classmethod
    def from_domain(cls, found: thresholds.ThresholdRecommendation) -> ThresholdRecommendation:
        return cls(
            max_auto_approve_error=found.max_error,
            confidence_level=found.confidence_level,
            auto_approve_at=found.auto_approve_at,
            error_upper_bound=found.error_upper_bound,
            evidence=found.evidence,
            expected_auto_approve_share=found.expected_auto_approve_share,
            message=found.message,
        )

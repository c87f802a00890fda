"""RecommendationInput, FeatureContributionInput."""

from __future__ import annotations

import strawberry

from api.schema.common.types import JSON
from domain.usecases.submission import ProposalInput


@strawberry.input
class FeatureContributionInput:
    feature: str
    contribution: float
    value: JSON | None = None


@strawberry.input
class RecommendationInput:
    payload: JSON
    proposed_action: str
    confidence: float
    external_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key within the workflow: a repeat is a duplicate, not a new item.",
    )
    subject: str | None = None
    stakes: float | None = None
    draft: str | None = None
    predicted_score: float | None = None
    model_version: str | None = None
    explanation: list[FeatureContributionInput] | None = None

    def to_domain(self) -> ProposalInput:
        return ProposalInput(
            payload=self.payload,
            proposed_action=self.proposed_action,
            confidence=self.confidence,
            external_id=self.external_id,
            subject=self.subject,
            stakes=self.stakes,
            draft=self.draft,
            predicted_score=self.predicted_score,
            model_version=self.model_version,
            explanation=[
                {"feature": e.feature, "value": e.value, "contribution": e.contribution}
                for e in self.explanation
            ]
            if self.explanation
            else None,
        )

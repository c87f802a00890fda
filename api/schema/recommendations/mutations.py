"""submitRecommendations, provideData, claimNext, claim, release."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from api.schema.common.enums import Tier
from api.schema.common.problems import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    QueueEmpty,
    returns_problems,
)
from api.schema.common.types import JSON, Info
from api.schema.recommendations.inputs import RecommendationInput
from api.schema.recommendations.types import Claim, Recommendation
from domain import model
from domain.usecases import review, submission
from domain.usecases.submission import Submission


def _submitted(root: SubmitSuccess) -> list[Recommendation]:
    # Built only when asked for: a service that reads back counts alone (batches of
    # hundreds of items) pays nothing for them.
    return [Recommendation.from_domain(item, root._now) for item in root._items]


@strawberry.type
class SubmitSuccess:
    recommendations: list[Recommendation] = strawberry.field(
        resolver=_submitted,
        description="In the order of the input; duplicates return the stored item.",
    )
    created: int
    duplicates: int
    _items: strawberry.Private[list[model.Recommendation]]
    _now: strawberry.Private[datetime]

    @classmethod
    def of(cls, submitted: Submission, now: datetime) -> SubmitSuccess:
        return cls(
            _items=submitted.recommendations,
            _now=now,
            created=submitted.created,
            duplicates=submitted.duplicates,
        )


@strawberry.type
class RecommendationSuccess:
    recommendation: Recommendation


@strawberry.type
class ClaimSuccess:
    recommendation: Recommendation
    claim: Claim


SubmitResult = Annotated[
    SubmitSuccess | NotFound | Forbidden | InvalidInput, strawberry.union("SubmitResult")
]
RecommendationResult = Annotated[
    RecommendationSuccess | NotFound | Forbidden | InvalidInput | Conflict,
    strawberry.union("RecommendationResult"),
]
ClaimResult = Annotated[
    ClaimSuccess | QueueEmpty | NotFound | Forbidden | Conflict, strawberry.union("ClaimResult")
]


def _lease(info: Info) -> timedelta:
    return timedelta(seconds=info.context.services.settings.claim_lease_seconds)


def _claimed(info: Info, claimed: review.Claimed) -> ClaimSuccess:
    return ClaimSuccess(
        recommendation=Recommendation.from_domain(claimed.recommendation, info.context.now),
        claim=Claim.from_domain(claimed.claim),
    )


@strawberry.type
class RecommendationMutations:
    @strawberry.mutation(
        description="SERVICE, ADMIN: store a batch atomically and route each item by the "
        "escalation ladder. One invalid item refuses the whole batch."
    )
    @returns_problems[SubmitResult](NotFound, Forbidden, InvalidInput)
    async def submit_recommendations(
        self, info: Info, workflow: str, items: list[RecommendationInput]
    ) -> SubmitResult:
        proposals = [item.to_domain() for item in items]
        result = await info.context.run(submission.submit_recommendations, workflow, proposals)
        return SubmitSuccess.of(result, info.context.now)

    @strawberry.mutation(
        description="SERVICE, ADMIN: merge data into a NEEDS_DATA item's payload and send it "
        "to SENIOR_REVIEW."
    )
    @returns_problems[RecommendationResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def provide_data(
        self, info: Info, id: strawberry.ID, payload: JSON
    ) -> RecommendationResult:
        item = await info.context.run(submission.provide_data, str(id), payload)
        return RecommendationSuccess(
            recommendation=Recommendation.from_domain(item, info.context.now)
        )

    @strawberry.mutation(
        description="Lease the most urgent item (slaDueAt, then createdAt) you may decide."
    )
    @returns_problems[ClaimResult](QueueEmpty, NotFound, Forbidden, Conflict)
    async def claim_next(
        self, info: Info, workflow: str, tiers: list[Tier] | None = None
    ) -> ClaimResult:
        claimed = await info.context.run(review.claim_next, workflow, tiers, _lease(info))
        return _claimed(info, claimed)

    @strawberry.mutation(description="Lease this item; renewing your own lease is allowed.")
    @returns_problems[ClaimResult](QueueEmpty, NotFound, Forbidden, Conflict)
    async def claim(self, info: Info, id: strawberry.ID) -> ClaimResult:
        claimed = await info.context.run(review.claim, str(id), _lease(info))
        return _claimed(info, claimed)

    @strawberry.mutation(description="Give your lease back (ADMIN: anyone's).")
    @returns_problems[RecommendationResult](NotFound, Forbidden, InvalidInput, Conflict)
    async def release(self, info: Info, id: strawberry.ID) -> RecommendationResult:
        item = await info.context.run(review.release, str(id))
        return RecommendationSuccess(
            recommendation=Recommendation.from_domain(item, info.context.now)
        )

"""Recommendation and the types it carries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common.enums import RecommendationStatus, Tier
from api.schema.common.types import JSON, Info, Node, PageInfo
from api.schema.loading import now_or_later
from api.schema.recommendations.consensus import Consensus
from api.schema.users.types import User, load_user
from api.schema.workflows.types import Workflow
from domain import model
from domain.consensus import Review

if TYPE_CHECKING:
    from api.schema.decisions.types import Decision
    from api.schema.teams.types import Team


@strawberry.type
class FeatureContribution:
    feature: str
    value: JSON | None
    contribution: float


@strawberry.type(name="DraftRevision")
class DraftRevision:
    content: str
    predicted_score: float | None
    created_at: datetime
    _author_id: strawberry.Private[str | None]

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        return await load_user(info, self._author_id)


@strawberry.type(name="Draft")
class Draft:
    original: str
    content: str
    original_predicted_score: float | None
    predicted_score: float | None
    _rec_id: strawberry.Private[str]

    @strawberry.field
    async def revisions(self, info: Info) -> list[DraftRevision]:
        found = await info.context.loaders.revisions_of.load(self._rec_id)
        return [
            DraftRevision(
                content=r.content,
                predicted_score=r.predicted_score,
                created_at=r.created_at,
                _author_id=r.author_id,
            )
            for r in found
        ]


@strawberry.type(name="Claim")
class Claim:
    claimed_at: datetime
    expires_at: datetime
    _reviewer_id: strawberry.Private[str]

    @strawberry.field
    def reviewer(self, info: Info) -> User:
        return now_or_later(info.context.loaders.user, self._reviewer_id, _known_user)

    @classmethod
    def from_domain(cls, claim: model.Claim) -> Claim:
        return cls(
            claimed_at=claim.claimed_at, expires_at=claim.expires_at, _reviewer_id=claim.reviewer_id
        )

    @classmethod
    def of_review(cls, review: Review) -> Claim:
        return cls(
            claimed_at=review.claimed_at,
            expires_at=review.expires_at,
            _reviewer_id=review.reviewer_id,
        )


@strawberry.type(name="Recommendation")
class Recommendation(Node):
    id: strawberry.ID
    external_id: str | None
    subject: str | None
    payload: JSON
    proposed_action: str
    confidence: float
    stakes: float | None
    model_version: str | None
    tier: Tier
    status: RecommendationStatus
    sampled_for_audit: bool
    version: int
    sla_due_at: datetime | None
    sla_breached: bool
    final_action: str | None
    created_at: datetime
    decided_at: datetime | None
    _item: strawberry.Private[model.Recommendation]
    _now: strawberry.Private[datetime]

    @strawberry.field
    def workflow(self, info: Info) -> Workflow:
        return now_or_later(info.context.loaders.workflow, self._item.workflow_id, _workflow)

    @strawberry.field
    def explanation(self) -> list[FeatureContribution]:
        return [
            FeatureContribution(
                feature=str(e.get("feature")),
                value=e.get("value"),
                contribution=float(e.get("contribution") or 0.0),
            )
            for e in self._item.explanation
        ]

    @strawberry.field
    def draft(self) -> Draft | None:
        d = self._item.draft
        if d is None:
            return None
        return Draft(
            original=d.original,
            content=d.content,
            original_predicted_score=d.original_predicted_score,
            predicted_score=d.predicted_score,
            _rec_id=self._item.id,
        )

    @strawberry.field(description="The live lease, if anyone holds one.")
    def claim(self) -> Claim | None:
        live = self._item.live_claim(self._now)
        return Claim.from_domain(live) if live else None

    @strawberry.field(description="Every open claim: several when several reviews are required.")
    def claims(self) -> list[Claim]:
        live = self._item.live_claim(self._now)
        reviews = self._item.live_reviews(self._now)
        return [Claim.from_domain(live)] if live else [Claim.of_review(r) for r in reviews]

    @strawberry.field(description="Null when one review is enough.")
    def consensus(self) -> Consensus | None:
        return Consensus.of(self._item)

    @strawberry.field(
        description="Only this reviewer may claim or decide it (admins may still reassign)."
    )
    async def assignee(self, info: Info) -> User | None:
        return await load_user(info, self._item.assignee_id)

    @strawberry.field(description="Only this team's members may claim or decide it.")
    async def assigned_team(
        self, info: Info
    ) -> Annotated[Team, strawberry.lazy("api.schema.teams.types")] | None:
        from api.schema.teams.types import load_team

        return await load_team(info, self._item.assigned_team_id)

    @strawberry.field(description="Every decision on this item, in log order.")
    async def decisions(
        self, info: Info
    ) -> list[Annotated[Decision, strawberry.lazy("api.schema.decisions.types")]]:
        from api.schema.decisions.types import Decision

        ctx = info.context
        found = await ctx.loaders.decisions_of.load(self._item.id)
        hidden = await ctx.hides_votes_on(self._item)
        return [Decision.from_domain(d) for d in found if not (hidden and d.vote)]

    @classmethod
    def from_domain(cls, item: model.Recommendation, now: datetime) -> Recommendation:
        return cls(
            id=strawberry.ID(item.id),
            external_id=item.external_id,
            subject=item.subject,
            payload=JSON(item.payload),
            proposed_action=item.proposed_action,
            confidence=item.confidence,
            stakes=item.stakes,
            model_version=item.model_version,
            tier=item.tier,
            status=item.effective_status(now),
            sampled_for_audit=item.sampled_for_audit,
            version=item.version,
            sla_due_at=item.sla_due_at,
            sla_breached=item.sla_breached,
            final_action=item.final_action,
            created_at=item.created_at,
            decided_at=item.decided_at,
            _item=item,
            _now=now,
        )


@strawberry.type
class RecommendationEdge:
    cursor: str
    node: Recommendation


@strawberry.type
class RecommendationConnection:
    edges: list[RecommendationEdge]
    page_info: PageInfo
    total_count: int


async def load_recommendation(info: Info, rec_id: str) -> Recommendation:
    found = await info.context.loaders.recommendation.load(rec_id)
    assert found is not None, rec_id
    return Recommendation.from_domain(found, info.context.now)


def _known_user(found: model.User | None) -> User:
    assert found is not None
    return User.from_domain(found)


def _workflow(found: model.Workflow | None) -> Workflow:
    assert found is not None
    return Workflow.from_domain(found)

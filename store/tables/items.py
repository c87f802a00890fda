"""Recommendations (the items reviewers decide) and their draft revisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.consensus import Review
from domain.enums import ConsensusState, RecommendationStatus, Tier
from domain.model import Claim, Draft, DraftRevision, Recommendation
from store.tables.columns import EnumText, enum_field, json_field, timestamp

# Where an item without an SLA sorts: NULLs sort differently on SQLite and PostgreSQL.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def review_leases_until(item: Recommendation) -> datetime | None:
    """For an item that collects votes (which has no single claim): when the last of its
    reviewers' leases runs out, so that the SLA sweep's query can pass over items someone
    is reviewing (claimed_by_id stays NULL: no claim is read back from it)."""
    leases = [r.expires_at for r in item.reviews if not r.voted]
    return max(leases) if item.collecting and leases else None


def voters_text(item: Recommendation) -> str | None:
    """Who voted on the item, as " usr_a usr_b " (None before the first vote)."""
    voters = [r.reviewer_id for r in item.reviews if r.voted]
    return f" {' '.join(voters)} " if voters else None


class RecommendationRow(SQLModel, table=True):
    __tablename__ = "recommendations"
    __table_args__ = (
        sa.UniqueConstraint("workflow_id", "external_id", name="uq_recommendations_external_id"),
        # The queue order and the claim look-up: by status and tier, most urgent first.
        sa.Index(
            "ix_recommendations_queue",
            "workflow_id",
            "status",
            "tier",
            "due_sort",
            "created_at",
            "id",
        ),
        sa.Index("ix_recommendations_claim_expiry", "status", "claim_expires_at"),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    external_id: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = json_field()
    proposed_action: str = Field(max_length=200)
    confidence: float
    explanation: list[dict[str, Any]] = json_field()
    stakes: float | None = None
    model_version: str | None = Field(default=None, max_length=200)
    draft_original: str | None = Field(default=None, sa_type=sa.Text)
    draft_content: str | None = Field(default=None, sa_type=sa.Text)
    draft_original_score: float | None = None
    draft_score: float | None = None
    tier: Tier = enum_field(Tier, 16)
    status: RecommendationStatus = enum_field(RecommendationStatus, 24)
    sampled_for_audit: bool = False
    version: int = 1
    claimed_by_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    claimed_at: datetime | None = timestamp(nullable=True)
    claim_expires_at: datetime | None = timestamp(nullable=True)
    flagged: bool = False
    # When an AWAITING_CONFIRMATION item's outstanding token lapses.
    confirm_until: datetime | None = timestamp(nullable=True)
    sla_due_at: datetime | None = timestamp(nullable=True)
    # sla_due_at, or FAR_FUTURE: NULLs sort differently on SQLite and PostgreSQL.
    due_sort: datetime = timestamp()
    sla_breached: bool = False
    final_action: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(nullable=True)
    policy_version: int = 1
    # A known-wrong copy of a past overridden item, handed to one reviewer as a check.
    canary: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    canary_of: str | None = Field(default=None, max_length=40)
    assignee_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    assigned_team_id: str | None = Field(default=None, foreign_key="teams.id", max_length=40)
    # Several reviews: the item's rule, its proposer, the consensus and each review.
    reviews_required: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    agreement_required: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    four_eyes: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    submitted_by_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    consensus_state: ConsensusState | None = Field(
        default=None, sa_type=EnumText(ConsensusState, 16), max_length=16, nullable=True
    )
    reviews: list[dict[str, Any]] | None = json_field(nullable=True)
    # " usr_a usr_b ": who voted, for claimNext's look-up (reviews is JSON).
    voters: str | None = Field(default=None, sa_type=sa.Text)
    # What actually happened after the decision (reported later by the service).
    outcome_value: float | None = None
    outcome_at: datetime | None = timestamp(nullable=True)

    @staticmethod
    def changes(item: Recommendation) -> dict[str, Any]:
        """The columns a decision or a sweep may change, as a compare-and-swap writes them."""
        claim, draft = item.claim, item.draft
        return {
            "payload": item.payload,
            "tier": item.tier,
            "status": item.status,
            "sampled_for_audit": item.sampled_for_audit,
            "version": item.version,
            "claimed_by_id": claim.reviewer_id if claim else None,
            "claimed_at": claim.claimed_at if claim else None,
            "claim_expires_at": claim.expires_at if claim else review_leases_until(item),
            "flagged": item.flagged,
            "confirm_until": item.confirm_until,
            "sla_due_at": item.sla_due_at,
            "due_sort": item.sla_due_at or FAR_FUTURE,
            "sla_breached": item.sla_breached,
            "final_action": item.final_action,
            "decided_at": item.decided_at,
            "draft_content": draft.content if draft else None,
            "draft_score": draft.predicted_score if draft else None,
            "assignee_id": item.assignee_id,
            "assigned_team_id": item.assigned_team_id,
            "reviews_required": item.reviews_required,
            "agreement_required": item.agreement_required,
            "four_eyes": item.four_eyes,
            "consensus_state": item.consensus_state,
            "reviews": [r.to_json() for r in item.reviews] if item.reviews else None,
            "voters": voters_text(item),
        }

    @classmethod
    def of(cls, item: Recommendation, policy_version: int) -> RecommendationRow:
        return cls.model_construct(**cls.values(item, policy_version))

    @classmethod
    def values(cls, item: Recommendation, policy_version: int) -> dict[str, Any]:
        """The columns a new item's row is inserted with (`values_of` its `of`, built
        directly: a batch of hundreds skips a model per item)."""
        draft = item.draft
        return {
            "id": item.id,
            "workflow_id": item.workflow_id,
            "external_id": item.external_id,
            "subject": item.subject,
            "proposed_action": item.proposed_action,
            "confidence": item.confidence,
            "explanation": item.explanation,
            "stakes": item.stakes,
            "model_version": item.model_version,
            "draft_original": draft.original if draft else None,
            "draft_original_score": draft.original_predicted_score if draft else None,
            "created_at": item.created_at,
            "policy_version": policy_version,
            "canary": item.canary,
            "canary_of": item.canary_of,
            "submitted_by_id": item.submitted_by_id,
            **cls.changes(item),
        }

    def to_domain(self) -> Recommendation:
        claim = None
        if self.claimed_by_id is not None and self.claimed_at and self.claim_expires_at:
            claim = Claim(self.claimed_by_id, self.claimed_at, self.claim_expires_at)
        draft = None
        if self.draft_original is not None:
            draft = Draft(
                original=self.draft_original,
                content=self.draft_content
                if self.draft_content is not None
                else self.draft_original,
                original_predicted_score=self.draft_original_score,
                predicted_score=self.draft_score,
            )
        return Recommendation(
            id=self.id,
            workflow_id=self.workflow_id,
            payload=dict(self.payload),
            proposed_action=self.proposed_action,
            confidence=self.confidence,
            created_at=self.created_at,
            external_id=self.external_id,
            subject=self.subject,
            explanation=list(self.explanation or []),
            stakes=self.stakes,
            model_version=self.model_version,
            draft=draft,
            tier=self.tier,
            status=self.status,
            sampled_for_audit=self.sampled_for_audit,
            version=self.version,
            claim=claim,
            flagged=self.flagged,
            confirm_until=self.confirm_until,
            sla_due_at=self.sla_due_at,
            sla_breached=self.sla_breached,
            final_action=self.final_action,
            decided_at=self.decided_at,
            canary=self.canary,
            canary_of=self.canary_of,
            assignee_id=self.assignee_id,
            assigned_team_id=self.assigned_team_id,
            reviews_required=self.reviews_required,
            agreement_required=self.agreement_required,
            four_eyes=self.four_eyes,
            submitted_by_id=self.submitted_by_id,
            consensus_state=self.consensus_state,
            reviews=[Review.from_json(r) for r in self.reviews or []],
        )


class DraftRevisionRow(SQLModel, table=True):
    __tablename__ = "draft_revisions"
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    content: str = Field(sa_type=sa.Text)
    predicted_score: float | None = None
    author_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = timestamp()

    @classmethod
    def of(cls, rec_id: str, revision: DraftRevision) -> DraftRevisionRow:
        return cls.model_construct(
            recommendation_id=rec_id,
            content=revision.content,
            predicted_score=revision.predicted_score,
            author_id=revision.author_id,
            created_at=revision.created_at,
        )

    def to_domain(self) -> DraftRevision:
        return DraftRevision(self.content, self.predicted_score, self.author_id, self.created_at)

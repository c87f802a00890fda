"""The decision log, the overrides it holds, and high-stakes confirmation grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.enums import Tier, Verdict
from domain.model import Decision, Override
from domain.ports import ConfirmationGrant
from store.tables.columns import enum_field, json_field, timestamp


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (
        sa.UniqueConstraint("workflow_id", "seq", name="uq_decisions_chain"),
        sa.Index("ix_decisions_log", "workflow_id", "created_at", "seq"),
    )
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    seq: int
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    verdict: Verdict = enum_field(Verdict, 24)
    automated: bool
    actor_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    proposed_action: str = Field(max_length=200)
    final_action: str | None = Field(default=None, max_length=200)
    confidence: float
    tier: Tier = enum_field(Tier, 16)
    policy_version: int
    reason: str | None = Field(default=None, sa_type=sa.Text)
    reason_tags: list[str] = json_field()
    edited_content: str | None = Field(default=None, sa_type=sa.Text)
    dwell_ms: int | None = None
    reverts_id: str | None = Field(default=None, max_length=40, index=True)
    vote: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    model_version: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()
    prev_hash: str = Field(max_length=64)
    audit_hash: str = Field(max_length=64)
    # The exact bytes whose RFC 6962 leaf hash is node (0, seq - 1) of the workflow's tree.
    leaf: str = Field(sa_type=sa.Text)

    @classmethod
    def of(cls, d: Decision) -> DecisionRow:
        return cls.model_construct(**cls.values(d))

    @staticmethod
    def values(d: Decision) -> dict[str, Any]:
        """The columns the decision's row is inserted with (`values_of` its `of`, built
        directly: a batch of hundreds skips a model per decision)."""
        return {
            "id": d.id,
            "workflow_id": d.workflow_id,
            "seq": d.seq,
            "recommendation_id": d.recommendation_id,
            "verdict": d.verdict,
            "automated": d.automated,
            "actor_id": d.actor_id,
            "proposed_action": d.proposed_action,
            "final_action": d.final_action,
            "confidence": d.confidence,
            "tier": d.tier,
            "policy_version": d.policy_version,
            "reason": d.reason,
            "reason_tags": d.reason_tags,
            "edited_content": d.edited_content,
            "dwell_ms": d.dwell_ms,
            "reverts_id": d.reverts_id,
            "vote": d.vote,
            "model_version": d.model_version,
            "created_at": d.created_at,
            "prev_hash": d.prev_hash,
            "audit_hash": d.audit_hash,
            "leaf": d.leaf,
        }

    def to_domain(self, undone: bool = False) -> Decision:
        """The decision; whether a later UNDO reverted it is the caller's to say."""
        return Decision(
            id=self.id,
            workflow_id=self.workflow_id,
            recommendation_id=self.recommendation_id,
            verdict=self.verdict,
            automated=self.automated,
            actor_id=self.actor_id,
            proposed_action=self.proposed_action,
            final_action=self.final_action,
            confidence=self.confidence,
            tier=self.tier,
            policy_version=self.policy_version,
            created_at=self.created_at,
            reason=self.reason,
            reason_tags=list(self.reason_tags or []),
            edited_content=self.edited_content,
            dwell_ms=self.dwell_ms,
            reverts_id=self.reverts_id,
            vote=self.vote,
            model_version=self.model_version,
            seq=self.seq,
            prev_hash=self.prev_hash,
            audit_hash=self.audit_hash,
            leaf=self.leaf,
            undone=undone,
        )


class OverrideRow(SQLModel, table=True):
    __tablename__ = "overrides"
    __table_args__ = (sa.Index("ix_overrides_log", "workflow_id", "created_at", "id"),)
    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", max_length=40)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    # No foreign key: an override is written with its decision, which reaches the
    # decisions table only when the log seals it, just after (store.log_tree).
    decision_id: str = Field(max_length=40, index=True)
    proposed_action: str = Field(max_length=200)
    chosen_action: str = Field(max_length=200)
    confidence: float
    reason: str = Field(sa_type=sa.Text)
    reviewer_id: str = Field(foreign_key="users.id", max_length=40)
    theme: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()

    @classmethod
    def of(cls, o: Override) -> OverrideRow:
        return cls.model_construct(
            id=o.id,
            workflow_id=o.workflow_id,
            recommendation_id=o.recommendation_id,
            decision_id=o.decision_id,
            proposed_action=o.proposed_action,
            chosen_action=o.chosen_action,
            confidence=o.confidence,
            reason=o.reason,
            reviewer_id=o.reviewer_id,
            theme=o.theme,
            created_at=o.created_at,
        )

    def to_domain(self) -> Override:
        return Override(
            id=self.id,
            workflow_id=self.workflow_id,
            recommendation_id=self.recommendation_id,
            decision_id=self.decision_id,
            proposed_action=self.proposed_action,
            chosen_action=self.chosen_action,
            confidence=self.confidence,
            reason=self.reason,
            reviewer_id=self.reviewer_id,
            created_at=self.created_at,
            theme=self.theme,
        )


class ConfirmationGrantRow(SQLModel, table=True):
    __tablename__ = "confirmation_grants"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=40)
    recommendation_id: str = Field(foreign_key="recommendations.id", index=True, max_length=40)
    version: int
    verb: str = Field(max_length=120)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)

    @classmethod
    def of(cls, grant: ConfirmationGrant) -> ConfirmationGrantRow:
        return cls.model_construct(
            token_hash=grant.token_hash,
            user_id=grant.user_id,
            recommendation_id=grant.recommendation_id,
            version=grant.version,
            verb=grant.verb,
            expires_at=grant.expires_at,
        )

    def to_domain(self) -> ConfirmationGrant:
        return ConfirmationGrant(
            token_hash=self.token_hash,
            user_id=self.user_id,
            recommendation_id=self.recommendation_id,
            version=self.version,
            verb=self.verb,
            expires_at=self.expires_at,
        )

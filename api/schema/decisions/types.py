"""Decision, Override and their connections."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.enums import Tier, Verdict
from api.schema.common.types import Info, Node, PageInfo
from api.schema.loading import now_or_later
from api.schema.recommendations.types import Recommendation, load_recommendation
from api.schema.users.types import User, load_user, user_or_none
from domain import model


@strawberry.type(name="Decision")
class Decision(Node):
    id: strawberry.ID
    verdict: Verdict
    automated: bool
    undone: bool
    proposed_action: str
    final_action: str | None
    confidence: float
    tier: Tier
    reason: str | None
    reason_tags: list[str]
    edited_content: str | None
    dwell_ms: int | None = strawberry.field(description="Claim to decision, in milliseconds.")
    created_at: datetime
    policy_version: int = strawberry.field(
        description="The escalation policy version this decision was made under."
    )
    sequence: int = strawberry.field(
        description="This record's place in its workflow's hash chain (1, 2, ...)."
    )
    audit_hash: str = strawberry.field(
        description="sha256(previous record's auditHash + canonical serialisation of this one)."
    )
    vote: bool = strawberry.field(
        default=False,
        description="One review among several; the item's outcome is their consensus.",
    )
    leaf_index: int = strawberry.field(
        default=0,
        description="0-based index of its leaf in its workflow's Merkle tree (sequence - 1).",
    )
    leaf: str = strawberry.field(
        default="",
        description="The exact canonical record (UTF-8 JSON) whose RFC 6962 leaf hash, "
        "SHA-256(0x00 || leaf), is in its workflow's tree: the chain's record plus the "
        "model version.",
    )
    _decision: strawberry.Private[model.Decision]

    @strawberry.field
    async def recommendation(self, info: Info) -> Recommendation:
        return await load_recommendation(info, self._decision.recommendation_id)

    @strawberry.field
    def actor(self, info: Info) -> User | None:
        if self._decision.actor_id is None:
            return None
        return now_or_later(info.context.loaders.user, self._decision.actor_id, user_or_none)

    @classmethod
    def from_domain(cls, d: model.Decision) -> Decision:
        return cls(
            id=strawberry.ID(d.id),
            verdict=d.verdict,
            automated=d.automated,
            undone=d.undone,
            vote=d.vote,
            proposed_action=d.proposed_action,
            final_action=d.final_action,
            confidence=d.confidence,
            tier=d.tier,
            reason=d.reason,
            reason_tags=list(d.reason_tags),
            edited_content=d.edited_content,
            dwell_ms=d.dwell_ms,
            created_at=d.created_at,
            policy_version=d.policy_version,
            sequence=d.seq,
            audit_hash=d.audit_hash,
            leaf_index=d.leaf_index,
            leaf=d.leaf,
            _decision=d,
        )


@strawberry.type(name="Override")
class Override(Node):
    id: strawberry.ID
    proposed_action: str
    chosen_action: str
    confidence: float
    reason: str
    theme: str | None
    created_at: datetime
    _override: strawberry.Private[model.Override]

    @strawberry.field
    async def recommendation(self, info: Info) -> Recommendation:
        return await load_recommendation(info, self._override.recommendation_id)

    @strawberry.field
    async def decision(self, info: Info) -> Decision:
        found = await info.context.loaders.decision.load(self._override.decision_id)
        assert found is not None
        return Decision.from_domain(found)

    @strawberry.field
    async def reviewer(self, info: Info) -> User:
        user = await load_user(info, self._override.reviewer_id)
        assert user is not None
        return user

    @classmethod
    def from_domain(cls, o: model.Override) -> Override:
        return cls(
            id=strawberry.ID(o.id),
            proposed_action=o.proposed_action,
            chosen_action=o.chosen_action,
            confidence=o.confidence,
            reason=o.reason,
            theme=o.theme,
            created_at=o.created_at,
            _override=o,
        )


@strawberry.type
class DecisionEdge:
    cursor: str
    node: Decision


@strawberry.type
class DecisionConnection:
    edges: list[DecisionEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class OverrideEdge:
    cursor: str
    node: Override


@strawberry.type
class OverrideConnection:
    edges: list[OverrideEdge]
    page_info: PageInfo
    total_count: int

"""Canaries: known-wrong proposals mixed into a reviewer's claimNext stream.

A canary is a fresh copy of a past OVERRIDDEN item of the workflow that proposes
again what the model originally proposed, i.e. what a reviewer already found
wrong. It is handed to one reviewer (claimed by them) and looks like any other
item. Deciding it is logged like any decision, but canaries never reach
webhooks, queue events, the learning data or the divergence figures; they count
only for the reviewer's auditAccuracy (and canariesMissed).

What counts as catching one: rejecting it, or overriding it to the action the
source item was finally given. Approving it (or editing it, which ships the
proposed action), or overriding it to yet another action, is a miss.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from domain.enums import RecommendationStatus, Verdict
from domain.ids import new_id
from domain.model import Claim, Draft, Recommendation, User
from domain.policy import EscalationPolicy


def wants_canary(policy: EscalationPolicy, rng: random.Random) -> bool:
    """Whether this hand-out is a canary: a draw below the policy's canaryRate."""
    return policy.canary_rate > 0 and rng.random() < policy.canary_rate


def build_canary(
    source: Recommendation,
    user: User,
    policy: EscalationPolicy,
    now: datetime,
    lease: timedelta,
) -> tuple[Recommendation, Claim]:
    """A new item, already claimed by `user`, that proposes the source's known-wrong action."""
    claim = Claim(reviewer_id=user.id, claimed_at=now, expires_at=now + lease)
    draft = None
    if source.draft is not None:
        draft = Draft(
            original=source.draft.original,
            content=source.draft.original,
            original_predicted_score=source.draft.original_predicted_score,
            predicted_score=source.draft.original_predicted_score,
        )
    canary = Recommendation(
        id=new_id("rec"),
        workflow_id=source.workflow_id,
        payload=dict(source.payload),
        proposed_action=source.proposed_action,
        confidence=source.confidence,
        created_at=now,
        external_id=None,
        subject=source.subject,
        explanation=[dict(e) for e in source.explanation],
        stakes=source.stakes,
        model_version=source.model_version,
        draft=draft,
        tier=source.tier,
        status=RecommendationStatus.CLAIMED,
        claim=claim,
        sla_due_at=policy.sla_due(source.tier, now),
        canary=True,
        canary_of=source.id,
    )
    return canary, claim


def caught(verdict: Verdict, final_action: str | None, right_action: str | None) -> bool:
    """Whether a counted decision on a canary caught the known-wrong proposal."""
    if verdict is Verdict.REJECT:
        return True
    if verdict is Verdict.OVERRIDE:
        return final_action is not None and final_action == right_action
    return False

"""An item as JSON: the snapshot a queue event keeps in the outbox and carries on the bus.

Every field is named here, so the snapshot does not change when a table column is
renamed. The events table keeps snapshots for good, so decoding reads every form ever
written: snapshots from before canaries existed lack `canary` and `canary_of`, those
from before assignment and several reviews lack `assignee_id`, `assigned_team_id` and
the review fields, and older ones carry `due_sort` (a sort key of the recommendations
table), which is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.clock import as_utc
from domain.consensus import Review
from domain.enums import ConsensusState, RecommendationStatus, Tier
from domain.model import Claim, Draft, Recommendation


def encode_time(value: datetime | None) -> str | None:
    """An ISO 8601 string, or None."""
    return value.isoformat() if value is not None else None


def decode_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string (naive ones are taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        return as_utc(datetime.fromisoformat(value))
    raise TypeError(f"not a time: {value!r}")


def decode_required_time(value: object) -> datetime:
    """As decode_time, for a time that must be there."""
    decoded = decode_time(value)
    if decoded is None:
        raise ValueError("a required time is missing")
    return decoded


def encode_recommendation(item: Recommendation) -> dict[str, Any]:
    """The item as a JSON-ready dict: enough to rebuild it without a query."""
    claim, draft = item.claim, item.draft
    return {
        "id": item.id,
        "workflow_id": item.workflow_id,
        "external_id": item.external_id,
        "subject": item.subject,
        "payload": item.payload,
        "proposed_action": item.proposed_action,
        "confidence": item.confidence,
        "explanation": item.explanation,
        "stakes": item.stakes,
        "model_version": item.model_version,
        "created_at": encode_time(item.created_at),
        "tier": item.tier.value,
        "status": item.status.value,
        "sampled_for_audit": item.sampled_for_audit,
        "version": item.version,
        "claimed_by_id": claim.reviewer_id if claim else None,
        "claimed_at": encode_time(claim.claimed_at) if claim else None,
        "claim_expires_at": encode_time(claim.expires_at) if claim else None,
        "draft_original": draft.original if draft else None,
        "draft_content": draft.content if draft else None,
        "draft_original_score": draft.original_predicted_score if draft else None,
        "draft_score": draft.predicted_score if draft else None,
        "flagged": item.flagged,
        "confirm_until": encode_time(item.confirm_until),
        "sla_due_at": encode_time(item.sla_due_at),
        "sla_breached": item.sla_breached,
        "final_action": item.final_action,
        "decided_at": encode_time(item.decided_at),
        "canary": item.canary,
        "canary_of": item.canary_of,
        "assignee_id": item.assignee_id,
        "assigned_team_id": item.assigned_team_id,
        "reviews_required": item.reviews_required,
        "agreement_required": item.agreement_required,
        "four_eyes": item.four_eyes,
        "submitted_by_id": item.submitted_by_id,
        "consensus_state": item.consensus_state.value if item.consensus_state else None,
        "reviews": [r.to_json() for r in item.reviews],
    }


def decode_recommendation(snapshot: Mapping[str, Any]) -> Recommendation:
    """The item back from any snapshot ever written (see the module's docstring).

    Raises KeyError, TypeError or ValueError when the snapshot is not one."""
    claim = None
    reviewer_id = snapshot["claimed_by_id"]
    claimed_at = decode_time(snapshot["claimed_at"])
    expires_at = decode_time(snapshot["claim_expires_at"])
    if reviewer_id is not None and claimed_at and expires_at:
        claim = Claim(reviewer_id, claimed_at, expires_at)
    draft = None
    original = snapshot["draft_original"]
    if original is not None:
        content = snapshot["draft_content"]
        draft = Draft(
            original=original,
            content=content if content is not None else original,
            original_predicted_score=snapshot["draft_original_score"],
            predicted_score=snapshot["draft_score"],
        )
    state = snapshot.get("consensus_state")
    return Recommendation(
        id=snapshot["id"],
        workflow_id=snapshot["workflow_id"],
        payload=dict(snapshot["payload"]),
        proposed_action=snapshot["proposed_action"],
        confidence=snapshot["confidence"],
        created_at=decode_required_time(snapshot["created_at"]),
        external_id=snapshot["external_id"],
        subject=snapshot["subject"],
        explanation=list(snapshot["explanation"] or []),
        stakes=snapshot["stakes"],
        model_version=snapshot["model_version"],
        draft=draft,
        tier=Tier(snapshot["tier"]),
        status=RecommendationStatus(snapshot["status"]),
        sampled_for_audit=snapshot["sampled_for_audit"],
        version=snapshot["version"],
        claim=claim,
        flagged=snapshot["flagged"],
        confirm_until=decode_time(snapshot["confirm_until"]),
        sla_due_at=decode_time(snapshot["sla_due_at"]),
        sla_breached=snapshot["sla_breached"],
        final_action=snapshot["final_action"],
        decided_at=decode_time(snapshot["decided_at"]),
        canary=bool(snapshot.get("canary", False)),
        canary_of=snapshot.get("canary_of"),
        assignee_id=snapshot.get("assignee_id"),
        assigned_team_id=snapshot.get("assigned_team_id"),
        reviews_required=int(snapshot.get("reviews_required", 1)),
        agreement_required=int(snapshot.get("agreement_required", 1)),
        four_eyes=bool(snapshot.get("four_eyes", False)),
        submitted_by_id=snapshot.get("submitted_by_id"),
        consensus_state=ConsensusState(state) if state else None,
        reviews=[Review.from_json(r) for r in snapshot.get("reviews") or []],
    )

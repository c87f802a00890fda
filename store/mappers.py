"""Rows to domain objects and back."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from domain.clock import as_utc
from domain.enums import (
    FloorAction,
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    WorkflowKind,
)
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind, JobState
from domain.messages import QueueEventMessage
from domain.model import (
    Claim,
    Decision,
    Draft,
    DraftRevision,
    Override,
    Recommendation,
    User,
    Workflow,
)
from domain.policy import EscalationPolicy
from domain.snapshots import encode_recommendation
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def user(row: Any) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role), created_at=_utc(row.created_at))


POLICY_FIELDS = [f.name for f in fields(EscalationPolicy) if f.name != "workflow_id"]


def policy(row: Any) -> EscalationPolicy:
    values = {name: getattr(row, name) for name in POLICY_FIELDS}
    values["below_floor"] = FloorAction(row.below_floor)
    values["changed_at"] = as_utc(row.changed_at)
    return EscalationPolicy(**values, workflow_id=row.workflow_id)


def policy_row(workflow_id: str, p: EscalationPolicy) -> dict[str, Any]:
    assert p.changed_at is not None
    values = {name: getattr(p, name) for name in POLICY_FIELDS}
    return {**values, "below_floor": p.below_floor.value, "workflow_id": workflow_id}


def workflow(row: Any, current: EscalationPolicy) -> Workflow:
    return Workflow(
        id=row.id,
        key=row.key,
        name=row.name,
        kind=WorkflowKind(row.kind),
        reviewer_role=ReviewerRole(row.reviewer_role),
        actions=list(row.actions),
        score_label=row.score_label,
        created_at=_utc(row.created_at),
        policy=current,
    )


def recommendation(row: Any) -> Recommendation:
    claim = None
    if row.claimed_by_id is not None and row.claimed_at and row.claim_expires_at:
        claim = Claim(row.claimed_by_id, _utc(row.claimed_at), _utc(row.claim_expires_at))
    draft = None
    if row.draft_original is not None:
        draft = Draft(
            original=row.draft_original,
            content=row.draft_content if row.draft_content is not None else row.draft_original,
            original_predicted_score=row.draft_original_score,
            predicted_score=row.draft_score,
        )
    return Recommendation(
        id=row.id,
        workflow_id=row.workflow_id,
        payload=dict(row.payload),
        proposed_action=row.proposed_action,
        confidence=row.confidence,
        created_at=_utc(row.created_at),
        external_id=row.external_id,
        subject=row.subject,
        explanation=list(row.explanation or []),
        stakes=row.stakes,
        model_version=row.model_version,
        draft=draft,
        tier=Tier(row.tier),
        status=RecommendationStatus(row.status),
        sampled_for_audit=row.sampled_for_audit,
        version=row.version,
        claim=claim,
        flagged=row.flagged,
        confirm_until=as_utc(row.confirm_until),
        sla_due_at=as_utc(row.sla_due_at),
        sla_breached=row.sla_breached,
        final_action=row.final_action,
        decided_at=as_utc(row.decided_at),
        # Event snapshots written before canaries existed lack these.
        canary=bool(getattr(row, "canary", False)),
        canary_of=getattr(row, "canary_of", None),
    )


def recommendation_values(item: Recommendation) -> dict[str, Any]:
    """The mutable columns, as written by a compare-and-swap update."""
    claim = item.claim
    return {
        "payload": item.payload,
        "tier": item.tier.value,
        "status": item.status.value,
        "sampled_for_audit": item.sampled_for_audit,
        "version": item.version,
        "claimed_by_id": claim.reviewer_id if claim else None,
        "claimed_at": claim.claimed_at if claim else None,
        "claim_expires_at": claim.expires_at if claim else None,
        "flagged": item.flagged,
        "confirm_until": item.confirm_until,
        "sla_due_at": item.sla_due_at,
        "due_sort": item.sla_due_at or FAR_FUTURE,
        "sla_breached": item.sla_breached,
        "final_action": item.final_action,
        "decided_at": item.decided_at,
        "draft_content": item.draft.content if item.draft else None,
        "draft_score": item.draft.predicted_score if item.draft else None,
    }


def recommendation_row(item: Recommendation, policy_version: int) -> dict[str, Any]:
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
        "draft_original": item.draft.original if item.draft else None,
        "draft_original_score": item.draft.original_predicted_score if item.draft else None,
        "created_at": item.created_at,
        "policy_version": policy_version,
        "canary": item.canary,
        "canary_of": item.canary_of,
        **recommendation_values(item),
    }


def decision(row: Any, undone: bool = False) -> Decision:
    return Decision(
        id=row.id,
        workflow_id=row.workflow_id,
        recommendation_id=row.recommendation_id,
        verdict=Verdict(row.verdict),
        automated=row.automated,
        actor_id=row.actor_id,
        proposed_action=row.proposed_action,
        final_action=row.final_action,
        confidence=row.confidence,
        tier=Tier(row.tier),
        policy_version=row.policy_version,
        created_at=_utc(row.created_at),
        reason=row.reason,
        reason_tags=list(row.reason_tags or []),
        edited_content=row.edited_content,
        dwell_ms=row.dwell_ms,
        reverts_id=row.reverts_id,
        seq=row.seq,
        prev_hash=row.prev_hash,
        audit_hash=row.audit_hash,
        undone=undone,
    )


def decision_row(d: Decision) -> dict[str, Any]:
    return {
        "id": d.id,
        "workflow_id": d.workflow_id,
        "seq": d.seq,
        "recommendation_id": d.recommendation_id,
        "verdict": d.verdict.value,
        "automated": d.automated,
        "actor_id": d.actor_id,
        "proposed_action": d.proposed_action,
        "final_action": d.final_action,
        "confidence": d.confidence,
        "tier": d.tier.value,
        "policy_version": d.policy_version,
        "reason": d.reason,
        "reason_tags": d.reason_tags,
        "edited_content": d.edited_content,
        "dwell_ms": d.dwell_ms,
        "reverts_id": d.reverts_id,
        "created_at": d.created_at,
        "prev_hash": d.prev_hash,
        "audit_hash": d.audit_hash,
    }


def revision(row: Any) -> DraftRevision:
    return DraftRevision(row.content, row.predicted_score, row.author_id, _utc(row.created_at))


def override(row: Any) -> Override:
    return Override(
        id=row.id,
        workflow_id=row.workflow_id,
        recommendation_id=row.recommendation_id,
        decision_id=row.decision_id,
        proposed_action=row.proposed_action,
        chosen_action=row.chosen_action,
        confidence=row.confidence,
        reason=row.reason,
        reviewer_id=row.reviewer_id,
        created_at=_utc(row.created_at),
        theme=row.theme,
    )


def _utc(value: Any) -> Any:
    converted = as_utc(value)
    assert converted is not None
    return converted


# ------------------------------------------------------------------ events, jobs, webhooks


def event_message(row: Any) -> QueueEventMessage:
    """An events row as the message it publishes; the item stays as its stored snapshot."""
    return QueueEventMessage(
        id=row.id,
        kind=QueueEventKind(row.kind),
        workflow_id=row.workflow_id,
        at=_utc(row.at),
        snapshot=row.recommendation,
        seq=row.seq,
        actor_id=row.actor_id,
        decision_id=row.decision_id,
        previous_tier=row.previous_tier,
    )


def event(row: Any) -> QueueEvent:
    return event_message(row).event()


def event_row(e: QueueEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "workflow_id": e.workflow_id,
        "recommendation_id": e.recommendation.id,
        "tier": e.recommendation.tier.value,
        "actor_id": e.actor_id,
        "decision_id": e.decision_id,
        "previous_tier": e.previous_tier,
        "at": e.at,
        "recommendation": encode_recommendation(e.recommendation),
    }


def job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=JobKind(row.kind),
        created_at=_utc(row.created_at),
        args=dict(row.args or {}),
        state=JobState(row.state),
        progress=row.progress,
        message=row.message,
        result=row.result,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        heartbeat_at=as_utc(row.heartbeat_at),
        attempts=row.attempts,
    )


def job_row(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "kind": j.kind.value,
        "state": j.state.value,
        "progress": j.progress,
        "message": j.message,
        "result": j.result,
        "args": j.args,
        "created_at": j.created_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "heartbeat_at": j.heartbeat_at,
        "attempts": j.attempts,
    }


def webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        workflow_id=row.workflow_id,
        url=row.url,
        events=[QueueEventKind(k) for k in row.events],
        active=row.active,
        created_at=_utc(row.created_at),
    )


def delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_kind=QueueEventKind(row.event_kind),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        created_at=_utc(row.created_at),
        last_error=row.last_error,
        last_attempt_at=as_utc(row.last_attempt_at),
        delivered_at=as_utc(row.delivered_at),
        next_attempt_at=as_utc(row.next_attempt_at),
    )

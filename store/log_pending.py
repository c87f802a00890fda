"""A decision as the JSON record it waits in while pending (store.tables.log), and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.clock import as_utc
from domain.decisions import Decision
from domain.enums import Tier, Verdict
from store.tables import PendingDecisionRow


def pending_row(decision: Decision) -> dict[str, Any]:
    """The `decisions_pending` row that holds `decision` until it is sealed."""
    created_at = as_utc(decision.created_at)
    assert created_at is not None
    record = {
        "id": decision.id,
        "workflow_id": decision.workflow_id,
        "recommendation_id": decision.recommendation_id,
        "verdict": decision.verdict.value,
        "automated": decision.automated,
        "actor_id": decision.actor_id,
        "proposed_action": decision.proposed_action,
        "final_action": decision.final_action,
        "confidence": decision.confidence,
        "tier": decision.tier.value,
        "policy_version": decision.policy_version,
        "created_at": created_at.isoformat(),
        "reason": decision.reason,
        "reason_tags": list(decision.reason_tags),
        "edited_content": decision.edited_content,
        "dwell_ms": decision.dwell_ms,
        "reverts_id": decision.reverts_id,
        "vote": decision.vote,
        "model_version": decision.model_version,
    }
    row = PendingDecisionRow.model_construct(
        workflow_id=decision.workflow_id,
        decision_id=decision.id,
        recommendation_id=decision.recommendation_id,
        actor_id=decision.actor_id,
        verdict=decision.verdict.value,
        created_at=created_at,
        record=orjson.dumps(record).decode(),
    )
    return {name: row.__dict__[name] for name in row.model_fields_set}


def decision_of_record(record: str) -> Decision:
    """The unsealed decision a pending row's record holds (floats come back exactly)."""
    values = orjson.loads(record)
    created_at = as_utc(datetime.fromisoformat(values.pop("created_at")))
    assert created_at is not None
    return Decision(
        id=values["id"],
        workflow_id=values["workflow_id"],
        recommendation_id=values["recommendation_id"],
        verdict=Verdict(values["verdict"]),
        automated=values["automated"],
        actor_id=values["actor_id"],
        proposed_action=values["proposed_action"],
        final_action=values["final_action"],
        confidence=values["confidence"],
        tier=Tier(values["tier"]),
        policy_version=values["policy_version"],
        created_at=created_at,
        reason=values["reason"],
        reason_tags=list(values["reason_tags"]),
        edited_content=values["edited_content"],
        dwell_ms=values["dwell_ms"],
        reverts_id=values["reverts_id"],
        vote=values["vote"],
        model_version=values["model_version"],
    )

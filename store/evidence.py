"""Evidence packs: one item's sealed decisions, each with its inclusion proof under one
signed checkpoint of its workflow's log, for checking offline (format version 1, as
tools/verify_evidence.py and docs/evidence-pack.md define it).

A pack's leaves are recomputed from the decision records as they stand (domain.audit),
not copied from the stored leaf column: a record edited after it was sealed no longer
leads to the signed root, and the pack fails verification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from domain.audit import leaf_text
from domain.clock import as_utc, utcnow
from domain.decisions import Decision
from domain.errors import NotFoundError
from domain.model import Recommendation, Workflow
from domain.policy import EscalationPolicy
from store.log_reads import LogReads
from store.log_tree import Checkpoint, Signing
from store.models import VERSION_ONLY
from store.queries import Reads
from store.tables import (
    ModelVersionRow,
    PolicyRow,
    models_t,
    pending_decisions_t,
    policies_t,
)

FORMAT = "arbiter-evidence-pack/1"
_MODEL_LABEL = re.compile(r"v([1-9][0-9]*)")


class EvidenceReads(LogReads):
    """The log's reads, and the past versions of policies and models a pack names."""

    @classmethod
    def over(cls, model: Reads) -> EvidenceReads:
        return cls(model.session, model._lock)

    async def policy_version(self, workflow_id: str, version: int) -> EscalationPolicy | None:
        """The workflow's policy as it was at `version`."""
        rows = await self._rows(
            sa.select(PolicyRow).where(
                policies_t.c.workflow_id == workflow_id, policies_t.c.version == version
            )
        )
        return rows[0].to_domain() if rows else None

    async def model_version(self, workflow_id: str, version: int) -> ModelVersionRow | None:
        """The workflow's trained model of this version number, without its artifact."""
        rows = await self._rows(
            sa.select(ModelVersionRow)
            .options(*VERSION_ONLY)
            .where(models_t.c.workflow_id == workflow_id, models_t.c.version == version)
        )
        return rows[0] if rows else None

    async def has_pending(self, recommendation_id: str) -> bool:
        """Whether a decision of the item waits to be sealed into the log."""
        c = pending_decisions_t.c
        found = await self._execute(
            sa.select(c.arrival).where(c.recommendation_id == recommendation_id).limit(1)
        )
        return found.first() is not None


@dataclass(frozen=True)
class _Item:
    """What a pack is built from, read in one session."""

    recommendation: Recommendation
    workflow: Workflow
    decisions: list[Decision]


async def evidence_pack(
    reads: Reads, signing: Signing, recommendation_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """The evidence pack (a JSON-ready dict) of one item's sealed decisions.

    The checkpoint is the workflow's latest stored one when it holds every decision of
    the item, else one signed now at the tree's current size. NotFoundError for an
    unknown item or one with no sealed decision.
    """
    log = EvidenceReads.over(reads)
    item = await _item(log, recommendation_id)
    workflow, decisions = item.workflow, item.decisions
    checkpoint = await _checkpoint(log, signing, workflow, decisions[-1].leaf_index)
    # The origin its note names (this deployment's, unless ARBITER_LOG_ORIGIN changed
    # since a stored checkpoint was signed).
    origin = checkpoint.note.split("\n", 1)[0]
    proofs = [
        await log.inclusion_proof(workflow.id, d.leaf_index, checkpoint.tree_size)
        for d in decisions
    ]
    policy = await _policy(log, workflow, decisions[-1].policy_version)
    model = await _model(log, workflow.id, item.recommendation.model_version)
    return {
        "format": FORMAT,
        "exportedAt": _time(now or utcnow()),
        "log": {"origin": origin, "publicKey": signing.signer.public_key_base64()},
        "recommendation": recommendation_json(item.recommendation, workflow),
        "policy": policy_json(policy),
        "model": model,
        "checkpoint": {
            "treeSize": checkpoint.tree_size,
            "rootHash": checkpoint.root_hash.hex(),
            "note": checkpoint.note,
            "signature": checkpoint.signature,
            "createdAt": _time(checkpoint.created_at),
        },
        "decisions": [
            {
                "id": d.id,
                "leafIndex": d.leaf_index,
                "leaf": leaf_text(d),
                "prevHash": d.prev_hash,
                "auditHash": d.audit_hash,
                "auditPath": [h.hex() for h in path],
                "undone": d.undone,
            }
            for d, path in zip(decisions, proofs, strict=True)
        ],
    }


async def _item(log: EvidenceReads, recommendation_id: str) -> _Item:
    found = (await log.recommendations([recommendation_id])).get(recommendation_id)
    if found is None:
        raise NotFoundError(f"no item with id {recommendation_id!r}")
    workflows = await log.workflows([found.workflow_id])
    decisions = (await log.decisions_of([recommendation_id])).get(recommendation_id, [])
    if not decisions:
        waiting = await log.has_pending(recommendation_id)
        more = " (its decisions wait to be sealed: try again in a moment)" if waiting else ""
        raise NotFoundError(f"item {recommendation_id} has no decision in the log yet{more}")
    return _Item(found, workflows[0], sorted(decisions, key=lambda d: d.seq))


async def _checkpoint(
    log: LogReads, signing: Signing, workflow: Workflow, last_leaf: int
) -> Checkpoint:
    """The latest stored checkpoint if it holds the leaf, else one signed now.

    A stored checkpoint is taken as it is, never re-signed: one that was forged (or
    signed by another key) makes the pack fail, as it should."""
    stored = await log.checkpoint(workflow.id)
    if stored is not None and stored.tree_size > last_leaf:
        return stored
    size = await log.tree_size(workflow.id)
    root = await log.root(workflow.id, size)
    return signing.checkpoint(workflow.id, workflow.key, size, root, utcnow())


async def _policy(log: EvidenceReads, workflow: Workflow, version: int) -> EscalationPolicy:
    found = await log.policy_version(workflow.id, version)
    if found is None:
        raise NotFoundError(f"workflow {workflow.key!r} has no stored policy version {version}")
    return found


async def _model(log: EvidenceReads, workflow_id: str, label: str | None) -> dict[str, Any] | None:
    """The model version the item names, with its metrics (None when it names none;
    metrics null when the name is not one of the workflow's trained versions)."""
    if label is None:
        return None
    named = _MODEL_LABEL.fullmatch(label)
    row = None if named is None else await log.model_version(workflow_id, int(named[1]))
    if row is None:
        return {"version": label, "known": False, "metrics": None}
    return {
        "version": label,
        "known": True,
        "kind": row.kind.value,
        "status": row.status.value,
        "trainedOn": row.trained_on,
        "createdAt": _time(row.created_at),
        "promotedAt": _time(row.promoted_at),
        "metrics": row.metrics,
    }


def recommendation_json(item: Recommendation, workflow: Workflow) -> dict[str, Any]:
    """The item as people read it in a pack (camelCase, times in UTC)."""
    draft = item.draft
    return {
        "id": item.id,
        "workflow": workflow.key,
        "externalId": item.external_id,
        "subject": item.subject,
        "payload": item.payload,
        "explanation": item.explanation,
        "proposedAction": item.proposed_action,
        "finalAction": item.final_action,
        "confidence": item.confidence,
        "stakes": item.stakes,
        "tier": item.tier.value,
        "status": item.status.value,
        "modelVersion": item.model_version,
        "sampledForAudit": item.sampled_for_audit,
        "draft": None
        if draft is None
        else {
            "original": draft.original,
            "content": draft.content,
            "originalPredictedScore": draft.original_predicted_score,
            "predictedScore": draft.predicted_score,
        },
        "createdAt": _time(item.created_at),
        "decidedAt": _time(item.decided_at),
    }


def policy_json(policy: EscalationPolicy) -> dict[str, Any]:
    """Every field of the policy version, camelCase (its version first)."""
    values: dict[str, Any] = {"version": policy.version}
    for spec in fields(policy):
        if spec.name in ("version", "workflow_id"):
            continue
        value = getattr(policy, spec.name)
        if isinstance(value, datetime):
            value = _time(value)
        elif hasattr(value, "value"):  # an enum
            value = value.value
        values[_camel(spec.name)] = value
    return values


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _time(value: datetime | None) -> str | None:
    utc = as_utc(value)
    return None if utc is None else utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""The model's side: proposals come in and are routed by the escalation ladder."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import outbox, validation
from domain.clock import utcnow
from domain.enums import Role, Verdict, WorkflowKind
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.events import QueueEvent, QueueEventKind
from domain.ids import new_id
from domain.model import Decision, Draft, Recommendation, User, Workflow
from domain.ports import UnitOfWork
from domain.rights import require_role
from domain.usecases.workflows import get_workflow


@dataclass(frozen=True)
class ProposalInput:
    payload: Any
    proposed_action: str
    confidence: float
    external_id: str | None = None
    subject: str | None = None
    stakes: float | None = None
    draft: str | None = None
    predicted_score: float | None = None
    model_version: str | None = None
    explanation: list[dict[str, Any]] | None = None


@dataclass
class Submission:
    recommendations: list[Recommendation] = field(default_factory=list)
    created: int = 0
    duplicates: int = 0


def _field(index: int, name: str) -> str:
    return f"items[{index}].{name}"


def _validated(workflow: Workflow, index: int, item: ProposalInput) -> ProposalInput:
    """Check one item; the error names the item and the field."""
    try:
        validation.text(item.external_id, "externalId", validation.MAX_SHORT_TEXT)
        validation.text(item.subject, "subject", validation.MAX_SUBJECT)
        validation.text(item.model_version, "modelVersion", validation.MAX_SHORT_TEXT)
        validation.text(
            item.proposed_action, "proposedAction", validation.MAX_SHORT_TEXT, required=True
        )
        workflow.require_action(item.proposed_action, "proposedAction")
        confidence = validation.finite(item.confidence, "confidence", unit=True)
        if confidence is None:
            raise InvalidInputError("confidence is required", "confidence")
        validation.finite(item.stakes, "stakes")
        validation.finite(item.predicted_score, "predictedScore")
        validation.json_object(item.payload, "payload")
        validation.text(item.draft, "draft", validation.MAX_DRAFT)
        if workflow.kind is WorkflowKind.DRAFT and item.draft is None:
            raise InvalidInputError("a DRAFT workflow's proposals carry a draft", "draft")
        if workflow.kind is not WorkflowKind.DRAFT and item.draft is not None:
            raise InvalidInputError("only DRAFT workflows take drafts", "draft")
        explanation = item.explanation or []
        if len(explanation) > validation.MAX_EXPLANATION:
            raise InvalidInputError(
                f"explanation takes at most {validation.MAX_EXPLANATION} entries", "explanation"
            )
        for entry in explanation:
            validation.text(
                entry.get("feature"),
                "explanation.feature",
                validation.MAX_SHORT_TEXT,
                required=True,
            )
            validation.finite(entry.get("contribution"), "explanation.contribution")
            validation.json_object({"value": entry.get("value")}, "explanation.value")
    except InvalidInputError as error:
        raise InvalidInputError(
            f"item {index}: {error.message}", _field(index, error.field or "item")
        ) from error
    return item


async def submit_recommendations(
    uow: UnitOfWork,
    actor: User,
    key: str,
    items: Sequence[ProposalInput],
    sampler: Callable[[], float] = random.random,
) -> Submission:
    """Store a batch atomically and route each new item; repeats of an externalId are
    duplicates that return the stored item. Results keep the input's order."""
    require_role(actor.role, Role.SERVICE, Role.ADMIN, doing="submitting recommendations")
    workflow = await get_workflow(uow, key)
    if not items:
        raise InvalidInputError("items must not be empty", "items")
    if len(items) > validation.MAX_BATCH:
        raise InvalidInputError(f"a batch takes at most {validation.MAX_BATCH} items", "items")
    checked = [_validated(workflow, index, item) for index, item in enumerate(items)]
    external_ids = [i.external_id for i in checked if i.external_id is not None]
    stored = await uow.recommendations.by_external_ids(workflow.id, external_ids)
    now = utcnow()
    policy = workflow.policy
    result = Submission()
    new_items: list[Recommendation] = []
    automated: list[Decision] = []
    events: list[QueueEvent] = []
    for item in checked:
        existing = stored.get(item.external_id) if item.external_id is not None else None
        if existing is not None:
            result.recommendations.append(existing)
            result.duplicates += 1
            continue
        rec = Recommendation(
            id=new_id("rec"),
            workflow_id=workflow.id,
            payload=item.payload,
            proposed_action=item.proposed_action,
            confidence=float(item.confidence),
            created_at=now,
            external_id=item.external_id,
            subject=item.subject,
            explanation=list(item.explanation or []),
            stakes=item.stakes,
            model_version=item.model_version,
            submitted_by_id=actor.id,
            draft=Draft(
                original=item.draft,
                content=item.draft,
                original_predicted_score=item.predicted_score,
                predicted_score=item.predicted_score,
            )
            if item.draft is not None
            else None,
        )
        decision = rec.route(policy, now, sample_for_audit=sampler() < policy.audit_sample_rate)
        events.append(QueueEvent.of(QueueEventKind.ADDED, rec, now, actor.id))
        if decision is not None:
            automated.append(decision)
            if decision.verdict is not Verdict.REQUEST_MORE_DATA:
                events.append(QueueEvent.of(QueueEventKind.DECIDED, rec, now, None, decision.id))
        if item.external_id is not None:
            stored[item.external_id] = rec
        new_items.append(rec)
        result.recommendations.append(rec)
        result.created += 1
    await uow.recommendations.add_many(new_items)
    await outbox.record(uow, events)
    await uow.decisions.append(automated)  # last: it locks the chain head until commit
    await uow.commit()
    return result


async def provide_data(uow: UnitOfWork, actor: User, rec_id: str, data: Any) -> Recommendation:
    """Merge data into a NEEDS_DATA item's payload and send it to SENIOR_REVIEW."""
    require_role(actor.role, Role.SERVICE, Role.ADMIN, doing="providing data")
    validation.json_object(data, "payload")
    item = await uow.recommendations.get(rec_id)
    if item is None:
        raise NotFoundError(f"no recommendation {rec_id}")
    workflow = await uow.workflows.get(item.workflow_id)
    assert workflow is not None
    expected_version, expected_status = item.version, item.status
    now = utcnow()
    item.provide_data(data, workflow.policy, now)
    validation.json_object(item.payload, "payload")
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("the item changed meanwhile; read it again")
    await outbox.record(uow, [QueueEvent.of(QueueEventKind.ADDED, item, now, actor.id)])
    await uow.commit()
    return item

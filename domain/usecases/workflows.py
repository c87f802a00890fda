"""Workflows and their escalation policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain import outbox, validation
from domain.clock import utcnow
from domain.enums import ReviewerRole, Role, Verdict, WorkflowKind
from domain.errors import ConflictError, InvalidInputError, NotFoundError
from domain.events import QueueEvent, QueueEventKind
from domain.ids import new_id
from domain.model import User, Workflow
from domain.policy import EscalationPolicy
from domain.ports import UnitOfWork
from domain.rights import require_role
from domain.usecases.accounts import record

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ACTIONS = 50


@dataclass(frozen=True)
class WorkflowSpec:
    key: str
    name: str
    kind: WorkflowKind
    reviewer_role: ReviewerRole
    actions: list[str]
    score_label: str | None = None
    policy_changes: dict[str, Any] | None = None


def argument_names(changes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Policy changes by the names the API's input gives them (auto_approve_at ->
    autoApproveAt), as an admin action records its arguments."""
    if changes is None:
        return None
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in changes.items()}


async def get_workflow(uow: UnitOfWork, key: str) -> Workflow:
    workflow = await uow.workflows.by_key(key)
    if workflow is None:
        raise NotFoundError(f"no workflow with key {key!r}")
    return workflow


async def create_workflow(uow: UnitOfWork, actor: User, spec: WorkflowSpec) -> Workflow:
    require_role(actor.role, Role.ADMIN, doing="creating workflows")
    if not KEY_PATTERN.match(spec.key or ""):
        raise InvalidInputError(
            "key must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter "
            "or digit",
            "key",
        )
    name = validation.text(spec.name, "name", validation.MAX_SHORT_TEXT, required=True)
    score_label = validation.text(spec.score_label, "scoreLabel", validation.MAX_SHORT_TEXT)
    actions = [a.strip() for a in spec.actions]
    if len(actions) < 2:
        raise InvalidInputError("a workflow needs at least two actions", "actions")
    if len(actions) > MAX_ACTIONS:
        raise InvalidInputError(f"a workflow takes at most {MAX_ACTIONS} actions", "actions")
    for action in actions:
        validation.text(action, "actions", validation.MAX_SHORT_TEXT, required=True)
    if len(set(actions)) != len(actions):
        raise InvalidInputError("actions must be unique", "actions")
    if spec.reviewer_role is ReviewerRole.EDITOR and spec.kind is not WorkflowKind.DRAFT:
        raise InvalidInputError(
            "EDITOR reviewers edit drafts: use kind DRAFT, or VERIFIER / EXPERT", "reviewerRole"
        )
    now = utcnow()
    policy = EscalationPolicy(version=1, changed_by_id=actor.id, changed_at=now)
    if spec.policy_changes:
        policy = policy.merged(spec.policy_changes)
    policy.validate()
    if await uow.workflows.by_key(spec.key) is not None:
        raise ConflictError(f"a workflow with key {spec.key!r} exists already")
    workflow = Workflow(
        id=new_id("wf"),
        key=spec.key,
        name=(name or "").strip(),
        kind=spec.kind,
        reviewer_role=spec.reviewer_role,
        actions=actions,
        score_label=score_label,
        created_at=now,
        policy=policy,
    )
    await uow.workflows.add(workflow)
    details = {
        "key": workflow.key,
        "name": workflow.name,
        "kind": workflow.kind.value,
        "reviewerRole": workflow.reviewer_role.value,
        "actions": actions,
        "scoreLabel": score_label,
        "policy": argument_names(spec.policy_changes),
    }
    await record(uow, actor, "createWorkflow", workflow.key, details)
    await uow.commit()
    return workflow


@dataclass(frozen=True)
class PolicyUpdate:
    policy: EscalationPolicy
    rerouted: int


async def update_policy(
    uow: UnitOfWork, actor: User, key: str, changes: dict[str, Any]
) -> PolicyUpdate:
    """Merge `changes` into the current policy, store it as a new version and re-route
    every still-PENDING item by the new thresholds, all in one transaction."""
    require_role(actor.role, Role.ADMIN, doing="changing escalation policies")
    workflow = await get_workflow(uow, key)
    now = utcnow()
    current = workflow.policy
    policy = current.merged(changes)
    policy = EscalationPolicy(
        **{
            **policy.__dict__,
            "version": current.version + 1,
            "changed_by_id": actor.id,
            "changed_at": now,
        }
    )
    policy.validate()
    rerouted, automated, events = 0, [], []
    for item in await uow.recommendations.pending_for_reroute(workflow.id, now):
        if item.under_review(now):
            continue  # reviewers lease it or voted on it: the ladder no longer moves it
        before, rule_before = item.tier, item.review_rule
        expected_version, expected_status = item.version, item.status
        decision = item.reroute(policy, now)
        if item.tier is before and item.review_rule == rule_before:
            continue
        item.version += 1
        if not await uow.recommendations.save(item, expected_version, expected_status):
            raise ConflictError("an item changed while re-routing; try again")
        if item.tier is before:
            continue  # only how many reviews it needs changed: it stays where it waits
        rerouted += 1
        if decision is not None:
            automated.append(decision)
        decided = decision is not None and decision.verdict is not Verdict.REQUEST_MORE_DATA
        kind = QueueEventKind.DECIDED if decided else QueueEventKind.ESCALATED
        events.append(
            QueueEvent.of(
                kind, item, now, actor.id, decision.id if decision else None, before.value
            )
        )
    # The workflow row is written last: writers lock items before their workflow.
    await uow.workflows.add_policy(workflow, policy)
    workflow.policy = policy
    await outbox.record(uow, events)
    details = {"changes": argument_names(changes), "version": policy.version, "rerouted": rerouted}
    await record(uow, actor, "updateEscalationPolicy", workflow.key, details)
    await uow.decisions.append(automated)  # last: it locks the chain head until commit
    await uow.commit()
    return PolicyUpdate(policy=policy, rerouted=rerouted)

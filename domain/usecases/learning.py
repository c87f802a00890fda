"""The model's side of the loop: cases scored by the active model, and starting the jobs
that retrain it and mine the reasons of overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain import validation
from domain.clock import utcnow
from domain.enums import Role, Window
from domain.errors import InvalidInputError
from domain.jobs import Job, JobKind
from domain.model import User
from domain.ports import UnitOfWork
from domain.rights import require_role
from domain.usecases.submission import ProposalInput, Submission, submit_recommendations
from domain.usecases.workflows import get_workflow


@dataclass(frozen=True)
class CaseInput:
    payload: Any
    external_id: str | None = None
    subject: str | None = None
    stakes: float | None = None
    draft: str | None = None


@dataclass(frozen=True)
class ScoredCase:
    action: str
    confidence: float
    explanation: list[dict[str, Any]]


@dataclass(frozen=True)
class Scores:
    model_version: str  # e.g. "v3"
    cases: list[ScoredCase]


class CaseScorer(Protocol):
    async def score(self, workflow_key: str, payloads: Sequence[dict[str, Any]]) -> Scores | None:
        """The active classifier's proposals for these payloads; None without one."""
        ...


async def submit_cases(
    uow: UnitOfWork,
    actor: User,
    key: str,
    cases: Sequence[CaseInput],
    scorer: CaseScorer,
) -> Submission:
    """Let the workflow's active model propose, then route like submitRecommendations.

    Scoring happens before the first write, so no transaction is held meanwhile.
    """
    require_role(actor.role, Role.SERVICE, Role.ADMIN, doing="submitting cases")
    if not cases:
        raise InvalidInputError("cases must not be empty", "cases")
    if len(cases) > validation.MAX_BATCH:
        raise InvalidInputError(f"a batch takes at most {validation.MAX_BATCH} cases", "cases")
    for index, case in enumerate(cases):
        try:
            validation.json_object(case.payload, "payload")
        except InvalidInputError as error:
            raise InvalidInputError(
                f"case {index}: {error.message}", f"cases[{index}].payload"
            ) from error
    scores = await scorer.score(key, [case.payload for case in cases])
    if scores is None:
        await get_workflow(uow, key)  # an unknown workflow is NotFound, not "no model"
        raise InvalidInputError(
            f"workflow {key!r} has no active model yet: submit recommendations and decide "
            "them, then startRetraining",
            "workflow",
        )
    proposals = [
        ProposalInput(
            payload=case.payload,
            proposed_action=scored.action,
            confidence=scored.confidence,
            external_id=case.external_id,
            subject=case.subject,
            stakes=case.stakes,
            draft=case.draft,
            model_version=scores.model_version,
            explanation=scored.explanation,
        )
        for case, scored in zip(cases, scores.cases, strict=True)
    ]
    try:
        return await submit_recommendations(uow, actor, key, proposals)
    except InvalidInputError as error:
        field = (error.field or "").replace("items[", "cases[", 1)
        raise InvalidInputError(error.message.replace("item ", "case ", 1), field) from error


async def start_retraining(uow: UnitOfWork, actor: User, key: str) -> Job:
    """Queue a RETRAIN job for the workflow (it runs after commit)."""
    require_role(actor.role, Role.ADMIN, doing="retraining")
    workflow = await get_workflow(uow, key)
    job = Job.new(JobKind.RETRAIN, utcnow(), workflow_id=workflow.id, requested_by=actor.id)
    await uow.jobs.add(job)
    await uow.commit()
    return job


async def start_theme_mining(uow: UnitOfWork, actor: User, key: str, window: str) -> Job:
    """Queue a MINE_THEMES job over the window's overrides."""
    require_role(actor.role, Role.ADMIN, doing="mining override themes")
    names = [w.value for w in Window]
    if window not in names:
        raise InvalidInputError(f"window must be one of {', '.join(names)}", "window")
    workflow = await get_workflow(uow, key)
    job = Job.new(JobKind.MINE_THEMES, utcnow(), workflow_id=workflow.id, window=window)
    await uow.jobs.add(job)
    await uow.commit()
    return job

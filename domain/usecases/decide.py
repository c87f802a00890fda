"""The reviewer's verdicts: approve, reject, flag, override, edit; high-stakes confirmation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import outbox, validation
from domain.clock import as_utc, utcnow
from domain.enums import ConsensusState, Tier, Verdict
from domain.errors import ConfirmationRequiredError, ConflictError, InvalidInputError
from domain.events import QueueEvent, QueueEventKind
from domain.ids import new_id
from domain.model import (
    Decision,
    DraftRevision,
    Override,
    Recommendation,
    User,
    hash_token,
    new_token,
)
from domain.ports import ConfirmationGrant, UnitOfWork
from domain.usecases.drafts import DraftScorer, score_draft
from domain.usecases.review import _require_reviewer, load_visible, require_assignment

CONFIRMED_VERDICTS = frozenset({Verdict.APPROVE, Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT})


@dataclass(frozen=True)
class DecisionRequest:
    rec_id: str
    verdict: Verdict
    reason: str | None = None
    reason_tags: list[str] | None = None
    action: str | None = None
    content: str | None = None
    expected_version: int | None = None
    confirmation_token: str | None = None


@dataclass(frozen=True)
class Decided:
    decision: Decision
    recommendation: Recommendation


def _validate(request: DecisionRequest) -> DecisionRequest:
    verdict = request.verdict
    reason = validation.text(
        request.reason,
        "note" if verdict is Verdict.FLAG else "reason",
        validation.MAX_REASON,
        required=verdict in (Verdict.OVERRIDE, Verdict.FLAG),
    )
    tags = validation.tags(request.reason_tags, "reasonTags")
    if verdict is Verdict.OVERRIDE:
        validation.text(request.action, "action", validation.MAX_SHORT_TEXT, required=True)
    if verdict is Verdict.EDIT:
        validation.text(request.content, "content", validation.MAX_DRAFT, required=True)
    return DecisionRequest(
        rec_id=request.rec_id,
        verdict=verdict,
        reason=reason.strip() if reason else None,
        reason_tags=tags,
        action=request.action,
        content=request.content,
        expected_version=request.expected_version,
        confirmation_token=request.confirmation_token,
    )


def _verb(request: DecisionRequest) -> str:
    """What a confirmation confirms: the verdict and what it would execute."""
    if request.verdict is Verdict.OVERRIDE:
        return f"OVERRIDE:{request.action}"
    if request.verdict is Verdict.EDIT:
        digest = hashlib.sha256((request.content or "").encode()).hexdigest()
        return f"EDIT:{digest}"
    return request.verdict.value


async def decide(
    uow: UnitOfWork,
    actor: User,
    request: DecisionRequest,
    confirmation_ttl: timedelta,
    draft_scorer: DraftScorer | None = None,
) -> Decided:
    """Decide an item exactly once. Raises ConfirmationRequiredError (after committing the
    challenge) when a high-stakes decision arrives without a valid token. An edit is
    scored by the workflow's active draft scorer, when it has one (`draft_scorer`)."""
    _require_reviewer(actor)
    item = await load_visible(uow, actor, request.rec_id)
    if item.collecting:
        # Votes on one item are counted one at a time: the row is held until commit.
        locked = await uow.recommendations.get(item.id, for_update=True)
        assert locked is not None
        item = locked
    await require_assignment(uow, actor, item)
    workflow = await uow.workflows.get(item.workflow_id)
    assert workflow is not None
    workflow.require_verdict(request.verdict)
    request = _validate(request)
    if request.expected_version is not None and request.expected_version != item.version:
        raise ConflictError(
            f"expected version {request.expected_version}, the item is at {item.version}",
            item.status.value,
            item.version,
        )
    now = utcnow()
    item.require_decidable_by(actor, now)
    if item.collecting and request.verdict is not Verdict.FLAG:
        item.require_may_vote(actor, now)  # before any confirmation is asked for
    expected_version, expected_status = item.version, item.status
    tier_before = item.tier
    if request.verdict in CONFIRMED_VERDICTS and workflow.policy.is_high_stakes(item.stakes):
        if request.confirmation_token is None:
            challenge = await _commit_challenge(
                uow, actor, item, _verb(request), now, confirmation_ttl
            )
            raise challenge
        await _require_confirmation(uow, actor, item, _verb(request), request, now)
    decision = item.decide(
        actor,
        workflow,
        request.verdict,
        now,
        reason=request.reason,
        reason_tags=request.reason_tags,
        action=request.action,
        content=request.content,
    )
    took_outcome = item.decided_at == now and request.verdict is not Verdict.FLAG
    edited_score = None
    if (
        request.verdict is Verdict.EDIT
        and took_outcome
        and draft_scorer is not None
        and item.draft is not None
    ):
        edited_score = await score_draft(draft_scorer, item, item.draft.content)
        item.draft.predicted_score = edited_score
    if not await uow.recommendations.save(item, expected_version, expected_status):
        current = await uow.recommendations.get(item.id)
        raise ConflictError(
            "someone else decided or changed this item first",
            current.status.value if current else None,
            current.version if current else None,
        )
    await outbox.record(uow, _events(item, decision, tier_before, now, actor))
    # Late: it locks the workflow's chain head until commit (an override row, which
    # refers to the decision, is all that follows).
    await uow.decisions.append([decision])
    if request.verdict is Verdict.OVERRIDE and took_outcome:
        assert request.action is not None and request.reason is not None
        await uow.overrides.add(
            Override(
                id=new_id("ovr"),
                workflow_id=item.workflow_id,
                recommendation_id=item.id,
                decision_id=decision.id,
                proposed_action=item.proposed_action,
                chosen_action=request.action,
                confidence=item.confidence,
                reason=request.reason,
                reviewer_id=actor.id,
                created_at=now,
            )
        )
    if request.verdict is Verdict.EDIT and took_outcome:
        assert request.content is not None
        await uow.recommendations.add_revision(
            item.id, DraftRevision(request.content, edited_score, actor.id, now)
        )
    await uow.commit()
    return Decided(decision, item)


def _events(
    item: Recommendation, decision: Decision, tier_before: Tier, now: datetime, actor: User
) -> list[QueueEvent]:
    """FLAGGED for a flag; DECIDED for a decision that gave the item its outcome (a vote
    that completed the consensus among them); VOTED for any other vote, and ESCALATED
    too when it left the item DISPUTED in the senior queue."""
    if decision.verdict is Verdict.FLAG:
        return [QueueEvent.of(QueueEventKind.FLAGGED, item, now, actor.id, decision.id)]
    if not decision.vote or item.consensus_state is ConsensusState.REACHED:
        return [QueueEvent.of(QueueEventKind.DECIDED, item, now, actor.id, decision.id)]
    events = [QueueEvent.of(QueueEventKind.VOTED, item, now, actor.id, decision.id)]
    if item.tier is not tier_before:
        events.append(
            QueueEvent.of(QueueEventKind.ESCALATED, item, now, actor.id, None, tier_before.value)
        )
    return events


async def _commit_challenge(
    uow: UnitOfWork,
    actor: User,
    item: Recommendation,
    verb: str,
    now: datetime,
    ttl: timedelta,
) -> ConfirmationRequiredError:
    """Grant a confirmation token for `verb` on the item, hold the item for it and commit;
    the error the caller raises carries the token."""
    token = new_token()
    expires_at = now + ttl
    expected_status = item.status
    await uow.confirmation_grants.add(
        ConfirmationGrant(hash_token(token), actor.id, item.id, item.version, verb, expires_at)
    )
    if not item.collecting:
        # Several reviewers may hold leases at once: only a single-review item is held
        # for the confirming reviewer.
        item.await_confirmation(expires_at)
    if not await uow.recommendations.save(item, item.version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await uow.commit()
    return ConfirmationRequiredError(
        "this is a high-stakes item: repeat the call with confirmationToken to confirm",
        token,
        expires_at,
    )


async def _require_confirmation(
    uow: UnitOfWork,
    actor: User,
    item: Recommendation,
    verb: str,
    request: DecisionRequest,
    now: datetime,
) -> None:
    assert request.confirmation_token is not None
    grant = await uow.confirmation_grants.consume(hash_token(request.confirmation_token), now)
    valid = (
        grant is not None
        and grant.user_id == actor.id
        and grant.recommendation_id == item.id
        # Others' votes move an item that collects votes on: a vote confirms the item
        # as its reviewer saw it, which blind review keeps free of their votes.
        and (grant.version == item.version or item.collecting)
        and grant.verb == verb
        and (as_utc(grant.expires_at) or now) > now
    )
    if not valid:
        raise InvalidInputError(
            "the confirmation token is not valid for this decision: it expired, was used, "
            "or was issued for another user, item, version or verdict; ask again without one",
            "confirmationToken",
        )

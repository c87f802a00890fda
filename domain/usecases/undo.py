"""Undo: take back a decision within the policy's undoSeconds, before any webhook told anyone.

Rules, in the order they are checked:
- the caller is a reviewer; the decision exists and its item is visible to them (NotFound);
- it is their own decision; an ADMIN may undo anyone's (Forbidden);
- it is a human APPROVE, REJECT, OVERRIDE, EDIT or FLAG (InvalidInput: automated
  decisions, UNDO and REQUEST_MORE_DATA are not undone);
- it was not undone already, it is still the item's latest decision, and it is at most
  undoSeconds old (Conflict: each is about the state of the log, and reading it again
  explains why);
- no webhook delivered the event it caused (Conflict: "a webhook already delivered it").

The effect, in one unit of work with a compare-and-swap on the item: the item returns
to where it waited (PENDING, FLAGGED if an earlier flag stands, NEEDS_DATA in the floor
tier), its final action and decision time are cleared, an EDIT's draft goes back to the
previous content; an UNDO decision (reverts_id: the undone one) is appended to the
hash chain; still pending webhook deliveries of the decision's events are cancelled
(FAILED, "undone before delivery"); an ADDED queue event says the item is back.
Nothing is deleted: the override row of an undone OVERRIDE stays, and every reader
of overrides and of the learning data leaves out overrides whose decision was undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain import outbox
from domain.clock import as_utc, utcnow
from domain.enums import Role, Verdict
from domain.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from domain.events import QueueEvent, QueueEventKind
from domain.model import Decision, DraftRevision, Recommendation, User
from domain.ports import UnitOfWork
from domain.rights import visible_tiers
from domain.usecases.review import _require_reviewer, sees_workflow
from domain.webhooks import DeliveryStatus

UNDOABLE = frozenset(
    {Verdict.APPROVE, Verdict.REJECT, Verdict.OVERRIDE, Verdict.EDIT, Verdict.FLAG}
)
CANCELLED = "undone before delivery"


@dataclass(frozen=True)
class Undone:
    decision: Decision  # the UNDO record
    recommendation: Recommendation


def _previous_draft(
    revisions: list[DraftRevision], decision: Decision
) -> tuple[str, float | None] | None:
    """The draft an EDIT replaced: the revision before the one the EDIT wrote, or None
    (the original) when the EDIT's was the first."""
    for index in range(len(revisions) - 1, -1, -1):
        r = revisions[index]
        if (
            r.content == decision.edited_content
            and r.author_id == decision.actor_id
            and as_utc(r.created_at) == as_utc(decision.created_at)
        ):
            if index == 0:
                return None
            before = revisions[index - 1]
            return before.content, before.predicted_score
    return None


def _flagged_before(history: list[Decision], decision: Decision) -> bool:
    """Whether a FLAG earlier than `decision` still stands (not undone)."""
    earlier = [d for d in history if d.seq < decision.seq]
    return any(d.verdict is Verdict.FLAG and not d.undone for d in earlier)


async def undo(uow: UnitOfWork, actor: User, decision_id: str) -> Undone:
    _require_reviewer(actor)
    item = None
    target = await uow.decisions.get_or_seal(decision_id)
    if target is not None:
        item = await uow.recommendations.get(target.recommendation_id)
    if (
        target is None
        or item is None
        or item.tier not in visible_tiers(actor.role)
        or not await sees_workflow(uow, actor, item.workflow_id)
    ):
        raise NotFoundError(f"no decision {decision_id}")
    await uow.decisions.seal_pending_of(item.id, item.workflow_id)
    history = await uow.decisions.of_recommendation(item.id)
    found = next((d for d in history if d.id == decision_id), None)
    assert found is not None
    if found.actor_id != actor.id and actor.role is not Role.ADMIN:
        raise ForbiddenError("you may undo only your own decisions")
    if found.automated or found.verdict not in UNDOABLE:
        what = "an automated decision" if found.automated else f"a {found.verdict.value}"
        raise InvalidInputError(
            f"{what} cannot be undone; only a reviewer's APPROVE, REJECT, OVERRIDE, EDIT "
            "or FLAG can",
            "decisionId",
        )
    if found.undone:
        raise ConflictError("this decision was already undone", item.status.value, item.version)
    taking_back_vote = found.vote and item.collecting
    if history[-1].id != found.id and not taking_back_vote:
        raise ConflictError(
            "another decision followed this one on the item; only the latest can be undone",
            item.status.value,
            item.version,
        )
    workflow = await uow.workflows.get(item.workflow_id)
    assert workflow is not None
    now = utcnow()
    window = timedelta(seconds=workflow.policy.undo_seconds)
    decided_at = as_utc(found.created_at)
    assert decided_at is not None
    if now - decided_at > window:
        raise ConflictError(
            f"the undo window of {workflow.policy.undo_seconds} s closed at "
            f"{(decided_at + window).isoformat()}",
            item.status.value,
            item.version,
        )
    deliveries = await uow.events.deliveries_for_decision(found.id)
    if any(d.status is DeliveryStatus.DELIVERED for d in deliveries):
        raise ConflictError(
            "a webhook already delivered it; it can no longer be undone",
            item.status.value,
            item.version,
        )
    previous_draft = None
    if found.verdict is Verdict.EDIT:
        previous_draft = _previous_draft(await uow.recommendations.revisions(item.id), found)
    expected_version, expected_status = item.version, item.status
    if taking_back_vote:
        # Others may have voted since: one's own vote is taken back alone.
        item.take_back_vote(found)
    else:
        item.undo(
            found, flagged_before=_flagged_before(history, found), previous_draft=previous_draft
        )
    if not await uow.recommendations.save(item, expected_version, expected_status):
        current = await uow.recommendations.get(item.id)
        raise ConflictError(
            "someone else changed this item first",
            current.status.value if current else None,
            current.version if current else None,
        )
    record = item.undo_decision(found, actor, workflow, now)
    await uow.events.cancel_deliveries(
        [d.id for d in deliveries if d.status is DeliveryStatus.PENDING], CANCELLED
    )
    if found.verdict is Verdict.EDIT and item.draft is not None and not taking_back_vote:
        await uow.recommendations.add_revision(
            item.id, DraftRevision(item.draft.content, item.draft.predicted_score, actor.id, now)
        )
    kind = QueueEventKind.VOTED if taking_back_vote else QueueEventKind.ADDED
    await outbox.record(uow, [QueueEvent.of(kind, item, now, actor.id, record.id)])
    await uow.decisions.append([record])  # last: it locks the chain head until commit
    await uow.commit()
    return Undone(record, item)

"""The reviewer's leases: claim an item, take the next one, let it go."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain import canaries, outbox
from domain.clock import utcnow
from domain.enums import Tier
from domain.errors import ConflictError, ForbiddenError, NotFoundError, QueueEmptyError
from domain.events import QueueEvent, QueueEventKind
from domain.model import Claim, Recommendation, User, Workflow
from domain.ports import UnitOfWork
from domain.rights import REVIEWER_ROLES, decidable_tiers, visible_tiers
from domain.teams import ReviewerIdentity, sees_every_workflow
from domain.usecases.workflows import get_workflow

CLAIM_ATTEMPTS = 5
CANARY_SOURCES = 100
"""A canary is copied from one of the workflow's latest this many overridden items."""

_rng = random.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    recommendation: Recommendation
    claim: Claim


def _require_reviewer(actor: User) -> None:
    if actor.role not in REVIEWER_ROLES:
        raise ForbiddenError(f"a {actor.role.value} does not review items")


async def sees_workflow(uow: UnitOfWork, actor: User, workflow_id: str) -> bool:
    """Whether the caller may see the workflow's items: it has no teams, the caller is in
    one of them, or the caller is an admin (or a service, which submits them)."""
    if sees_every_workflow(actor):
        return True
    return await uow.teams.may_review(workflow_id, actor.id)


async def load_visible(uow: UnitOfWork, actor: User, rec_id: str) -> Recommendation:
    """The item, or NotFound when it does not exist or the caller may not see it (its
    tier, or a workflow reviewed by teams the caller is not in)."""
    if sees_every_workflow(actor):
        item, sees = await uow.recommendations.get(rec_id), True
    else:
        item, sees = await uow.recommendations.get_for_reviewer(rec_id, actor.id)
    if item is None or item.tier not in visible_tiers(actor.role) or not sees:
        raise NotFoundError(f"no recommendation {rec_id}")
    return item


async def reviewer_identity(uow: UnitOfWork, actor: User) -> ReviewerIdentity:
    return ReviewerIdentity(actor.id, frozenset(await uow.teams.ids_of_member(actor.id)))


async def require_assignment(uow: UnitOfWork, actor: User, item: Recommendation) -> None:
    """Forbidden unless the item is pinned to nobody, to the caller, or to a team of theirs."""
    if item.assignee_id is None and item.assigned_team_id is None:
        return
    if not (await reviewer_identity(uow, actor)).may_take(item.assignee_id, item.assigned_team_id):
        whom = "another reviewer" if item.assignee_id is not None else "a team you are not in"
        raise ForbiddenError(f"this item is assigned to {whom}")


async def claim(uow: UnitOfWork, actor: User, rec_id: str, lease: timedelta) -> Claimed:
    _require_reviewer(actor)
    item = await load_visible(uow, actor, rec_id)
    await require_assignment(uow, actor, item)
    if item.collecting:
        # Several reviewers lease one item: their claims are written one at a time.
        locked = await uow.recommendations.get(item.id, for_update=True)
        assert locked is not None
        item = locked
    expected_version, expected_status = item.version, item.status
    now = utcnow()
    lease_claim = item.claim_for(actor, now, lease)
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await outbox.record(uow, [QueueEvent.of(QueueEventKind.CLAIMED, item, now, actor.id)])
    await uow.commit()
    return Claimed(item, lease_claim)


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def _require_under_daily_cap(uow: UnitOfWork, actor: User, workflow: Workflow) -> None:
    cap = workflow.policy.max_daily_decisions_per_reviewer
    if cap is None:
        return
    now = utcnow()
    done = await uow.decisions.human_count_since(workflow.id, actor.id, _day_start(now))
    if done >= cap:
        raise QueueEmptyError(
            f"you reached the daily limit of {cap} decisions per reviewer in workflow "
            f"{workflow.key!r} ({done} today); it starts again at midnight UTC"
        )


async def _hand_out_canary(
    uow: UnitOfWork,
    actor: User,
    workflow: Workflow,
    wanted: Sequence[Tier],
    lease: timedelta,
    rng: random.Random,
) -> Claimed | None:
    """A canary, when the policy's canaryRate says so and there is an item to copy."""
    if not canaries.wants_canary(workflow.policy, rng):
        return None
    sources = await uow.recommendations.canary_sources(workflow.id, wanted, CANARY_SOURCES)
    if not sources:
        return None
    now = utcnow()
    canary, lease_claim = canaries.build_canary(
        rng.choice(sources), actor, workflow.policy, now, lease
    )
    await uow.recommendations.add_many([canary])
    await uow.commit()
    return Claimed(canary, lease_claim)


async def claim_next(
    uow: UnitOfWork,
    actor: User,
    key: str,
    tiers: Sequence[Tier] | None,
    lease: timedelta,
    rng: random.Random | None = None,
) -> Claimed:
    """Lease the most urgent item (slaDueAt, then createdAt) the caller may decide.

    Past the policy's maxDailyDecisionsPerReviewer the queue reads empty for the caller.
    While real work waits, a share (canaryRate) of hand-outs are canaries instead
    (domain.canaries).
    """
    _require_reviewer(actor)
    workflow = await get_workflow(uow, key)
    allowed = decidable_tiers(actor.role)
    wanted = [t for t in (tiers or list(Tier)) if t in allowed]
    if not wanted:
        raise QueueEmptyError(f"a {actor.role.value} decides no items in the tiers asked for")
    if not await sees_workflow(uow, actor, workflow.id):
        raise QueueEmptyError(f"nothing is waiting for you in workflow {key!r}")
    await _require_under_daily_cap(uow, actor, workflow)
    reviewer = await reviewer_identity(uow, actor)
    skip: list[str] = []
    lost = 0
    while lost < CLAIM_ATTEMPTS:
        now = utcnow()
        item = await uow.recommendations.next_claimable(workflow.id, wanted, now, skip, reviewer)
        if item is None:
            break
        if not skip:
            handed = await _hand_out_canary(uow, actor, workflow, wanted, lease, rng or _rng)
            if handed is not None:
                return handed
        mine = item.review_of(actor.id) if item.collecting else None
        if mine is not None and mine.is_live(now):
            # The caller leases this one already: the next item, as with one review each.
            skip.append(item.id)
            continue
        expected_version, expected_status = item.version, item.status
        try:
            lease_claim = item.claim_for(actor, now, lease)
        except (ConflictError, ForbiddenError):
            # An item that collects votes: every review is taken, or four eyes keep its
            # proposer from it. Someone else's, not the caller's; on to the next, without
            # spending an attempt (those are for races lost): many such items may come first.
            skip.append(item.id)
            continue
        if await uow.recommendations.save(item, expected_version, expected_status):
            await outbox.record(uow, [QueueEvent.of(QueueEventKind.CLAIMED, item, now, actor.id)])
            await uow.commit()
            return Claimed(item, lease_claim)
        skip.append(item.id)  # another reviewer won it between our read and our write
        lost += 1
    raise QueueEmptyError(f"nothing is waiting for you in workflow {key!r}")


async def release(uow: UnitOfWork, actor: User, rec_id: str) -> Recommendation:
    _require_reviewer(actor)
    item = await load_visible(uow, actor, rec_id)
    expected_version, expected_status = item.version, item.status
    now = utcnow()
    item.release_by(actor, now)
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await outbox.record(uow, [QueueEvent.of(QueueEventKind.RELEASED, item, now, actor.id)])
    await uow.commit()
    return item

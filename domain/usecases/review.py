"""The reviewer's leases: claim an item, take the next one, let it go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.clock import utcnow
from domain.enums import Tier
from domain.errors import ConflictError, ForbiddenError, NotFoundError, QueueEmptyError
from domain.events import QueueEvent, QueueEventKind
from domain.model import Claim, Recommendation, User
from domain.ports import UnitOfWork
from domain.rights import REVIEWER_ROLES, decidable_tiers, visible_tiers
from domain.usecases.workflows import get_workflow

CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class Claimed:
    recommendation: Recommendation
    claim: Claim


def _require_reviewer(actor: User) -> None:
    if actor.role not in REVIEWER_ROLES:
        raise ForbiddenError(f"a {actor.role.value} does not review items")


async def load_visible(uow: UnitOfWork, actor: User, rec_id: str) -> Recommendation:
    """The item, or NotFound when it does not exist or the caller may not see it."""
    item = await uow.recommendations.get(rec_id)
    if item is None or item.tier not in visible_tiers(actor.role):
        raise NotFoundError(f"no recommendation {rec_id}")
    return item


async def claim(uow: UnitOfWork, actor: User, rec_id: str, lease: timedelta) -> Claimed:
    _require_reviewer(actor)
    item = await load_visible(uow, actor, rec_id)
    expected_version, expected_status = item.version, item.status
    now = utcnow()
    lease_claim = item.claim_for(actor, now, lease)
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await uow.events.add([QueueEvent.of(QueueEventKind.CLAIMED, item, now, actor.id)])
    await uow.commit()
    return Claimed(item, lease_claim)


async def claim_next(
    uow: UnitOfWork,
    actor: User,
    key: str,
    tiers: Sequence[Tier] | None,
    lease: timedelta,
) -> Claimed:
    """Lease the most urgent item (slaDueAt, then createdAt) the caller may decide."""
    _require_reviewer(actor)
    workflow = await get_workflow(uow, key)
    allowed = decidable_tiers(actor.role)
    wanted = [t for t in (tiers or list(Tier)) if t in allowed]
    if not wanted:
        raise QueueEmptyError(f"a {actor.role.value} decides no items in the tiers asked for")
    skip: list[str] = []
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        item = await uow.recommendations.next_claimable(workflow.id, wanted, now, skip)
        if item is None:
            break
        expected_version, expected_status = item.version, item.status
        lease_claim = item.claim_for(actor, now, lease)
        if await uow.recommendations.save(item, expected_version, expected_status):
            await uow.events.add([QueueEvent.of(QueueEventKind.CLAIMED, item, now, actor.id)])
            await uow.commit()
            return Claimed(item, lease_claim)
        skip.append(item.id)  # another reviewer won it between our read and our write
    raise QueueEmptyError(f"nothing is waiting for you in workflow {key!r}")


async def release(uow: UnitOfWork, actor: User, rec_id: str) -> Recommendation:
    _require_reviewer(actor)
    item = await load_visible(uow, actor, rec_id)
    expected_version, expected_status = item.version, item.status
    now = utcnow()
    item.release_by(actor, now)
    if not await uow.recommendations.save(item, expected_version, expected_status):
        raise ConflictError("someone else changed this item first; read it again")
    await uow.events.add([QueueEvent.of(QueueEventKind.RELEASED, item, now, actor.id)])
    await uow.commit()
    return item

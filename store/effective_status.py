"""The status a reader sees, in SQL.

Two stored states lapse with time without a write: a CLAIMED item whose lease
expired, and an AWAITING_CONFIRMATION item whose confirmation token expired.
Both read as what they were before (still CLAIMED if a live lease remains,
else FLAGGED if flagged, else PENDING), exactly as
domain.model.Recommendation.effective_status says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.enums import ConsensusState
from domain.enums import RecommendationStatus as Status
from store.tables import recs_t

c = recs_t.c


def lapsed(now: datetime) -> Any:
    return ((c.status == Status.CLAIMED.value) & (c.claim_expires_at <= now)) | (
        (c.status == Status.AWAITING_CONFIRMATION.value) & (c.confirm_until <= now)
    )


def live_claim(now: datetime) -> Any:
    return c.claimed_by_id.is_not(None) & (c.claim_expires_at > now)


def reviewed_now(now: datetime) -> Any:
    """An item that collects votes with a reviewer's lease still running (its
    claim_expires_at holds the last lease's end, store.tables.items.review_leases_until)."""
    return (
        (c.consensus_state == ConsensusState.COLLECTING.value)
        & c.claim_expires_at.is_not(None)
        & (c.claim_expires_at > now)
    )


def status_is(status: Status, now: datetime) -> Any:
    """SQL for "the status a reader sees is `status`"."""
    was_lapsed, live = lapsed(now), live_claim(now)
    if status is Status.PENDING:
        return (c.status == Status.PENDING.value) | (was_lapsed & ~live & ~c.flagged)
    if status is Status.FLAGGED:
        return (c.status == Status.FLAGGED.value) | (was_lapsed & ~live & c.flagged)
    if status is Status.CLAIMED:
        return ((c.status == Status.CLAIMED.value) & (c.claim_expires_at > now)) | (
            (c.status == Status.AWAITING_CONFIRMATION.value) & (c.confirm_until <= now) & live
        )
    if status is Status.AWAITING_CONFIRMATION:
        return (c.status == Status.AWAITING_CONFIRMATION.value) & (c.confirm_until > now)
    return c.status == status.value


def effective_status(now: datetime) -> Any:
    """SQL for the status a reader sees, as a column expression."""
    was_lapsed, live = lapsed(now), live_claim(now)
    return sa.case(
        (was_lapsed & live, Status.CLAIMED.value),
        (was_lapsed & c.flagged, Status.FLAGGED.value),
        (was_lapsed, Status.PENDING.value),
        else_=c.status,
    )

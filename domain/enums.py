"""The vocabularies of the contract, as plain enums."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SERVICE = "SERVICE"
    ANALYST = "ANALYST"
    SENIOR = "SENIOR"
    ADMIN = "ADMIN"


class WorkflowKind(StrEnum):
    CLASSIFICATION = "CLASSIFICATION"
    DRAFT = "DRAFT"


class ReviewerRole(StrEnum):
    VERIFIER = "VERIFIER"
    EDITOR = "EDITOR"
    EXPERT = "EXPERT"


class Tier(StrEnum):
    AUTO_APPROVE = "AUTO_APPROVE"
    ANALYST_REVIEW = "ANALYST_REVIEW"
    SENIOR_REVIEW = "SENIOR_REVIEW"
    BELOW_FLOOR = "BELOW_FLOOR"


class FloorAction(StrEnum):
    REJECT = "REJECT"
    REQUEST_MORE_DATA = "REQUEST_MORE_DATA"


class RecommendationStatus(StrEnum):
    PENDING = "PENDING"
    CLAIMED = "CLAIMED"
    FLAGGED = "FLAGGED"
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"
    APPROVED = "APPROVED"
    EDITED = "EDITED"
    REJECTED = "REJECTED"
    OVERRIDDEN = "OVERRIDDEN"
    NEEDS_DATA = "NEEDS_DATA"


OPEN_STATUSES = frozenset(
    {
        RecommendationStatus.PENDING,
        RecommendationStatus.CLAIMED,
        RecommendationStatus.FLAGGED,
        RecommendationStatus.AWAITING_CONFIRMATION,
    }
)
"""Statuses of items still waiting for a human; the queue's default filter."""

DECIDABLE_STATUSES = OPEN_STATUSES | {RecommendationStatus.NEEDS_DATA}
"""Statuses a human decision may start from."""


class Window(StrEnum):
    """Reporting windows: the last 7, 30 or 91 days."""

    WEEK = "WEEK"
    MONTH = "MONTH"
    QUARTER = "QUARTER"

    @property
    def days(self) -> int:
        return {"WEEK": 7, "MONTH": 30, "QUARTER": 91}[self.value]


class ConsensusState(StrEnum):
    """Where an item that needs several reviews stands."""

    COLLECTING = "COLLECTING"  # fewer agreeing reviews than required so far
    REACHED = "REACHED"  # agreementRequired reviews agree: the item took their outcome
    DISPUTED = "DISPUTED"  # every review is in and not enough agree: a senior adjudicates
    ADJUDICATED = "ADJUDICATED"  # a senior (or an admin) settled the dispute


class Verdict(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    FLAG = "FLAG"
    EDIT = "EDIT"
    OVERRIDE = "OVERRIDE"
    REQUEST_MORE_DATA = "REQUEST_MORE_DATA"
    UNDO = "UNDO"

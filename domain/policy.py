"""The escalation ladder: thresholds that decide where a proposal goes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from domain.enums import FloorAction, Tier
from domain.errors import InvalidInputError

MAX_NOTE_LENGTH = 1000
MAX_REVIEWS = 9


@dataclass(frozen=True)
class ReviewRule:
    """What an item in a human tier needs: `reviews` independent reviews of which
    `agreement` agree. One review of one (version 1) needs no consensus."""

    reviews: int = 1
    agreement: int = 1
    four_eyes: bool = False

    @property
    def needs_consensus(self) -> bool:
        return self.reviews > 1 or self.agreement > 1


@dataclass(frozen=True)
class EscalationPolicy:
    """One version of a workflow's escalation policy. Changing it writes a new version."""

    version: int = 1
    auto_approve_at: float = 0.90
    analyst_at: float = 0.70
    senior_at: float = 0.50
    below_floor: FloorAction = FloorAction.REJECT
    analyst_sla_seconds: int = 14_400
    senior_sla_seconds: int = 86_400
    high_stakes_at: float | None = None
    audit_sample_rate: float = 0.0
    min_dwell_ms: int = 0
    canary_rate: float = 0.0
    max_daily_decisions_per_reviewer: int | None = None
    undo_seconds: int = 30
    # Several reviewers per item (version 1: one review decides).
    reviews_required: int = 1
    agreement_required: int | None = None  # None: a majority of reviews_required
    high_stakes_reviews_required: int = 1  # 2: the four-eyes principle at highStakesAt
    blind_review: bool = True
    note: str | None = None
    changed_by_id: str | None = None
    changed_at: datetime | None = None
    workflow_id: str | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ rules

    def validate(self) -> None:
        """Raise InvalidInputError naming the first field that breaks a rule."""
        for name in ("auto_approve_at", "analyst_at", "senior_at"):
            _require_unit_interval(name, getattr(self, name))
        if not self.senior_at <= self.analyst_at:
            raise InvalidInputError("seniorAt must not exceed analystAt", "seniorAt")
        if not self.analyst_at <= self.auto_approve_at:
            raise InvalidInputError("analystAt must not exceed autoApproveAt", "analystAt")
        for name in ("audit_sample_rate", "canary_rate"):
            _require_unit_interval(name, getattr(self, name))
        for name in ("analyst_sla_seconds", "senior_sla_seconds", "min_dwell_ms", "undo_seconds"):
            value = getattr(self, name)
            if value is None or value < 0:
                raise InvalidInputError(f"{_camel(name)} must be 0 or more", _camel(name))
        if self.high_stakes_at is not None and not math.isfinite(self.high_stakes_at):
            raise InvalidInputError("highStakesAt must be a finite number", "highStakesAt")
        limit = self.max_daily_decisions_per_reviewer
        if limit is not None and limit < 1:
            raise InvalidInputError(
                "maxDailyDecisionsPerReviewer must be 1 or more (or null for no cap)",
                "maxDailyDecisionsPerReviewer",
            )
        self._validate_reviews()
        if self.note is not None and len(self.note) > MAX_NOTE_LENGTH:
            raise InvalidInputError(f"note is longer than {MAX_NOTE_LENGTH} characters", "note")
        if self.note is not None and "\x00" in self.note:
            raise InvalidInputError("note contains a NUL character", "note")

    def _validate_reviews(self) -> None:
        for name in ("reviews_required", "high_stakes_reviews_required"):
            value = getattr(self, name)
            if value is None or not 1 <= value <= MAX_REVIEWS:
                raise InvalidInputError(
                    f"{_camel(name)} must be between 1 and {MAX_REVIEWS}", _camel(name)
                )
        agreement = self.agreement_required
        if agreement is not None and not 1 <= agreement <= self.reviews_required:
            raise InvalidInputError(
                f"agreementRequired must be between 1 and reviewsRequired "
                f"({self.reviews_required}): {agreement} agreeing reviews could never be found",
                "agreementRequired",
            )

    @property
    def agreement(self) -> int:
        """Agreeing reviews an item needs: agreementRequired, or a majority of reviewsRequired."""
        if self.agreement_required is not None:
            return self.agreement_required
        return self.reviews_required // 2 + 1

    def review_rule(self, stakes: float | None) -> ReviewRule:
        """How many reviews an item of these stakes needs, how many must agree, and whether
        its proposer is kept from voting (four eyes at or above highStakesAt)."""
        reviews, agreement = self.reviews_required, self.agreement
        four_eyes = self.is_high_stakes(stakes) and self.high_stakes_reviews_required > 1
        if four_eyes:
            reviews = max(reviews, self.high_stakes_reviews_required)
            agreement = max(agreement, self.high_stakes_reviews_required)
        return ReviewRule(reviews, agreement, four_eyes)

    def merged(self, changes: dict[str, Any]) -> EscalationPolicy:
        """This policy with `changes` (snake_case field -> value) applied; not yet validated.

        Fields that the output never shows as null refuse an explicit null.
        """
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise InvalidInputError(f"unknown policy field {name}", _camel(name))
            if value is None and name not in NULLABLE_FIELDS:
                raise InvalidInputError(f"{_camel(name)} cannot be null", _camel(name))
        # The note describes one change: a new version without a note has none.
        changes = {"note": None, **changes}
        return replace(self, **changes)

    def is_high_stakes(self, stakes: float | None) -> bool:
        return (
            stakes is not None and self.high_stakes_at is not None and stakes >= self.high_stakes_at
        )

    def tier_for(self, confidence: float, stakes: float | None = None) -> Tier:
        """The ladder: which tier a proposal of this confidence and stakes belongs to."""
        if confidence >= self.auto_approve_at:
            tier = Tier.AUTO_APPROVE
        elif confidence >= self.analyst_at:
            tier = Tier.ANALYST_REVIEW
        elif confidence >= self.senior_at:
            tier = Tier.SENIOR_REVIEW
        else:
            tier = Tier.BELOW_FLOOR
        if tier is Tier.AUTO_APPROVE and self.is_high_stakes(stakes):
            # High stakes are never auto-approved: a person looks at least once.
            return Tier.ANALYST_REVIEW
        return tier

    def sla_due(self, tier: Tier, now: datetime) -> datetime | None:
        """When an item entering `tier` now is due, or None for tiers without a queue."""
        if tier is Tier.ANALYST_REVIEW:
            return now + timedelta(seconds=self.analyst_sla_seconds)
        if tier is Tier.SENIOR_REVIEW:
            return now + timedelta(seconds=self.senior_sla_seconds)
        return None


NULLABLE_FIELDS = frozenset(
    {"high_stakes_at", "max_daily_decisions_per_reviewer", "agreement_required", "note"}
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _require_unit_interval(name: str, value: float | None) -> None:
    if value is None or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"{_camel(name)} must be between 0 and 1", _camel(name))

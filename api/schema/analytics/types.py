"""DivergenceReport, ActionDivergence, TierDivergence, ReviewerStats, DivergencePoint,
PolicySimulation and the Window enum."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.enums import Tier, Window
from api.schema.common.types import Info
from api.schema.users.types import User, load_user
from api.schema.workflows.types import Workflow
from domain import agreement_report, analytics
from domain.model import Workflow as DomainWorkflow

_COUNTED = (
    "Counts APPROVE, REJECT, EDIT and OVERRIDE decisions; FLAG, UNDO and REQUEST_MORE_DATA "
    "are left out, and so are decisions undone later."
)


@strawberry.type(
    name="ReviewerStats",
    description="One reviewer's decisions over a window (reviewerStats: the last 30 days; "
    f"divergence.byReviewer: the report's window). {_COUNTED}",
)
class ReviewerStats:
    decisions: int
    decisions_today: int = strawberry.field(description="Since midnight UTC.")
    median_dwell_ms: int | None = strawberry.field(
        description="Median time from claim to decision, over decisions made on a claim; "
        "null when there are none."
    )
    agreement_rate: float | None = strawberry.field(
        description="Share of the decisions that approved the proposal as it was."
    )
    fast_decisions: int = strawberry.field(
        description="Decided faster than the current policy's minDwellMs (0 when it is 0)."
    )
    audit_accuracy: float | None = strawberry.field(
        description="On spot-check items (sampled for audit: the model would have "
        "auto-approved them), the share this reviewer approved, i.e. agreed that the "
        "auto-approval would have been right; together with the known-wrong checks "
        "(canaryRate) they caught. Null when they decided none of either."
    )
    canaries_missed: int = strawberry.field(
        default=0,
        description="Known-wrong checks (the policy's canaryRate) this reviewer let pass: "
        "approved, edited, or overrode to another action than the right one.",
    )
    fatigue_warning: str | None = strawberry.field(
        description=f"In plain words, when {analytics.FAST_STREAK} or more approvals in a "
        "row were each faster than minDwellMs, or when on some tier they approve more than "
        f"{analytics.PEER_MARGIN:.0%} more often than the other reviewers there (both with "
        f"{analytics.PEER_MIN_DECISIONS} or more decisions). Null otherwise."
    )
    agreement_with_consensus: float | None = strawberry.field(
        default=None,
        description="reviewerStats, on items that need several reviews: the share of this "
        "reviewer's votes equal to the item's outcome where the votes reached a consensus "
        "or a senior settled a dispute. Null without such votes (and in divergence).",
    )
    estimated_accuracy: float | None = strawberry.field(
        default=None,
        description="reviewerStats: the Dawid-Skene estimate of how often this reviewer's "
        "vote is the true outcome (every voter and the model's proposals fitted together). "
        "Null without votes on items that two or more reviewed (and in divergence).",
    )
    reliability_warning: str | None = strawberry.field(
        default=None,
        description="reviewerStats: in plain words, when this reviewer's estimatedAccuracy "
        f"is {agreement_report.RELIABILITY_GAP:.0%} or more below the median of the other "
        f"voters' and they cast {agreement_report.RELIABILITY_MIN_VOTES} or more votes. "
        "Null otherwise.",
    )
    _reviewer_id: strawberry.Private[str]

    @strawberry.field
    async def reviewer(self, info: Info) -> User:
        found = await load_user(info, self._reviewer_id)
        assert found is not None, self._reviewer_id
        return found

    @classmethod
    def from_domain(cls, s: analytics.ReviewerStats) -> ReviewerStats:
        return cls(
            decisions=s.decisions,
            decisions_today=s.decisions_today,
            median_dwell_ms=s.median_dwell_ms,
            agreement_rate=s.agreement_rate,
            fast_decisions=s.fast_decisions,
            audit_accuracy=s.audit_accuracy,
            fatigue_warning=s.fatigue_warning,
            canaries_missed=s.canaries_missed,
            agreement_with_consensus=s.agreement_with_consensus,
            estimated_accuracy=s.estimated_accuracy,
            reliability_warning=s.reliability_warning,
            _reviewer_id=s.reviewer_id,
        )


@strawberry.type(name="ActionDivergence")
class ActionDivergence:
    proposed_action: str
    decisions: int
    approvals: int
    rejections: int
    edits: int
    overrides: int
    override_rate: float
    top_replacement: str | None = strawberry.field(
        description="The action overrides of this proposal chose most often."
    )

    @classmethod
    def from_domain(cls, a: analytics.ActionDivergence) -> ActionDivergence:
        return cls(
            proposed_action=a.proposed_action,
            decisions=a.decisions,
            approvals=a.approvals,
            rejections=a.rejections,
            edits=a.edits,
            overrides=a.overrides,
            override_rate=a.override_rate,
            top_replacement=a.top_replacement,
        )


@strawberry.type(name="TierDivergence")
class TierDivergence:
    tier: Tier = strawberry.field(description="The tier the item was in when decided.")
    decisions: int
    agreement_rate: float


@strawberry.type(name="DivergencePoint")
class DivergencePoint:
    start: datetime = strawberry.field(
        description="Buckets are consecutive days (WEEK, MONTH) or weeks (QUARTER) from "
        "`since`; empty ones are zeros."
    )
    decisions: int
    override_rate: float
    agreement_rate: float


@strawberry.type(
    name="DivergenceReport",
    description=f"How people's calls diverged from the model's proposals. {_COUNTED} "
    "Rates are over human decisions and 0 when there are none. An ANALYST sees the "
    "tiers it may read (AUTO_APPROVE, ANALYST_REVIEW) and only its own byReviewer row.",
)
class DivergenceReport:
    workflow: Workflow
    window: Window
    since: datetime = strawberry.field(description="now minus 7, 30 or 91 days.")
    decisions: int = strawberry.field(description="Human decisions counted.")
    automated_decisions: int = strawberry.field(
        description="Decisions the ladder made by itself (auto-approvals, rejections below "
        "the floor), counted apart from the human ones and from every rate."
    )
    agreement_rate: float = strawberry.field(
        description="Share of human decisions that approved the proposal as it was."
    )
    override_rate: float
    reject_rate: float
    edit_rate: float
    auto_approve_precision: float | None = strawberry.field(
        description="On audit-sampled items (would-be auto-approvals sent to a person), the "
        "share the person approved; null when none was decided."
    )
    by_action: list[ActionDivergence] = strawberry.field(
        description="Per proposed action, busiest first."
    )
    by_tier: list[TierDivergence]
    by_reviewer: list[ReviewerStats] = strawberry.field(
        description="Per reviewer, over this window, busiest first."
    )
    series: list[DivergencePoint]

    @classmethod
    def from_domain(
        cls, r: analytics.DivergenceReport, workflow: DomainWorkflow
    ) -> DivergenceReport:
        return cls(
            workflow=Workflow.from_domain(workflow),
            window=r.window,
            since=r.since,
            decisions=r.decisions,
            automated_decisions=r.automated_decisions,
            agreement_rate=r.agreement_rate,
            override_rate=r.override_rate,
            reject_rate=r.reject_rate,
            edit_rate=r.edit_rate,
            auto_approve_precision=r.auto_approve_precision,
            by_action=[ActionDivergence.from_domain(a) for a in r.by_action],
            by_tier=[
                TierDivergence(tier=t.tier, decisions=t.decisions, agreement_rate=t.agreement_rate)
                for t in r.by_tier
            ],
            by_reviewer=[ReviewerStats.from_domain(s) for s in r.by_reviewer],
            series=[
                DivergencePoint(
                    start=p.start,
                    decisions=p.decisions,
                    override_rate=p.override_rate,
                    agreement_rate=p.agreement_rate,
                )
                for p in r.series
            ],
        )


@strawberry.type(
    name="PolicySimulation",
    description="The window's human decisions (counted as in DivergenceReport) replayed "
    "under the proposed thresholds, stakes respected. Items the ladder decided by itself "
    "have no human verdict and are not replayed.",
)
class PolicySimulation:
    decisions_replayed: int
    auto_approve_share: float = strawberry.field(
        description="Would be auto-approved, less the expected audit sample."
    )
    analyst_share: float = strawberry.field(
        description="Would go to ANALYST_REVIEW, with high-stakes would-be auto-approvals and "
        "the expected audit sample (auditSampleRate of the would-be auto-approvals)."
    )
    senior_share: float
    below_floor_share: float
    estimated_auto_error_rate: float | None = strawberry.field(
        description="Of the would-be auto-approvals, the share people did not approve as "
        "proposed; null when there are none."
    )
    estimated_reviews_per_day: float = strawberry.field(
        description="Replayed items that would land in the ANALYST and SENIOR queues, per "
        "day of the window."
    )

    @classmethod
    def from_domain(cls, s: analytics.PolicySimulation) -> PolicySimulation:
        return cls(
            decisions_replayed=s.decisions_replayed,
            auto_approve_share=s.auto_approve_share,
            analyst_share=s.analyst_share,
            senior_share=s.senior_share,
            below_floor_share=s.below_floor_share,
            estimated_auto_error_rate=s.estimated_auto_error_rate,
            estimated_reviews_per_day=s.estimated_reviews_per_day,
        )

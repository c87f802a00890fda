"""Reading the decision log: divergence windows, rates, reviewer stats, fatigue signals and
policy simulation. Pure rules; the store counts, this module decides what the counts mean.

What counts
-----------
A *counted* decision is an APPROVE, REJECT, EDIT or OVERRIDE that was not undone later
(no decision's `reverts_id` points at it). FLAG (a parking note), UNDO (it cancels another
decision) and REQUEST_MORE_DATA (the ladder asking for data, not a verdict) are left out
of every rate. Human and automated decisions are counted apart: the rates describe people.

Agreement means APPROVE: the proposal executed as it was. An EDIT keeps the action but
changes the draft, so it is not agreement; it has its own rate.

Who sees what
-------------
- ADMIN, SENIOR: everything.
- ANALYST: divergence restricted to the tiers an analyst may read (domain.rights.
  visible_tiers: AUTO_APPROVE, ANALYST_REVIEW), and reviewer rows (byReviewer,
  reviewerStats) only their own: colleagues' speed and fatigue are for their seniors.
  Peer comparisons behind a fatigue warning still use every reviewer on the tier.
- SERVICE: none of it (a model has no business reading people's performance).
- simulatePolicy: SENIOR and ADMIN, who tune the ladder; it replays every tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.enums import Role, Tier, Verdict, Window
from domain.errors import ForbiddenError
from domain.policy import EscalationPolicy
from domain.rights import visible_tiers

COUNTED_VERDICTS: tuple[Verdict, ...] = (
    Verdict.APPROVE,
    Verdict.REJECT,
    Verdict.EDIT,
    Verdict.OVERRIDE,
)
"""Verdicts that enter the rates; FLAG, UNDO and REQUEST_MORE_DATA do not."""

REVIEWER_STATS_DAYS = 30
"""reviewerStats looks at this many days back."""

FAST_STREAK = 10
"""This many consecutive approvals, each faster than minDwellMs, make a fatigue warning."""

PEER_MARGIN = 0.25
"""Agreeing this much more often than the other reviewers on a tier makes a warning..."""

PEER_MIN_DECISIONS = 20
"""...when both the reviewer and the others have at least this many decisions there."""


WINDOW_DAYS: dict[Window, int] = {w: w.days for w in Window}

_BUCKET_DAYS: dict[Window, int] = {Window.WEEK: 1, Window.MONTH: 1, Window.QUARTER: 7}

# ------------------------------------------------------------------ windows and rates


def window_since(window: Window, now: datetime) -> datetime:
    """The start of the window that ends now: 7, 30 or 91 days back."""
    return now - timedelta(days=WINDOW_DAYS[window])


def window_days(window: Window) -> int:
    return WINDOW_DAYS[window]


def bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """Starts of the series' buckets: consecutive days (WEEK, MONTH: 7 and 30 points) or
    weeks (QUARTER: 13 points) counted from the window's start, so that every bucket is
    equally long and together they cover the window exactly."""
    since = window_since(window, now)
    step = timedelta(days=_BUCKET_DAYS[window])
    count = WINDOW_DAYS[window] // _BUCKET_DAYS[window]
    return [since + i * step for i in range(count)]


def utc_day_start(now: datetime) -> datetime:
    """Midnight UTC of the day `now` falls on."""
    moment = now.astimezone(UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def rate(part: int, whole: int) -> float:
    """part / whole, or 0.0 when there is nothing to divide."""
    return part / whole if whole else 0.0


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide."""
    return part / whole if whole else None


# ------------------------------------------------------------------ tallies


@dataclass
class Tally:
    """Counted decisions by verdict."""

    decisions: int = 0
    approvals: int = 0
    rejections: int = 0
    edits: int = 0
    overrides: int = 0

    def add(self, other: Tally) -> Tally:
        self.decisions += other.decisions
        self.approvals += other.approvals
        self.rejections += other.rejections
        self.edits += other.edits
        self.overrides += other.overrides
        return self

    def minus(self, other: Tally) -> Tally:
        return Tally(
            self.decisions - other.decisions,
            self.approvals - other.approvals,
            self.rejections - other.rejections,
            self.edits - other.edits,
            self.overrides - other.overrides,
        )

    def count(self, verdict: Verdict, n: int = 1) -> Tally:
        self.decisions += n
        if verdict is Verdict.APPROVE:
            self.approvals += n
        elif verdict is Verdict.REJECT:
            self.rejections += n
        elif verdict is Verdict.EDIT:
            self.edits += n
        elif verdict is Verdict.OVERRIDE:
            self.overrides += n
        return self

    @property
    def agreement_rate(self) -> float:
        return rate(self.approvals, self.decisions)

    @property
    def override_rate(self) -> float:
        return rate(self.overrides, self.decisions)

    @property
    def reject_rate(self) -> float:
        return rate(self.rejections, self.decisions)

    @property
    def edit_rate(self) -> float:
        return rate(self.edits, self.decisions)


@dataclass
class GroupTally:
    """Counted decisions of one (automated?, reviewer, tier) group, as the store counts them."""

    automated: bool
    actor_id: str | None
    tier: Tier
    tally: Tally
    today: int = 0  # decided since midnight UTC
    fast: int = 0  # dwell_ms below the policy's minDwellMs
    audited: int = 0  # on items sampled for audit
    audited_approvals: int = 0
    canaries: int = 0  # decided canaries (domain.canaries); never in the tally
    canaries_missed: int = 0


# ------------------------------------------------------------------ report


@dataclass
class ReviewerStats:
    reviewer_id: str
    decisions: int
    decisions_today: int
    median_dwell_ms: int | None
    agreement_rate: float | None
    fast_decisions: int
    audit_accuracy: float | None
    fatigue_warning: str | None
    canaries_missed: int = 0
    # Reliability, from the votes on items that need several reviews (domain.agreement_report).
    agreement_with_consensus: float | None = None
    estimated_accuracy: float | None = None
    reliability_warning: str | None = None


@dataclass
class ActionDivergence:
    proposed_action: str
    decisions: int
    approvals: int
    rejections: int
    edits: int
    overrides: int
    override_rate: float
    top_replacement: str | None


@dataclass
class TierDivergence:
    tier: Tier
    decisions: int
    agreement_rate: float


@dataclass
class DivergencePoint:
    start: datetime
    decisions: int
    override_rate: float
    agreement_rate: float


@dataclass
class DivergenceReport:
    workflow_id: str
    window: Window
    since: datetime
    decisions: int
    automated_decisions: int
    agreement_rate: float
    override_rate: float
    reject_rate: float
    edit_rate: float
    auto_approve_precision: float | None
    by_action: list[ActionDivergence] = field(default_factory=list)
    by_tier: list[TierDivergence] = field(default_factory=list)
    by_reviewer: list[ReviewerStats] = field(default_factory=list)
    series: list[DivergencePoint] = field(default_factory=list)


def by_action(rows: Iterable[tuple[str, str, str | None, int]]) -> list[ActionDivergence]:
    """Per proposed action, from counts of (proposed action, verdict, final action).

    topReplacement is the action most often chosen by overrides of it (ties: the
    alphabetically first), None when it was never overridden. Busiest actions first.
    """
    tallies: dict[str, Tally] = {}
    replacements: dict[str, dict[str, int]] = {}
    for proposed, verdict, final, n in rows:
        tallies.setdefault(proposed, Tally()).count(Verdict(verdict), n)
        if verdict == Verdict.OVERRIDE and final is not None:
            chosen = replacements.setdefault(proposed, {})
            chosen[final] = chosen.get(final, 0) + n
    found = []
    for proposed, t in tallies.items():
        chosen = replacements.get(proposed, {})
        top = min(chosen, key=lambda a: (-chosen[a], a)) if chosen else None
        found.append(
            ActionDivergence(
                proposed_action=proposed,
                decisions=t.decisions,
                approvals=t.approvals,
                rejections=t.rejections,
                edits=t.edits,
                overrides=t.overrides,
                override_rate=t.override_rate,
                top_replacement=top,
            )
        )
    found.sort(key=lambda a: (-a.decisions, a.proposed_action))
    return found


def series(starts: list[datetime], buckets: Mapping[int, Tally]) -> list[DivergencePoint]:
    """One point per bucket, empty buckets as zeros."""
    points = []
    for index, start in enumerate(starts):
        t = buckets.get(index, Tally())
        points.append(DivergencePoint(start, t.decisions, t.override_rate, t.agreement_rate))
    return points


def fatigue_warning(
    fast_streak: int,
    min_dwell_ms: int,
    own: Mapping[Tier, Tally],
    peers: Mapping[Tier, Tally],
) -> str | None:
    """A plain-words warning, or None for a careful reviewer.

    Two signals: FAST_STREAK or more consecutive approvals each faster than the policy's
    minDwellMs (never when minDwellMs is 0); or, on some tier, an agreement rate more than
    PEER_MARGIN above the other reviewers' there, both sides having PEER_MIN_DECISIONS.
    """
    said = []
    if min_dwell_ms > 0 and fast_streak >= FAST_STREAK:
        said.append(
            f"{fast_streak} approvals in a row, each faster than the policy's minimum "
            f"reading time of {min_dwell_ms} ms: they may be approving without reading."
        )
    gaps = []
    for tier, mine in own.items():
        theirs = peers.get(tier, Tally())
        if mine.decisions < PEER_MIN_DECISIONS or theirs.decisions < PEER_MIN_DECISIONS:
            continue
        gap = mine.agreement_rate - theirs.agreement_rate
        if gap > PEER_MARGIN:
            gaps.append((gap, tier, mine, theirs))
    if gaps:
        _, tier, mine, theirs = max(gaps, key=lambda g: (g[0], g[1].value))
        said.append(
            f"Approves {mine.agreement_rate:.0%} of {tier.value} proposals "
            f"({mine.decisions} decisions) against {theirs.agreement_rate:.0%} for the other "
            f"reviewers on that tier: they may be agreeing with the model by habit."
        )
    return " ".join(said) if said else None


def reviewer_stats(
    groups: Iterable[GroupTally],
    medians: Mapping[str, int],
    streaks: Mapping[str, int],
    min_dwell_ms: int,
) -> list[ReviewerStats]:
    """Per human reviewer, busiest first. `groups` must hold every reviewer of the tiers
    compared (the peers); filter the answer, not the input, to show fewer rows."""
    humans = [g for g in groups if not g.automated and g.actor_id is not None]
    per_tier: dict[Tier, Tally] = {}
    mine: dict[str, dict[Tier, Tally]] = {}
    totals: dict[str, GroupTally] = {}
    for g in humans:
        assert g.actor_id is not None
        per_tier.setdefault(g.tier, Tally()).add(g.tally)
        mine.setdefault(g.actor_id, {}).setdefault(g.tier, Tally()).add(g.tally)
        total = totals.setdefault(g.actor_id, GroupTally(False, g.actor_id, g.tier, Tally()))
        total.tally.add(g.tally)
        total.today += g.today
        total.fast += g.fast
        total.audited += g.audited
        total.audited_approvals += g.audited_approvals
        total.canaries += g.canaries
        total.canaries_missed += g.canaries_missed
    found = []
    for actor_id, total in totals.items():
        own = mine[actor_id]
        peers = {tier: per_tier[tier].minus(t) for tier, t in own.items()}
        found.append(
            ReviewerStats(
                reviewer_id=actor_id,
                decisions=total.tally.decisions,
                decisions_today=total.today,
                median_dwell_ms=medians.get(actor_id),
                agreement_rate=share(total.tally.approvals, total.tally.decisions),
                fast_decisions=total.fast if min_dwell_ms > 0 else 0,
                # Spot checks they approved, and canaries they caught, of all they decided.
                audit_accuracy=share(
                    total.audited_approvals + total.canaries - total.canaries_missed,
                    total.audited + total.canaries,
                ),
                fatigue_warning=fatigue_warning(streaks.get(actor_id, 0), min_dwell_ms, own, peers),
                canaries_missed=total.canaries_missed,
            )
        )
    found.sort(key=lambda s: (-s.decisions, s.reviewer_id))
    return found


def divergence_report(
    workflow_id: str,
    window: Window,
    now: datetime,
    groups: list[GroupTally],
    actions: Iterable[tuple[str, str, str | None, int]],
    buckets: Mapping[int, Tally],
    medians: Mapping[str, int],
    streaks: Mapping[str, int],
    min_dwell_ms: int,
    only_reviewer: str | None = None,
) -> DivergenceReport:
    """Assemble the report from the store's counts (see the module's notes on what counts)."""
    human = Tally()
    automated = 0
    audited = audited_approvals = 0
    tiers: dict[Tier, Tally] = {}
    for g in groups:
        if g.automated:
            automated += g.tally.decisions
            continue
        human.add(g.tally)
        audited += g.audited
        audited_approvals += g.audited_approvals
        if g.tally.decisions:  # canary-only groups carry no counted decisions
            tiers.setdefault(g.tier, Tally()).add(g.tally)
    reviewers = reviewer_stats(groups, medians, streaks, min_dwell_ms)
    if only_reviewer is not None:
        reviewers = [r for r in reviewers if r.reviewer_id == only_reviewer]
    return DivergenceReport(
        workflow_id=workflow_id,
        window=window,
        since=window_since(window, now),
        decisions=human.decisions,
        automated_decisions=automated,
        agreement_rate=human.agreement_rate,
        override_rate=human.override_rate,
        reject_rate=human.reject_rate,
        edit_rate=human.edit_rate,
        auto_approve_precision=share(audited_approvals, audited),
        by_action=by_action(actions),
        by_tier=[
            TierDivergence(tier, tiers[tier].decisions, tiers[tier].agreement_rate)
            for tier in Tier
            if tier in tiers
        ],
        by_reviewer=reviewers,
        series=series(bucket_starts(window, now), buckets),
    )


# ------------------------------------------------------------------ simulation


@dataclass
class PolicySimulation:
    decisions_replayed: int
    auto_approve_share: float
    analyst_share: float
    senior_share: float
    below_floor_share: float
    estimated_auto_error_rate: float | None
    estimated_reviews_per_day: float


def proposed_policy(current: EscalationPolicy, changes: dict[str, Any]) -> EscalationPolicy:
    """The current policy with `changes` applied, validated like updateEscalationPolicy
    would (InvalidInputError names the field)."""
    policy = current.merged(changes)
    policy.validate()
    return policy


def simulate(
    by_tier: Mapping[Tier, Tally], policy: EscalationPolicy, days: int
) -> PolicySimulation:
    """What the ladder of `policy` would have done with the replayed human decisions, given
    how many would land in each tier (stakes respected) and how humans decided them.

    Would-be auto-approvals are expected to be spot-checked at the policy's
    auditSampleRate: that share of them counts as ANALYST_REVIEW. The error rate is over
    every would-be auto-approval: the share that a human did not approve as proposed.
    """
    replayed = sum(t.decisions for t in by_tier.values())
    auto = by_tier.get(Tier.AUTO_APPROVE, Tally())
    sampled = auto.decisions * policy.audit_sample_rate
    analyst = by_tier.get(Tier.ANALYST_REVIEW, Tally()).decisions + sampled
    senior = by_tier.get(Tier.SENIOR_REVIEW, Tally()).decisions
    below = by_tier.get(Tier.BELOW_FLOOR, Tally()).decisions

    def part(n: float) -> float:
        return n / replayed if replayed else 0.0

    return PolicySimulation(
        decisions_replayed=replayed,
        auto_approve_share=part(auto.decisions - sampled),
        analyst_share=part(analyst),
        senior_share=part(senior),
        below_floor_share=part(below),
        estimated_auto_error_rate=share(auto.decisions - auto.approvals, auto.decisions),
        estimated_reviews_per_day=(analyst + senior) / days,
    )


# ------------------------------------------------------------------ rights


@dataclass(frozen=True)
class Scope:
    """What one caller may read of the analytics."""

    tiers: frozenset[Tier]
    only_reviewer: str | None = None  # reviewer rows: just this one


def analytics_scope(role: Role, user_id: str, doing: str) -> Scope:
    """Divergence and reviewer stats: see the module's notes. Raises ForbiddenError."""
    if role is Role.SERVICE:
        raise ForbiddenError(f"{doing} needs the role ANALYST, SENIOR or ADMIN; you are SERVICE")
    if role is Role.ANALYST:
        return Scope(visible_tiers(role), only_reviewer=user_id)
    return Scope(frozenset(Tier))


def require_simulation_rights(role: Role) -> None:
    if role not in (Role.SENIOR, Role.ADMIN):
        raise ForbiddenError(
            f"simulating a policy needs the role SENIOR or ADMIN; you are {role.value}"
        )

"""The read side of analytics: divergence, reviewer stats and policy simulation, counted by
the database (GROUP BY, COUNT, SUM(CASE ...), window functions), never by loading the log.

Every statement runs on SQLite (3.25+, for window functions) and PostgreSQL. Times are
compared only against bound parameters of the column's own type, in UTC: SQLite stores
the UTC wall time as text and compares it as text, PostgreSQL compares timestamptz.
Series buckets are a CASE over boundaries computed in Python, grouped in an outer query
(PostgreSQL does not match a GROUP BY expression whose parameters are bound apart).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain import analytics
from domain.agreement_report import agreement_report, with_reliability
from domain.analytics import (
    COUNTED_VERDICTS,
    DivergenceReport,
    GroupTally,
    PolicySimulation,
    ReviewerStats,
    Scope,
    Tally,
)
from domain.canaries import caught
from domain.enums import Tier, Verdict, Window
from domain.model import Workflow
from domain.policy import EscalationPolicy
from store.agreement_reads import AgreementReads
from store.queries import Reads
from store.standing import decided_its_item, is_undone, standing_decisions_on_real_items
from store.tables import decisions_t, recs_t

d = decisions_t.c
_COUNTED = [v.value for v in COUNTED_VERDICTS]


def _counted(
    *columns: Any,
    workflow_id: str,
    since: datetime,
    tiers: Collection[Tier],
    human_only: bool = True,
) -> sa.Select[Any]:
    """SELECT `columns` of the counted decisions (see domain.analytics) of a workflow since
    a time, in some tiers: no FLAG, UNDO or REQUEST_MORE_DATA, nothing undone, and none on
    a canary (canaries are checks on the reviewer, not work: they enter auditAccuracy
    only, through `canary_tallies`)."""
    query = standing_decisions_on_real_items(*columns).where(
        d.workflow_id == workflow_id,
        d.created_at >= since,
        d.verdict.in_(_COUNTED),
        d.tier.in_([t.value for t in tiers]),
    )
    if human_only:
        query = query.where(d.automated.is_(False))
    return query


def _when(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END)."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _verdict_sums() -> list[Any]:
    return [
        sa.func.count().label("decisions"),
        _when(d.verdict == Verdict.APPROVE.value).label("approvals"),
        _when(d.verdict == Verdict.REJECT.value).label("rejections"),
        _when(d.verdict == Verdict.EDIT.value).label("edits"),
        _when(d.verdict == Verdict.OVERRIDE.value).label("overrides"),
    ]


def _tally(sums: Mapping[str, int | None]) -> Tally:
    """A Tally from a row of the counts `_verdict_sums` labels (a SUM over no rows is NULL)."""
    return Tally(
        int(sums["decisions"] or 0),
        int(sums["approvals"] or 0),
        int(sums["rejections"] or 0),
        int(sums["edits"] or 0),
        int(sums["overrides"] or 0),
    )


class AnalyticsReads(Reads):
    """Analytics queries over a request's read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> AnalyticsReads:
        return cls(model.session, model._lock)

    # -------------------------------------------------------------- reports

    async def divergence(
        self, workflow: Workflow, window: Window, now: datetime, scope: Scope
    ) -> DivergenceReport:
        since = analytics.window_since(window, now)
        min_dwell = workflow.policy.min_dwell_ms
        groups = await self.group_tallies(workflow.id, since, now, min_dwell, scope.tiers)
        groups += await self.canary_tallies(workflow.id, since, scope.tiers)
        return analytics.divergence_report(
            workflow.id,
            window,
            now,
            groups,
            await self.action_counts(workflow.id, since, scope.tiers),
            await self.series_counts(workflow.id, analytics.bucket_starts(window, now), scope),
            await self.median_dwell(workflow.id, since, scope.tiers),
            await self.fast_streaks(workflow.id, since, min_dwell, scope.tiers),
            min_dwell,
            scope.only_reviewer,
        )

    async def reviewer_stats(
        self, workflow: Workflow, now: datetime, scope: Scope
    ) -> list[ReviewerStats]:
        """Per reviewer over the last REVIEWER_STATS_DAYS days, busiest first."""
        since = now - timedelta(days=analytics.REVIEWER_STATS_DAYS)
        min_dwell = workflow.policy.min_dwell_ms
        groups = await self.group_tallies(workflow.id, since, now, min_dwell, scope.tiers, True)
        groups += await self.canary_tallies(workflow.id, since, scope.tiers)
        stats = analytics.reviewer_stats(
            groups,
            await self.median_dwell(workflow.id, since, scope.tiers),
            await self.fast_streaks(workflow.id, since, min_dwell, scope.tiers),
            min_dwell,
        )
        stats = await self._with_reliability(workflow.id, since, stats)
        if scope.only_reviewer is not None:
            stats = [s for s in stats if s.reviewer_id == scope.only_reviewer]
        return stats

    async def _with_reliability(
        self, workflow_id: str, since: datetime, stats: list[ReviewerStats]
    ) -> list[ReviewerStats]:
        """The rows with each voter's reliability over the same days' votes, every voter
        their peers (domain.agreement_report)."""
        figures = agreement_report(await AgreementReads.over(self).votes(workflow_id, since))
        if not figures.reviewers:
            return stats
        users = await self.users(s.reviewer_id for s in stats)
        return with_reliability(stats, figures, {i: u.name for i, u in users.items()})

    async def simulate(
        self, workflow: Workflow, policy: EscalationPolicy, window: Window, now: datetime
    ) -> PolicySimulation:
        """Replay the window's counted human decisions under `policy` (already validated)."""
        since = analytics.window_since(window, now)
        tier = _tier_case(policy).label("tier")
        replay = (
            _counted(tier, d.verdict, workflow_id=workflow.id, since=since, tiers=list(Tier))
            .join(recs_t, recs_t.c.id == d.recommendation_id)
            .subquery()
        )
        approved = sa.func.sum(sa.case((replay.c.verdict == Verdict.APPROVE.value, 1), else_=0))
        result = await self._execute(
            sa.select(replay.c.tier, sa.func.count(), approved).group_by(replay.c.tier)
        )
        by_tier = {Tier(t): Tally(decisions=int(n), approvals=int(a or 0)) for t, n, a in result}
        return analytics.simulate(by_tier, policy, analytics.window_days(window))

    # -------------------------------------------------------------- counts

    async def group_tallies(
        self,
        workflow_id: str,
        since: datetime,
        now: datetime,
        min_dwell_ms: int,
        tiers: Collection[Tier],
        human_only: bool = False,
    ) -> list[GroupTally]:
        """Counted decisions per (automated, reviewer, tier), with today's, the fast ones
        (dwell below min_dwell_ms) and those on audit-sampled items."""
        today = analytics.utc_day_start(now)
        # An audit sample counts once, by the decision that gave the item its outcome.
        sampled = sa.and_(recs_t.c.sampled_for_audit.is_(True), decided_its_item(d, recs_t.c))
        query = (
            _counted(
                d.automated,
                d.actor_id,
                d.tier,
                *_verdict_sums(),
                _when(d.created_at >= today).label("today"),
                _when(d.dwell_ms < min_dwell_ms).label("fast"),
                _when(sampled).label("audited"),
                _when(sa.and_(sampled, d.verdict == Verdict.APPROVE.value)).label("audited_ok"),
                workflow_id=workflow_id,
                since=since,
                tiers=tiers,
                human_only=human_only,
            )
            .join(recs_t, recs_t.c.id == d.recommendation_id)
            .group_by(d.automated, d.actor_id, d.tier)
        )
        return [
            GroupTally(
                automated=bool(row.automated),
                actor_id=row.actor_id,
                tier=Tier(row.tier),
                tally=_tally(row._mapping),
                today=int(row.today or 0),
                fast=int(row.fast or 0),
                audited=int(row.audited or 0),
                audited_approvals=int(row.audited_ok or 0),
            )
            for row in await self._execute(query)
        ]

    async def canary_tallies(
        self, workflow_id: str, since: datetime, tiers: Collection[Tier]
    ) -> list[GroupTally]:
        """Reviewers' counted decisions on canaries, per (reviewer, tier), as groups with
        an empty tally: how many canaries they decided and how many they missed
        (domain.canaries.caught; the right answer is the source item's final action).

        The one read that counts decisions on canaries, which is what it is for; undone
        ones still do not count."""
        canary = recs_t.alias("canary")
        source = recs_t.alias("source")
        query = (
            sa.select(d.actor_id, d.tier, d.verdict, d.final_action, source.c.final_action)
            .select_from(
                decisions_t.join(canary, canary.c.id == d.recommendation_id).join(
                    source, source.c.id == canary.c.canary_of
                )
            )
            .where(
                d.workflow_id == workflow_id,
                d.created_at >= since,
                d.verdict.in_(_COUNTED),
                d.tier.in_([t.value for t in tiers]),
                d.automated.is_(False),
                canary.c.canary.is_(True),
                ~is_undone(d.id),
            )
        )
        groups: dict[tuple[str, str], GroupTally] = {}
        for actor_id, tier, verdict, final, right in await self._execute(query):
            group = groups.setdefault(
                (actor_id, tier), GroupTally(False, actor_id, Tier(tier), Tally())
            )
            group.canaries += 1
            if not caught(Verdict(verdict), final, right):
                group.canaries_missed += 1
        return list(groups.values())

    async def action_counts(
        self, workflow_id: str, since: datetime, tiers: Collection[Tier]
    ) -> list[tuple[str, str, str | None, int]]:
        """Counted human decisions per (proposed action, verdict, final action)."""
        query = _counted(
            d.proposed_action,
            d.verdict,
            d.final_action,
            sa.func.count(),
            workflow_id=workflow_id,
            since=since,
            tiers=tiers,
        ).group_by(d.proposed_action, d.verdict, d.final_action)
        return [(p, v, f, int(n)) for p, v, f, n in await self._execute(query)]

    async def series_counts(
        self, workflow_id: str, starts: list[datetime], scope: Scope
    ) -> dict[int, Tally]:
        """Counted human decisions per bucket (index into `starts`; the last is open-ended)."""
        last = len(starts) - 1
        bucket = sa.case(
            *[(d.created_at < start, index) for index, start in enumerate(starts[1:])],
            else_=last,
        )
        inner = _counted(
            bucket.label("bucket"),
            d.verdict,
            workflow_id=workflow_id,
            since=starts[0],
            tiers=scope.tiers,
        ).subquery()
        v = inner.c.verdict
        query = sa.select(
            inner.c.bucket,
            sa.func.count().label("decisions"),
            sa.func.sum(sa.case((v == Verdict.APPROVE.value, 1), else_=0)).label("approvals"),
            sa.func.sum(sa.case((v == Verdict.REJECT.value, 1), else_=0)).label("rejections"),
            sa.func.sum(sa.case((v == Verdict.EDIT.value, 1), else_=0)).label("edits"),
            sa.func.sum(sa.case((v == Verdict.OVERRIDE.value, 1), else_=0)).label("overrides"),
        ).group_by(inner.c.bucket)
        return {int(row.bucket): _tally(row._mapping) for row in await self._execute(query)}

    async def median_dwell(
        self, workflow_id: str, since: datetime, tiers: Collection[Tier]
    ) -> dict[str, int]:
        """Each reviewer's median dwell (ms) over counted decisions that have one. The
        database ranks the values; only the one or two middle ones per reviewer come back
        (averaged), so the answer stays small however long the log is."""
        ranked = (
            _counted(
                d.actor_id,
                d.dwell_ms,
                sa.func.row_number()
                .over(partition_by=d.actor_id, order_by=(d.dwell_ms, d.id))
                .label("rank"),
                sa.func.count().over(partition_by=d.actor_id).label("n"),
                workflow_id=workflow_id,
                since=since,
                tiers=tiers,
            )
            .where(d.dwell_ms.is_not(None))
            .subquery()
        )
        # Integer division on both databases: the middle one, or the middle two.
        middle = sa.or_(
            ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.rank == (ranked.c.n + 2) // 2
        )
        query = (
            sa.select(ranked.c.actor_id, sa.func.avg(ranked.c.dwell_ms))
            .where(middle)
            .group_by(ranked.c.actor_id)
        )
        return {actor: round(float(m)) for actor, m in await self._execute(query)}

    async def fast_streaks(
        self, workflow_id: str, since: datetime, min_dwell_ms: int, tiers: Collection[Tier]
    ) -> dict[str, int]:
        """Each reviewer's longest run of consecutive counted decisions that were approvals
        faster than min_dwell_ms (a decision without a dwell, made without a claim, breaks
        a run). Gaps and islands: within a run both row numbers grow in step."""
        if min_dwell_ms <= 0:
            return {}
        fast = sa.and_(
            d.verdict == Verdict.APPROVE.value,
            d.dwell_ms.is_not(None),
            d.dwell_ms < min_dwell_ms,
        )
        marked = _counted(
            d.actor_id,
            d.created_at,
            d.seq,
            sa.case((fast, 1), else_=0).label("fast"),
            workflow_id=workflow_id,
            since=since,
            tiers=tiers,
        ).subquery()
        order = (marked.c.created_at, marked.c.seq)
        ranked = sa.select(
            marked.c.actor_id,
            marked.c.fast,
            (
                sa.func.row_number().over(partition_by=marked.c.actor_id, order_by=order)
                - sa.func.row_number().over(
                    partition_by=(marked.c.actor_id, marked.c.fast), order_by=order
                )
            ).label("island"),
        ).subquery()
        runs = (
            sa.select(ranked.c.actor_id, sa.func.count().label("length"))
            .where(ranked.c.fast == 1)
            .group_by(ranked.c.actor_id, ranked.c.island)
            .subquery()
        )
        query = sa.select(runs.c.actor_id, sa.func.max(runs.c.length)).group_by(runs.c.actor_id)
        return {actor: int(n) for actor, n in await self._execute(query)}


def _tier_case(policy: EscalationPolicy) -> Any:
    """EscalationPolicy.tier_for as SQL over a decision's confidence and its item's stakes
    (high stakes are never auto-approved: they fall to ANALYST_REVIEW, as analystAt <=
    autoApproveAt)."""
    confidence = d.confidence
    auto = confidence >= policy.auto_approve_at
    if policy.high_stakes_at is not None:
        stakes = recs_t.c.stakes
        auto = sa.and_(auto, sa.or_(stakes.is_(None), stakes < policy.high_stakes_at))
    return sa.case(
        (auto, Tier.AUTO_APPROVE.value),
        (confidence >= policy.analyst_at, Tier.ANALYST_REVIEW.value),
        (confidence >= policy.senior_at, Tier.SENIOR_REVIEW.value),
        else_=Tier.BELOW_FLOOR.value,
    )

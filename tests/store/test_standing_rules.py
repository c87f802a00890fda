"""The standing rules (store/standing.py) hold for every read of items or decisions.

Seeded on each database through the API: real work (an override the canaries are
copied from, approvals, an item claimed, one waiting), four canaries (one overridden,
one approved, one approved and that approval undone so that it waits again, one
still claimed) and two slow undone decisions on real items (an override undone, the
item then approved; an approval undone, the item back in the queue). Every read
method is called on that, again once the undone decisions are deleted (with their
UNDO records and overrides), and again once the canaries are deleted too. A read
held to a rule answers the same before and after what the rule hides is deleted: it
never appeared and never counted.

Every public method of the read models and of the repositories that read items or
decisions is listed below, as a read held to the rules (or to one of them, with the
reason it sees what the other hides) or as exempt with its reason: a method added
without being listed fails `test_every_read_is_listed`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain import analytics
from domain.analytics import Scope
from domain.clock import utcnow
from domain.enums import RecommendationStatus, Tier, Window
from domain.model import Workflow
from store.agreement_reads import AgreementReads
from store.analytics_queries import AnalyticsReads
from store.drafts import outcome_rows
from store.drift import DriftReads
from store.learning import LearningReads
from store.learning_months import LearningMonthReads
from store.log_reads import LogReads
from store.people import PeopleReads
from store.queries import Reads
from store.repositories import SqlDecisions, SqlRecommendations
from store.tables import decisions_t, overrides_t, recs_t, revisions_t, users_t
from store.teams import TeamReads
from store.threshold_evidence import ThresholdReads
from store.webhook_queries import WebhookReads
from tests.api.test_decisions import APPROVE, CLAIM_NEXT, OVERRIDE, UPDATE_POLICY, Desk, open_desk

UNDO = "mutation($id: ID!) { undo(decisionId: $id) { __typename } }"
OUTCOME = "mutation($id: ID!, $v: Float!) { recordOutcome(id: $id, value: $v) { __typename } }"
EVERYTHING = 10**9  # a min_dwell_ms under which every decision is fast

BY_ID = "reads what it is asked for by id: ids reach a caller only from what it may see"
LOG = "the decision log lists every decision, undone ones flagged, canaries' too"
HISTORY = "an item's history lists its every decision, undone ones flagged"
AUDIT = "auditAccuracy and canariesMissed count decisions on canaries (canary_tallies)"
CAP = "the daily cap limits how much a reviewer decides, canaries included"


@dataclass
class Reader:
    """The read models over one session, and the arguments that reach everything seeded."""

    reads: Reads
    learning: LearningReads
    analytics: AnalyticsReads
    items: SqlRecommendations
    decisions: SqlDecisions
    workflow: Workflow
    now: datetime
    ids: dict[str, list[str]]

    @property
    def thresholds(self) -> ThresholdReads:
        return ThresholdReads.over(self.reads)

    @property
    def since(self) -> datetime:
        return self.workflow.created_at - timedelta(days=1)


@dataclass(frozen=True)
class Read:
    """One read method called on the seeded data; a rule it is not held to names why."""

    call: Callable[[Reader], Awaitable[Any]]
    shows_canaries: str | None = None
    shows_undone: str | None = None


async def _streamed(r: Reader) -> list[Any]:
    return [row async for rows in r.learning.stream_learning_rows(r.workflow.id, 2) for row in rows]


async def _reviewer_counts(r: Reader) -> list[int]:
    users = r.ids["users"]
    return [await r.decisions.human_count_since(r.workflow.id, u, r.since) for u in users]


_ALL = frozenset(Tier)
READS: dict[str, Read] = {
    "Reads.recommendations": Read(lambda r: r.reads.recommendations(r.ids["items"]), BY_ID),
    "Reads.decisions": Read(lambda r: r.reads.decisions(r.ids["decisions"]), BY_ID, BY_ID),
    "Reads.decisions_of": Read(lambda r: r.reads.decisions_of(r.ids["items"]), BY_ID, HISTORY),
    "Reads.overrides": Read(lambda r: r.reads.overrides(r.ids["overrides"]), BY_ID, BY_ID),
    "Reads.revisions_of": Read(lambda r: r.reads.revisions_of(r.ids["items"]), BY_ID),
    "Reads.open_counts_by_workflow": Read(lambda r: r.reads.open_counts_by_workflow()),
    "Reads.queue_counts": Read(lambda r: r.reads.queue_counts([r.workflow.id], _ALL, r.now)),
    "Reads.queue": Read(
        lambda r: r.reads.queue(
            r.workflow.id, list(Tier), list(RecommendationStatus), 500, None, r.now
        )
    ),
    "Reads.decisions_page": Read(
        lambda r: r.reads.decisions_page(r.workflow.id, list(Tier), r.since, 500, None), LOG, LOG
    ),
    "Reads.overrides_page": Read(
        lambda r: r.reads.overrides_page(r.workflow.id, list(Tier), r.since, 500, None)
    ),
    "LearningReads.corrections_between": Read(
        lambda r: r.learning.corrections_between(r.workflow.id, r.since, None)
    ),
    "LearningReads.learning_rows": Read(lambda r: r.learning.learning_rows(r.workflow.id)),
    "LearningReads.stream_learning_rows": Read(_streamed),
    "LearningReads.overrides_since": Read(
        lambda r: r.learning.overrides_since(r.workflow.id, r.since)
    ),
    "LearningReads.decided_since": Read(
        lambda r: r.learning.decided_since(r.workflow.id, r.since, 100)
    ),
    "AnalyticsReads.divergence": Read(
        lambda r: r.analytics.divergence(r.workflow, Window.QUARTER, r.now, Scope(_ALL)), AUDIT
    ),
    "AnalyticsReads.reviewer_stats": Read(
        lambda r: r.analytics.reviewer_stats(r.workflow, r.now, Scope(_ALL)), AUDIT
    ),
    "AnalyticsReads.simulate": Read(
        lambda r: r.analytics.simulate(r.workflow, r.workflow.policy, Window.QUARTER, r.now)
    ),
    "AnalyticsReads.group_tallies": Read(
        lambda r: r.analytics.group_tallies(r.workflow.id, r.since, r.now, EVERYTHING, _ALL)
    ),
    "AnalyticsReads.canary_tallies": Read(
        lambda r: r.analytics.canary_tallies(r.workflow.id, r.since, _ALL), AUDIT
    ),
    "AnalyticsReads.action_counts": Read(
        lambda r: r.analytics.action_counts(r.workflow.id, r.since, _ALL)
    ),
    "AnalyticsReads.series_counts": Read(
        lambda r: r.analytics.series_counts(
            r.workflow.id, analytics.bucket_starts(Window.QUARTER, r.now), Scope(_ALL)
        )
    ),
    "AnalyticsReads.median_dwell": Read(
        lambda r: r.analytics.median_dwell(r.workflow.id, r.since, _ALL)
    ),
    "AnalyticsReads.fast_streaks": Read(
        lambda r: r.analytics.fast_streaks(r.workflow.id, r.since, EVERYTHING, _ALL)
    ),
    "AgreementReads.votes": Read(lambda r: AgreementReads.over(r.reads).votes(r.workflow.id)),
    "SqlRecommendations.get": Read(lambda r: r.items.get(r.ids["items"][-1]), BY_ID),
    "SqlRecommendations.get_for_reviewer": Read(
        lambda r: r.items.get_for_reviewer(r.ids["items"][-1], "usr_anyone"), BY_ID
    ),
    "SqlRecommendations.revisions": Read(lambda r: r.items.revisions(r.ids["items"][-1]), BY_ID),
    "SqlRecommendations.next_claimable": Read(
        lambda r: r.items.next_claimable(r.workflow.id, list(Tier), r.now, [])
    ),
    "SqlRecommendations.canary_sources": Read(
        lambda r: r.items.canary_sources(r.workflow.id, list(Tier), 100)
    ),
    "SqlDecisions.get": Read(lambda r: r.decisions.get(r.ids["decisions"][-1]), BY_ID, BY_ID),
    "SqlDecisions.of_recommendation": Read(
        lambda r: r.decisions.of_recommendation(r.ids["items"][-1]), BY_ID, HISTORY
    ),
    "SqlDecisions.human_count_since": Read(_reviewer_counts, CAP),
    "outcome_rows": Read(lambda r: outcome_rows(r.reads.session, r.workflow.id)),
    "DriftReads.reviewed_proposals": Read(
        lambda r: DriftReads(r.reads.session).reviewed_proposals(
            r.workflow.id, "v1", r.since, Tier.ANALYST_REVIEW, 500
        )
    ),
    "DriftReads.reviewed_count": Read(
        lambda r: DriftReads(r.reads.session).reviewed_count(
            r.workflow.id, "v1", r.since, Tier.ANALYST_REVIEW
        )
    ),
    "ThresholdReads.proposing_version": Read(
        lambda r: r.thresholds.proposing_version(r.workflow.id)
    ),
    "ThresholdReads.threshold_evidence": Read(
        lambda r: r.thresholds.threshold_evidence(r.workflow, Window.QUARTER, r.now)
    ),
    "LearningMonthReads.learning_by_month": Read(
        lambda r: LearningMonthReads.over(r.reads).learning_by_month(r.workflow, r.now, 2, _ALL)
    ),
    "ThresholdReads.recommend_threshold": Read(
        lambda r: r.thresholds.recommend_threshold(r.workflow, Window.QUARTER, r.now, 0.5, 0.6)
    ),
}

NEITHER = "reads neither items nor decisions"
WRITE = "writes"
TREE = "the verifiable log's tree holds every decision, canaries' and undone ones too"
EXEMPT: dict[str, str] = {
    "Reads.users": NEITHER,
    "Reads.workflows": NEITHER,
    "Reads.workflow_by_key": NEITHER,
    "Reads.policy_histories": NEITHER,
    "Reads.job": NEITHER,
    "LearningReads.over": "builds the read model",
    "LearningReads.models_of": NEITHER,
    "LearningReads.model": NEITHER,
    "LearningReads.latest_theme_report": NEITHER,
    "LearningReads.theme_report": NEITHER,
    "LearningReads.workflow_created_at": NEITHER,
    "LearningReads.feedback_report": "counts through corrections_between (held above)",
    "AnalyticsReads.over": "builds the read model",
    "AgreementReads.over": "builds the read model",
    "WebhookReads.over": "builds the read model",
    "ThresholdReads.over": "builds the read model",
    "LearningMonthReads.over": "builds the read model",
    "WebhookReads.webhook": NEITHER,
    "WebhookReads.webhooks_of": NEITHER,
    "WebhookReads.deliveries_of": NEITHER,
    "PeopleReads.over": "builds the read model",
    "PeopleReads.all_users": NEITHER,
    "PeopleReads.admin_actions": NEITHER,
    "TeamReads.over": "builds the read model",
    "TeamReads.teams": NEITHER,
    "TeamReads.team_ids_of_users": NEITHER,
    "TeamReads.workflow_ids_of_teams": NEITHER,
    "TeamReads.workflows_hidden_from": NEITHER,
    "SqlRecommendations.add_many": WRITE,
    "SqlRecommendations.save": WRITE,
    "SqlRecommendations.add_revision": WRITE,
    "SqlRecommendations.by_external_ids": "by the submitter's ids, which a canary never has",
    "SqlRecommendations.pending_for_reroute": "a new policy re-routes every waiting item",
    "SqlRecommendations.due_for_sweep": "the sweep releases every lapsed lease, canaries' too",
    "SqlDecisions.append": WRITE,
    "SqlDecisions.seal_pending_of": WRITE,
    "SqlDecisions.get_or_seal": BY_ID,
    "LogReads.over": NEITHER,
    "LogReads.tree_size": TREE,
    "LogReads.sealed_decision": BY_ID,
    "LogReads.checkpoint": TREE,
    "LogReads.root": TREE,
    "LogReads.inclusion_proof": TREE,
    "LogReads.consistency_proof": TREE,
}
CLASSES = (
    Reads,
    LearningReads,
    AnalyticsReads,
    AgreementReads,
    WebhookReads,
    ThresholdReads,
    SqlRecommendations,
    SqlDecisions,
    DriftReads,
    LearningMonthReads,
    PeopleReads,
    TeamReads,
    LogReads,
)


def test_every_read_is_listed():
    public = {
        f"{cls.__name__}.{name}"
        for cls in CLASSES
        for name, member in vars(cls).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, classmethod))
    }
    assert public | {"outcome_rows"} == set(READS) | set(EXEMPT)
    assert not set(READS) & set(EXEMPT)
    assert set(Reads.__subclasses__()) <= set(CLASSES)


async def _decide(desk: Desk, token: str, mutation: str, dwell: float = 0, **variables: Any) -> str:
    """Claim the next item as `token`, decide it after `dwell` seconds; the decision's id."""
    claimed = await desk.run(CLAIM_NEXT, token, wf=desk.key)
    assert claimed["__typename"] == "ClaimSuccess", claimed
    await asyncio.sleep(dwell)
    result = await desk.run(mutation, token, id=claimed["recommendation"]["id"], **variables)
    assert result["__typename"] == "DecisionSuccess", result
    return str(result["decision"]["id"])


async def _undo(desk: Desk, token: str, decision_id: str) -> None:
    assert (await desk.run(UNDO, token, id=decision_id))["__typename"] == "DecisionSuccess"


async def _canary_rate(desk: Desk, rate: float) -> None:
    policy = await desk.run(UPDATE_POLICY, desk.admin, wf=desk.key, input={"canaryRate": rate})
    assert policy["__typename"] == "PolicySuccess", policy


async def _seed(gql: Any) -> Desk:
    desk = await open_desk(gql)
    override = {"action": "B", "reason": "mining is out of appetite"}
    slow = 0.3  # decisions that would move the median dwell if they counted
    await desk.item(payload={"industry": "mining"}, modelVersion="v1")
    await _decide(desk, desk.bob, OVERRIDE, **override)  # the canaries' source
    await desk.item(payload={"n": 1}, modelVersion="v1")
    await _decide(desk, desk.bob, APPROVE)
    await desk.item(payload={"n": 2}, modelVersion="v1")
    undone = await _decide(desk, desk.ana, OVERRIDE, slow, action="C", reason="no")
    await _undo(desk, desk.ana, undone)
    await _decide(desk, desk.ana, APPROVE)  # the same item, approved after the undo
    await desk.item(payload={"n": 3}, modelVersion="v1")
    await _undo(desk, desk.ana, await _decide(desk, desk.ana, APPROVE, slow))  # waits again
    await _canary_rate(desk, 1.0)
    await _decide(desk, desk.ana, APPROVE, slow)  # a canary, missed: a fast streak of two
    await _undo(desk, desk.ana, await _decide(desk, desk.ana, APPROVE))  # missed, undone
    await _decide(desk, desk.ana, OVERRIDE, slow, **override)  # caught
    assert (await desk.run(CLAIM_NEXT, desk.ana, wf=desk.key))["__typename"] == "ClaimSuccess"
    await _canary_rate(desk, 0.0)
    assert (await desk.run(CLAIM_NEXT, desk.bob, wf=desk.key))["__typename"] == "ClaimSuccess"
    # waits, queued after the canary that waits
    await desk.item(payload={"n": 4}, modelVersion="v1")
    return desk


async def _record_outcomes(desk: Desk, database: Any) -> None:
    """An outcome on every shipped item, canaries included."""
    async with database.read_engine.connect() as connection:
        shipped = list(
            (
                await connection.execute(
                    sa.select(recs_t.c.id).where(recs_t.c.decided_at.is_not(None))
                )
            ).scalars()
        )
    for n, rec_id in enumerate(shipped):
        result = await desk.run(OUTCOME, desk.model, id=rec_id, v=0.1 * n)
        assert result["__typename"] == "RecommendationSuccess", result


async def _ids(connection: Any) -> dict[str, list[str]]:
    async def column(query: Any) -> list[str]:
        return list((await connection.execute(query)).scalars())

    return {
        "items": await column(sa.select(recs_t.c.id).order_by(recs_t.c.created_at)),
        "decisions": await column(sa.select(decisions_t.c.id).order_by(decisions_t.c.seq)),
        "overrides": await column(sa.select(overrides_t.c.id)),
        "users": await column(sa.select(users_t.c.id).order_by(users_t.c.name)),
    }


async def _read_all(database: Any, key: str, now: datetime) -> dict[str, Any]:
    async with database.read_engine.connect() as connection, AsyncSession(bind=connection) as s:
        reads = Reads(s)
        workflow = await reads.workflow_by_key(key)
        assert workflow is not None
        reader = Reader(
            reads,
            LearningReads.over(reads),
            AnalyticsReads.over(reads),
            SqlRecommendations(s, skip_locked=False),
            SqlDecisions(s),
            workflow,
            now,
            await _ids(connection),
        )
        return {name: await read.call(reader) for name, read in READS.items()}


async def _forget_undone(database: Any) -> None:
    """Delete the undone decisions, their UNDO records and their overrides."""
    d = decisions_t.c
    async with database.write_engine.begin() as connection:
        pairs = list(
            await connection.execute(sa.select(d.id, d.reverts_id).where(d.reverts_id.is_not(None)))
        )
        undone = [reverted for _, reverted in pairs]
        await connection.execute(overrides_t.delete().where(overrides_t.c.decision_id.in_(undone)))
        await connection.execute(decisions_t.delete().where(d.id.in_([undo for undo, _ in pairs])))
        await connection.execute(decisions_t.delete().where(d.id.in_(undone)))


async def _forget_canaries(database: Any) -> None:
    """Delete the canaries, with their decisions, overrides and draft revisions."""
    canaries = sa.select(recs_t.c.id).where(recs_t.c.canary.is_(True))
    async with database.write_engine.begin() as connection:
        for table in (overrides_t, decisions_t, revisions_t):
            await connection.execute(table.delete().where(table.c.recommendation_id.in_(canaries)))
        await connection.execute(recs_t.delete().where(recs_t.c.canary.is_(True)))


async def test_no_read_shows_or_counts_a_canary_or_an_undone_decision(gql, database):
    desk = await _seed(gql)
    await _record_outcomes(desk, database)
    now = utcnow()
    seeded = await _read_all(database, desk.key, now)
    await _forget_undone(database)
    standing = await _read_all(database, desk.key, now)
    await _forget_canaries(database)
    real = await _read_all(database, desk.key, now)

    broken = [
        f"{name} counts undone decisions"
        for name, read in READS.items()
        if read.shows_undone is None and seeded[name] != standing[name]
    ] + [
        f"{name} shows canaries"
        for name, read in READS.items()
        if read.shows_canaries is None and standing[name] != real[name]
    ]
    assert not broken, "\n".join(broken)
    # What the rules hide was there to be seen: the log lists it, and canaries are audited.
    log = "Reads.decisions_page"
    assert (seeded[log].total, standing[log].total, real[log].total) == (11, 5, 3)
    audited = standing["AnalyticsReads.canary_tallies"]
    assert [(g.canaries, g.canaries_missed) for g in audited] == [(2, 1)]

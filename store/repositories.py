"""Repositories over one session. They read and write; they never commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import utcnow
from domain.enums import OPEN_STATUSES, RecommendationStatus, Tier, Verdict
from domain.events import QueueEvent
from domain.model import Decision, DraftRevision, Override, Recommendation, Workflow
from domain.policy import EscalationPolicy
from domain.ports import ConfirmationGrant
from domain.snapshots import encode_recommendation
from domain.teams import ReviewerIdentity
from domain.webhooks import DeliveryStatus, WebhookDelivery
from store.bulk_insert import insert_many
from store.effective_status import lapsed, live_claim, reviewed_now, status_is
from store.loading import FRESH, load_all, load_first
from store.log_pending import pending_row
from store.log_tree import Sealed, has_pending, pending_workflow_of, seal_pending
from store.standing import standing_decisions, visible_recommendations
from store.tables import (
    ConfirmationGrantRow,
    DecisionRow,
    DraftRevisionRow,
    EventRow,
    OverrideRow,
    PolicyRow,
    RecommendationRow,
    WebhookDeliveryRow,
    WorkflowRow,
    confirmation_grants_t,
    decisions_t,
    deliveries_t,
    events_t,
    overrides_t,
    pending_decisions_t,
    policies_t,
    recs_t,
    revisions_t,
    values_of,
    workflow_teams_t,
    workflows_t,
)
from store.teams import may_review_clause


def _workflow_with_policy_and_teams() -> Any:
    # The workflow's teams ride along as one string (team ids hold no spaces).
    teams = (
        sa.select(sa.func.aggregate_strings(workflow_teams_t.c.team_id, " "))
        .where(workflow_teams_t.c.workflow_id == workflows_t.c.id)
        .scalar_subquery()
    )
    return sa.select(WorkflowRow, PolicyRow, teams).join(
        policies_t,
        (policies_t.c.workflow_id == workflows_t.c.id)
        & (policies_t.c.version == workflows_t.c.policy_version),
    )


# The hot path's statements are built once: building one, and computing its cache key,
# cost more than running it (a decision runs several).
_WORKFLOW_BY_ID = _workflow_with_policy_and_teams().where(
    workflows_t.c.id == sa.bindparam("workflow_id")
)
_WORKFLOW_BY_KEY = _workflow_with_policy_and_teams().where(
    workflows_t.c.key == sa.bindparam("workflow_key")
)
_FOR_REVIEWER = sa.select(
    RecommendationRow, may_review_clause(recs_t.c.workflow_id, sa.bindparam("reviewer_id"))
).where(recs_t.c.id == sa.bindparam("rec_id"))

_SAVES: dict[tuple[str, ...], Any] = {}


def _save_statement(columns: tuple[str, ...]) -> Any:
    """The compare-and-swap UPDATE of an item's `columns`, with bound parameters, built
    once: building it with its values for every decision was a tenth of a decision's
    time."""
    statement = _SAVES.get(columns)
    if statement is None:
        c = recs_t.c
        statement = _SAVES[columns] = (
            recs_t.update()
            .where(
                c.id == sa.bindparam("rec_id"),
                c.version == sa.bindparam("expected_version"),
                c.status == sa.bindparam("expected_status"),
            )
            .values({name: sa.bindparam(f"new_{name}", type_=c[name].type) for name in columns})
        )
    return statement


class SqlWorkflows:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, workflow: Workflow) -> None:
        await self.session.execute(workflows_t.insert().values(values_of(WorkflowRow.of(workflow))))
        await self.session.execute(
            policies_t.insert().values(values_of(PolicyRow.of(workflow.id, workflow.policy)))
        )

    async def _one(self, query: Any, params: dict[str, str]) -> Workflow | None:
        found = (await self.session.execute(query, params, execution_options=FRESH)).first()
        if found is None:
            return None
        workflow: WorkflowRow = found[0]
        policy: PolicyRow = found[1]
        team_ids = tuple(sorted((found[2] or "").split()))
        return workflow.to_domain(policy.to_domain(), team_ids)

    async def get(self, workflow_id: str) -> Workflow | None:
        return await self._one(_WORKFLOW_BY_ID, {"workflow_id": workflow_id})

    async def by_key(self, key: str) -> Workflow | None:
        return await self._one(_WORKFLOW_BY_KEY, {"workflow_key": key})

    async def add_policy(self, workflow: Workflow, policy: EscalationPolicy) -> None:
        await self.session.execute(
            policies_t.insert().values(values_of(PolicyRow.of(workflow.id, policy)))
        )
        await self.session.execute(
            workflows_t.update()
            .where(workflows_t.c.id == workflow.id)
            .values(policy_version=policy.version)
        )


class SqlRecommendations:
    def __init__(self, session: AsyncSession, *, skip_locked: bool) -> None:
        self.session = session
        self.skip_locked = skip_locked

    async def add_many(self, items: Sequence[Recommendation]) -> None:
        if not items:
            return
        versions = await self._policy_versions({i.workflow_id for i in items})
        rows = [RecommendationRow.values(i, versions[i.workflow_id]) for i in items]
        await insert_many(self.session, recs_t, rows)

    async def _policy_versions(self, workflow_ids: set[str]) -> dict[str, int]:
        result = await self.session.execute(
            sa.select(workflows_t.c.id, workflows_t.c.policy_version).where(
                workflows_t.c.id.in_(workflow_ids)
            )
        )
        return {row.id: row.policy_version for row in result}

    async def get(self, rec_id: str, *, for_update: bool = False) -> Recommendation | None:
        query = sa.select(RecommendationRow).where(recs_t.c.id == rec_id)
        if for_update:
            query = query.with_for_update(key_share=True)
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def get_for_reviewer(
        self, rec_id: str, user_id: str
    ) -> tuple[Recommendation | None, bool]:
        params = {"rec_id": rec_id, "reviewer_id": user_id}
        found = (await self.session.execute(_FOR_REVIEWER, params, execution_options=FRESH)).first()
        if found is None:
            return None, False
        return found[0].to_domain(), bool(found[1])

    async def by_external_ids(
        self, workflow_id: str, external_ids: Sequence[str]
    ) -> dict[str, Recommendation]:
        if not external_ids:
            return {}
        rows = await load_all(
            self.session,
            sa.select(RecommendationRow).where(
                recs_t.c.workflow_id == workflow_id,
                recs_t.c.external_id.in_(set(external_ids)),
            ),
        )
        return {row.external_id: row.to_domain() for row in rows if row.external_id}

    async def save(
        self, item: Recommendation, expected_version: int, expected_status: RecommendationStatus
    ) -> bool:
        changes = RecommendationRow.changes(item)
        values = {f"new_{name}": value for name, value in changes.items()}
        values.update(rec_id=item.id, expected_version=expected_version)
        values["expected_status"] = expected_status.value
        result: Any = await self.session.execute(_save_statement(tuple(changes)), values)
        return bool(result.rowcount == 1)

    async def pending_for_reroute(self, workflow_id: str, now: datetime) -> list[Recommendation]:
        # Every waiting item, canaries included: a new policy re-routes all of them.
        waiting = status_is(RecommendationStatus.PENDING, now)
        query = sa.select(RecommendationRow).where(recs_t.c.workflow_id == workflow_id, waiting)
        if self.skip_locked:
            query = query.with_for_update(key_share=True)
        return [row.to_domain() for row in await load_all(self.session, query)]

    async def next_claimable(
        self,
        workflow_id: str,
        tiers: Sequence[Tier],
        now: datetime,
        skip: Sequence[str],
        reviewer: ReviewerIdentity | None = None,
    ) -> Recommendation | None:
        free = status_is(RecommendationStatus.PENDING, now)
        c = recs_t.c
        pinned_elsewhere: sa.ColumnElement[bool] = sa.false()
        if reviewer is not None:
            # Items pinned to another reviewer, or to a team the reviewer is not in, and
            # items the reviewer voted on already.
            pinned_elsewhere = (
                (c.assignee_id.is_not(None) & (c.assignee_id != reviewer.id))
                | (
                    c.assigned_team_id.is_not(None)
                    & c.assigned_team_id.not_in(sorted(reviewer.team_ids))
                )
                | (c.voters.is_not(None) & c.voters.contains(f" {reviewer.id} ", autoescape=True))
                | (c.four_eyes & (c.submitted_by_id == reviewer.id))
            )
        query = (
            visible_recommendations()
            .where(
                c.workflow_id == workflow_id,
                c.tier.in_([t.value for t in tiers]),
                free,
                ~pinned_elsewhere,
            )
            .order_by(recs_t.c.due_sort, recs_t.c.created_at, recs_t.c.id)
            .limit(1)
        )
        if skip:
            query = query.where(recs_t.c.id.not_in(list(skip)))
        if self.skip_locked:
            # PostgreSQL: concurrent reviewers each lock a different row, nobody waits.
            query = query.with_for_update(skip_locked=True, key_share=True)
        row = await load_first(self.session, query)
        return row.to_domain() if row else None

    async def due_for_sweep(self, now: datetime, limit: int) -> list[Recommendation]:
        # Canaries included: a canary's lapsed lease or SLA is swept like any other.
        c = recs_t.c
        open_ = c.status.in_([s.value for s in OPEN_STATUSES])
        overdue = open_ & (c.sla_due_at <= now)
        query = (
            sa.select(RecommendationRow)
            .where(
                lapsed(now)
                | (
                    overdue
                    & (c.tier == Tier.ANALYST_REVIEW.value)
                    & ~live_claim(now)
                    & ~reviewed_now(now)
                )
                | (overdue & (c.tier == Tier.SENIOR_REVIEW.value) & ~c.sla_breached)
            )
            .order_by(c.due_sort, c.id)
            .limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True, key_share=True)
        return [row.to_domain() for row in await load_all(self.session, query)]

    async def add_revision(self, rec_id: str, revision: DraftRevision) -> None:
        await self.session.execute(
            revisions_t.insert().values(values_of(DraftRevisionRow.of(rec_id, revision)))
        )

    async def revisions(self, rec_id: str) -> list[DraftRevision]:
        rows = await load_all(
            self.session,
            sa.select(DraftRevisionRow)
            .where(revisions_t.c.recommendation_id == rec_id)
            .order_by(revisions_t.c.id),
        )
        return [row.to_domain() for row in rows]

    async def canary_sources(
        self, workflow_id: str, tiers: Sequence[Tier], limit: int
    ) -> list[Recommendation]:
        """The latest overridden real items: a canary is never copied from a canary."""
        c = recs_t.c
        rows = await load_all(
            self.session,
            visible_recommendations()
            .where(
                c.workflow_id == workflow_id,
                c.status == RecommendationStatus.OVERRIDDEN.value,
                c.final_action.is_not(None),
                c.tier.in_([t.value for t in tiers]),
            )
            .order_by(c.decided_at.desc(), c.id)
            .limit(limit),
        )
        return [row.to_domain() for row in rows]


SealNow = Callable[[AsyncSession, Sequence[Decision]], Awaitable["Sealed | None"]]
"""Seals decisions of one workflow in the given transaction, or answers None (the
log sealer's `seal_now`)."""


class SqlDecisions:
    def __init__(self, session: AsyncSession, seal_now: SealNow | None = None) -> None:
        self.session = session
        self._seal_now = seal_now
        self.added: list[Decision] = []
        """Decisions appended in this unit of work."""
        self.pending: list[Decision] = []
        """Those of them written as pending: the runner waits for their sealing."""
        self.sealed: list[Sealed] = []
        """What sealing this transaction did itself (for the sealer to hear of it after commit)."""

    async def append(self, decisions: Sequence[Decision]) -> None:
        """Append decisions to their workflow's log, as the last writes of the transaction.

        When the unit of work may seal (`seal_now`) and the workflow's chain head is free,
        they are sealed here, after whatever was pending, and the head stays locked until
        commit. Otherwise they are written as pending, and the log sealer seals them into
        their workflow's chain and tree after commit (store.log_tree), so that this
        transaction takes no lock that other decisions of the workflow wait for."""
        if not decisions:
            return
        self.added.extend(decisions)
        if self._seal_now is not None and len({d.workflow_id for d in decisions}) == 1:
            sealed = await self._seal_now(self.session, decisions)
            if sealed is not None:
                self.sealed.append(sealed)
                return
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            # This transaction's COMMIT need not wait for its WAL to reach the disk: no
            # one is told of it before its decisions are sealed (workers.runtime), and
            # the sealing transaction, which commits synchronously after this one, flushes
            # the WAL past this commit (a sealing by another process is seen only once it
            # is flushed). A crash in between loses a decision no one was told of. One
            # flush per decision fewer: paced p99 41-56 ms became 24-27.
            await self.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        await self.session.execute(
            pending_decisions_t.insert(), [pending_row(d) for d in decisions]
        )
        self.pending.extend(decisions)

    async def seal_pending_of(self, recommendation_id: str, workflow_id: str) -> None:
        """Seal the workflow's pending decisions, in this transaction, when the item has
        one: a use case that reads the item's history needs all of it."""
        if await has_pending(self.session, recommendation_id=recommendation_id):
            await seal_pending(self.session, workflow_id, utcnow(), checkpoint_due=False)

    async def get_or_seal(self, decision_id: str) -> Decision | None:
        """The decision, sealing its workflow's pending decisions first when it waits among them."""
        found = await self.get(decision_id)
        if found is None:
            workflow_id = await pending_workflow_of(self.session, decision_id)
            if workflow_id is not None:
                await seal_pending(self.session, workflow_id, utcnow(), checkpoint_due=False)
                found = await self.get(decision_id)
        return found

    async def get(self, decision_id: str) -> Decision | None:
        row = await load_first(
            self.session, sa.select(DecisionRow).where(decisions_t.c.id == decision_id)
        )
        return row.to_domain() if row else None

    async def of_recommendation(self, rec_id: str) -> list[Decision]:
        # Every decision of the item, undone ones flagged: undo reads the whole history.
        rows = await load_all(
            self.session,
            sa.select(DecisionRow)
            .where(decisions_t.c.recommendation_id == rec_id)
            .order_by(decisions_t.c.seq),
        )
        undone = {row.reverts_id for row in rows if row.reverts_id is not None}
        return [row.to_domain(undone=row.id in undone) for row in rows]

    async def human_count_since(self, workflow_id: str, actor_id: str, since: datetime) -> int:
        # Decisions on canaries count: the daily cap limits how much a reviewer decides,
        # and a canary is decided like any other item.
        c = decisions_t.c
        result = await self.session.execute(
            standing_decisions(sa.func.count()).where(
                c.workflow_id == workflow_id,
                c.actor_id == actor_id,
                c.automated.is_(False),
                c.verdict != Verdict.UNDO.value,
                c.created_at >= since,
            )
        )
        p = pending_decisions_t.c
        waiting = await self.session.execute(
            sa.select(sa.func.count()).where(
                p.workflow_id == workflow_id,
                p.actor_id == actor_id,
                p.verdict != Verdict.UNDO.value,
                p.created_at >= since,
            )
        )
        return int(result.scalar_one()) + int(waiting.scalar_one())


class SqlOverrides:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, override: Override) -> None:
        await self.session.execute(overrides_t.insert().values(values_of(OverrideRow.of(override))))


class SqlConfirmationGrants:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, grant: ConfirmationGrant) -> None:
        await self.session.execute(
            confirmation_grants_t.insert().values(values_of(ConfirmationGrantRow.of(grant)))
        )

    async def consume(self, token_hash: str, now: datetime) -> ConfirmationGrant | None:
        used: Any = await self.session.execute(
            confirmation_grants_t.update()
            .where(
                confirmation_grants_t.c.token_hash == token_hash,
                confirmation_grants_t.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if used.rowcount != 1:
            return None
        row = await load_first(
            self.session,
            sa.select(ConfirmationGrantRow).where(confirmation_grants_t.c.token_hash == token_hash),
        )
        assert row is not None
        return row.to_domain()


class SqlEvents:
    """The outbox: queue events written in the transaction of the change they describe.
    Which events are written, and the webhook deliveries they call for, is
    domain.outbox's decision."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added: list[QueueEvent] = []
        self.snapshots: dict[str, dict[str, Any]] = {}
        """The item snapshot each added event was written with, by event id (for the
        publisher, which then need not read them back)."""

    async def add(self, events: Sequence[QueueEvent]) -> None:
        if not events:
            return
        # Events of one item written together see it in one state: one snapshot serves
        # them all (an auto-approved item has two events).
        snapshots: dict[int, dict[str, Any]] = {}
        rows = []
        for e in events:
            snapshot = snapshots.get(id(e.recommendation))
            if snapshot is None:
                snapshot = snapshots[id(e.recommendation)] = encode_recommendation(e.recommendation)
            rows.append(EventRow.values(e, snapshot))
            self.snapshots[e.id] = snapshot
        await insert_many(self.session, events_t, rows)
        self.added.extend(events)

    async def deliveries_for_decision(self, decision_id: str) -> list[WebhookDelivery]:
        caused = sa.select(events_t.c.id).where(events_t.c.decision_id == decision_id)
        query = (
            sa.select(WebhookDeliveryRow)
            .where(deliveries_t.c.event_id.in_(caused))
            .order_by(deliveries_t.c.id)
            .with_for_update()
        )
        return [row.to_domain() for row in await load_all(self.session, query)]

    async def cancel_deliveries(self, delivery_ids: Sequence[str], reason: str) -> None:
        if not delivery_ids:
            return
        await self.session.execute(
            deliveries_t.update()
            .where(
                deliveries_t.c.id.in_(list(delivery_ids)),
                deliveries_t.c.status == DeliveryStatus.PENDING.value,
            )
            # The attempt count moves too: an attempt in flight records with a compare-and-swap
            # on it, so it cannot write the delivery back to PENDING (and retry) afterwards.
            .values(
                status=DeliveryStatus.FAILED.value,
                last_error=reason,
                next_attempt_at=None,
                attempts=deliveries_t.c.attempts + 1,
            )
        )

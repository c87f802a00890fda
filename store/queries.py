"""The read side: pages, counts and batch look-ups for the API's resolvers and loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from domain.clock import as_utc
from domain.enums import OPEN_STATUSES, ConsensusState, RecommendationStatus, Tier
from domain.errors import InvalidInputError
from domain.jobs import Job
from domain.model import Decision, DraftRevision, Override, Recommendation, User, Workflow
from domain.policy import EscalationPolicy
from store.cursors import DECISIONS_CURSOR, OVERRIDES_CURSOR, QUEUE_CURSOR
from store.effective_status import effective_status, status_is
from store.loading import FRESH
from store.standing import is_undone, standing_overrides, visible_recommendations
from store.tables import (
    DecisionRow,
    DraftRevisionRow,
    JobRow,
    OverrideRow,
    PolicyRow,
    RecommendationRow,
    UserRow,
    WorkflowRow,
    decisions_t,
    jobs_t,
    overrides_t,
    policies_t,
    recs_t,
    revisions_t,
    users_t,
    workflow_teams_t,
    workflows_t,
)

T = TypeVar("T")
R = TypeVar("R")
MAX_PAGE = 500
DEFAULT_PAGE = 50
Status = RecommendationStatus


@dataclass
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next: bool
    has_previous: bool
    total: int


def _page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise InvalidInputError(f"first must be between 0 and {MAX_PAGE}", "first")
    return first


def _since(value: datetime) -> datetime:
    try:
        converted = as_utc(value)
    except OverflowError as error:
        raise InvalidInputError("since is out of range", "since") from error
    assert converted is not None
    return converted


class Reads:
    """Queries over one read session; everything a request may look at."""

    def __init__(
        self,
        session: AsyncSession,
        lock: asyncio.Lock | None = None,
        on_users: Callable[[dict[str, User]], None] | None = None,
    ) -> None:
        self.session = session
        # Resolvers run concurrently but a session takes one statement at a time.
        self._lock = lock or asyncio.Lock()
        # Users read along with other rows (a policy's author, a claim's reviewer, a
        # decision's actor) are handed here, so that the caller need not read them again.
        self._on_users = on_users

    def _saw(self, joined: Iterable[UserRow | None]) -> None:
        """Hand on the users an outer join read along (None where there was none)."""
        if self._on_users is None:
            return
        users = {row.id: row.to_domain() for row in joined if row is not None}
        if users:
            self._on_users(users)

    async def _execute(self, statement: Any) -> Any:
        async with self._lock:
            return await self.session.execute(statement)

    async def _load(self, query: sa.Executable) -> sa.Result[*tuple[Any, ...]]:
        """Run an ORM select of row classes, with fresh values (see store.loading)."""
        async with self._lock:
            result: sa.Result[*tuple[Any, ...]] = await self.session.execute(
                query, execution_options=FRESH
            )
            return result

    async def _rows(self, query: sa.Select[R]) -> Sequence[R]:
        """Every row of a select of one row class, as that class."""
        return (await self._load(query)).scalars().all()

    # -------------------------------------------------------------- batches

    async def users(self, ids: Iterable[str]) -> dict[str, User]:
        rows = await self._rows(sa.select(UserRow).where(users_t.c.id.in_(set(ids))))
        return {row.id: row.to_domain() for row in rows}

    async def workflows(self, ids: Iterable[str] | None = None) -> list[Workflow]:
        return await self._workflows(None if ids is None else workflows_t.c.id.in_(set(ids)))

    async def workflow_by_key(self, key: str) -> Workflow | None:
        found = await self._workflows(workflows_t.c.key == key)
        return found[0] if found else None

    async def _workflows(self, where: Any) -> list[Workflow]:
        """Workflows with their current policy and their teams, in one statement."""
        author = aliased(UserRow, name="author")
        query = (
            sa.select(WorkflowRow, PolicyRow, author, workflow_teams_t.c.team_id)
            .join(
                policies_t,
                (policies_t.c.workflow_id == workflows_t.c.id)
                & (policies_t.c.version == workflows_t.c.policy_version),
            )
            .outerjoin(author, col(author.id) == policies_t.c.changed_by_id)
            .outerjoin(workflow_teams_t, workflow_teams_t.c.workflow_id == workflows_t.c.id)
            .order_by(workflows_t.c.key, workflow_teams_t.c.team_id)
        )
        if where is not None:
            query = query.where(where)
        found: dict[str, tuple[WorkflowRow, PolicyRow, list[str]]] = {}
        joined: list[UserRow | None] = []
        for workflow, policy, changed_by, team_id in await self._load(query):
            _, _, teams = found.setdefault(workflow.id, (workflow, policy, []))
            if team_id is not None:
                teams.append(team_id)
            joined.append(changed_by)
        self._saw(joined)
        return [
            workflow.to_domain(policy.to_domain(), tuple(teams))
            for workflow, policy, teams in found.values()
        ]

    async def policy_histories(
        self, workflow_ids: Iterable[str]
    ) -> dict[str, list[EscalationPolicy]]:
        rows = await self._rows(
            sa.select(PolicyRow)
            .where(policies_t.c.workflow_id.in_(set(workflow_ids)))
            .order_by(policies_t.c.workflow_id, policies_t.c.version)
        )
        history: dict[str, list[EscalationPolicy]] = {}
        for row in rows:
            history.setdefault(row.workflow_id, []).append(row.to_domain())
        return history

    async def recommendations(self, ids: Iterable[str]) -> dict[str, Recommendation]:
        """Items by id, canaries included: a canary's id reaches only its reviewer (through
        the claim), who reads it by that id."""
        rows = await self._rows(sa.select(RecommendationRow).where(recs_t.c.id.in_(set(ids))))
        return {row.id: row.to_domain() for row in rows}

    @staticmethod
    def _decisions_select() -> Any:
        """Decisions with whether an UNDO record reverts each, and their actors, in the
        same statement. Undone ones are included, flagged: they are part of the log."""
        actor = aliased(UserRow, name="actor")
        return sa.select(
            DecisionRow, is_undone(decisions_t.c.id).label("is_undone"), actor
        ).outerjoin(actor, col(actor.id) == decisions_t.c.actor_id)

    def _decisions_from(self, rows: Sequence[Any]) -> list[Decision]:
        found: list[tuple[DecisionRow, bool, UserRow | None]] = [tuple(row) for row in rows]
        self._saw(actor for _, _, actor in found)
        return [decision.to_domain(undone=bool(undone)) for decision, undone, _ in found]

    async def decisions(self, ids: Iterable[str]) -> dict[str, Decision]:
        rows = list(
            await self._load(self._decisions_select().where(decisions_t.c.id.in_(set(ids))))
        )
        return {d.id: d for d in self._decisions_from(rows)}

    async def decisions_of(self, rec_ids: Iterable[str]) -> dict[str, list[Decision]]:
        rows = list(
            await self._load(
                self._decisions_select()
                .where(decisions_t.c.recommendation_id.in_(set(rec_ids)))
                .order_by(decisions_t.c.workflow_id, decisions_t.c.seq)
            )
        )
        grouped: dict[str, list[Decision]] = {}
        for d in self._decisions_from(rows):
            grouped.setdefault(d.recommendation_id, []).append(d)
        return grouped

    async def overrides(self, ids: Iterable[str]) -> dict[str, Override]:
        rows = await self._rows(sa.select(OverrideRow).where(overrides_t.c.id.in_(set(ids))))
        return {row.id: row.to_domain() for row in rows}

    async def revisions_of(self, rec_ids: Iterable[str]) -> dict[str, list[DraftRevision]]:
        rows = await self._rows(
            sa.select(DraftRevisionRow)
            .where(revisions_t.c.recommendation_id.in_(set(rec_ids)))
            .order_by(revisions_t.c.id)
        )
        grouped: dict[str, list[DraftRevision]] = {}
        for row in rows:
            grouped.setdefault(row.recommendation_id, []).append(row.to_domain())
        return grouped

    async def open_counts_by_workflow(self) -> dict[tuple[str, str], int]:
        """Open items (PENDING, CLAIMED, FLAGGED, AWAITING_CONFIRMATION) by workflow and tier."""
        c = recs_t.c
        result = await self._execute(
            visible_recommendations(workflows_t.c.key, c.tier, sa.func.count())
            .join(workflows_t, workflows_t.c.id == c.workflow_id)
            .where(c.status.in_(_values(OPEN_STATUSES)))
            .group_by(workflows_t.c.key, c.tier)
        )
        return {(key, tier): int(count) for key, tier, count in result}

    async def job(self, job_id: str) -> Job | None:
        rows = await self._rows(sa.select(JobRow).where(jobs_t.c.id == job_id))
        return rows[0].to_domain() if rows else None

    async def queue_counts(
        self, workflow_ids: Iterable[str], tiers: Iterable[Tier], now: datetime
    ) -> dict[str, list[tuple[Tier, Status, int]]]:
        """Open items per workflow, tier and (effective) status."""
        c = recs_t.c
        status = effective_status(now).label("effective")
        waiting = _values(OPEN_STATUSES | {Status.NEEDS_DATA})
        result = await self._execute(
            visible_recommendations(c.workflow_id, c.tier, status, sa.func.count())
            .where(
                c.workflow_id.in_(set(workflow_ids)),
                c.tier.in_([t.value for t in tiers]),
                c.status.in_(waiting),
            )
            .group_by(c.workflow_id, c.tier, status)
        )
        counts: dict[str, list[tuple[Tier, Status, int]]] = {}
        for workflow_id, tier, effective, count in result:
            counts.setdefault(workflow_id, []).append((Tier(tier), Status(effective), count))
        for rows in counts.values():
            rows.sort(key=lambda r: (list(Tier).index(r[0]), list(Status).index(r[1])))
        return counts

    # -------------------------------------------------------------- pages

    async def queue(
        self,
        workflow_id: str,
        tiers: Sequence[Tier],
        statuses: Sequence[Status],
        first: int | None,
        after: str | None,
        now: datetime,
    ) -> Page[Recommendation]:
        """Items in queue order: slaDueAt (items without one last), createdAt, id."""
        first = _page_size(first)
        start = None if after is None else QUEUE_CURSOR.decode(after)
        c = recs_t.c
        listed = visible_recommendations().where(
            c.workflow_id == workflow_id,
            c.tier.in_([t.value for t in tiers]),
            sa.or_(*[status_is(s, now) for s in statuses]),
        )
        total_of_all = _count_of(listed).correlate(None)
        reviewer = aliased(UserRow, name="reviewer")
        query = listed.add_columns(
            total_of_all.scalar_subquery().label("total_count"), reviewer
        ).outerjoin(reviewer, col(reviewer.id) == c.claimed_by_id)
        if start is not None:
            due, created, rec_id = start
            key = sa.tuple_(c.due_sort, c.created_at, c.id)
            query = query.where(
                key
                > sa.tuple_(
                    sa.literal(due, c.due_sort.type),
                    sa.literal(created, c.created_at.type),
                    sa.literal(rec_id),
                )
            )
        query = query.order_by(c.due_sort, c.created_at, c.id).limit(first + 1)
        rows: list[tuple[RecommendationRow, int, UserRow | None]] = [
            tuple(row) for row in await self._load(query)
        ]
        self._saw(joined for _, _, joined in rows[:first])
        items = [
            (QUEUE_CURSOR.encode([r.due_sort, r.created_at, r.id]), r.to_domain())
            for r, _, _ in rows[:first]
        ]
        # The count rides along with the rows; only a page past the end needs its own.
        total = int(rows[0][1]) if rows else await self._count(listed)
        return Page(items, len(rows) > first, after is not None, total)

    async def decisions_page(
        self,
        workflow_id: str,
        tiers: Sequence[Tier],
        since: datetime | None,
        first: int | None,
        after: str | None,
        blind_to: str | None = None,
    ) -> Page[Decision]:
        """The decision log in chain order: every decision, as the hash chain holds them.

        Neither standing rule applies: undone decisions are listed (flagged is_undone) and
        so are the UNDO records and decisions on canaries, since the log is the record
        of everything decided. With `blind_to` (a reviewer's id, under blind review), votes
        on items still collecting votes that this reviewer has not voted on are left out."""
        first = _page_size(first)
        start = None if after is None else DECISIONS_CURSOR.decode(after)
        c = decisions_t.c
        where = [c.workflow_id == workflow_id, c.tier.in_([t.value for t in tiers])]
        if blind_to is not None:
            r = recs_t.c
            unearned = sa.exists().where(
                (r.id == c.recommendation_id)
                & (r.consensus_state == ConsensusState.COLLECTING.value)
                & (r.voters.is_(None) | ~r.voters.contains(f" {blind_to} ", autoescape=True))
            )
            where.append(~(c.vote & unearned))
        if since is not None:
            where.append(c.created_at >= _since(since))
        total = await self._count(sa.select(decisions_t).where(*where))
        query = self._decisions_select().where(*where)
        if start is not None:
            (seq,) = start
            query = query.where(c.seq > seq)
        rows = list(await self._load(query.order_by(c.seq).limit(first + 1)))
        decided = self._decisions_from(rows[:first])
        items = [(DECISIONS_CURSOR.encode([d.seq]), d) for d in decided]
        return Page(items, len(rows) > first, after is not None, total)

    async def overrides_page(
        self,
        workflow_id: str,
        tiers: Sequence[Tier],
        since: datetime | None,
        first: int | None,
        after: str | None,
    ) -> Page[Override]:
        """A workflow's overrides, oldest first (undone ones and canaries left out)."""
        first = _page_size(first)
        start = None if after is None else OVERRIDES_CURSOR.decode(after)
        c = overrides_t.c
        in_tiers = sa.select(decisions_t.c.id).where(
            decisions_t.c.id == c.decision_id, decisions_t.c.tier.in_([t.value for t in tiers])
        )
        query = standing_overrides().where(c.workflow_id == workflow_id, sa.exists(in_tiers))
        if since is not None:
            query = query.where(c.created_at >= _since(since))
        total = await self._count(query)
        if start is not None:
            created, override_id = start
            query = query.where(
                sa.tuple_(c.created_at, c.id)
                > sa.tuple_(sa.literal(created, c.created_at.type), sa.literal(override_id))
            )
        rows = await self._rows(query.order_by(c.created_at, c.id).limit(first + 1))
        items = [
            (OVERRIDES_CURSOR.encode([r.created_at, r.id]), r.to_domain()) for r in rows[:first]
        ]
        return Page(items, len(rows) > first, after is not None, total)

    async def _count(self, query: Any) -> int:
        result = await self._execute(_count_of(query))
        return int(result.scalar_one())


def _count_of(query: Any) -> Any:
    """SELECT count(*) over the rows `query` selects (its FROM and WHERE kept)."""
    return query.with_only_columns(sa.func.count())


def _values(statuses: Iterable[Status]) -> list[str]:
    """The statuses' stored values, in a stable order (bound as one IN list)."""
    return sorted(s.value for s in statuses)

"""The per-request context: who is asking, a read session, and the request's DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from api.services import Services
from domain.clock import utcnow
from domain.enums import RecommendationStatus, Role, Tier
from domain.learning import ModelVersion
from domain.model import Decision, DraftRevision, Recommendation, User, Workflow
from domain.policy import EscalationPolicy
from domain.ports import UnitOfWork
from domain.rights import visible_tiers
from domain.teams import Team
from store.learning import LearningReads
from store.queries import Reads
from store.teams import TeamReads

P = ParamSpec("P")
R = TypeVar("R")
V = TypeVar("V")


def _by_key(
    fetch: Callable[[list[str]], Awaitable[dict[str, V]]], default: Any = None
) -> Callable[[list[str]], Awaitable[list[V]]]:
    async def load(keys: list[str]) -> list[V]:
        found = await fetch(keys)
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return load


class Loaders:
    """One set per request, so that nested fields cost one query per kind, not per item."""

    def __init__(self, ctx: Context) -> None:
        read = ctx.reads

        async def workflows(ids: list[str]) -> dict[str, Workflow]:
            return {w.id: w for w in await (await read()).workflows(ids)}

        async def users(ids: list[str]) -> dict[str, User]:
            return await (await read()).users(ids)

        async def recommendations(ids: list[str]) -> dict[str, Recommendation]:
            return await (await read()).recommendations(ids)

        async def decisions(ids: list[str]) -> dict[str, Decision]:
            return await (await read()).decisions(ids)

        async def decisions_of(ids: list[str]) -> dict[str, list[Decision]]:
            return await (await read()).decisions_of(ids)

        async def revisions_of(ids: list[str]) -> dict[str, list[DraftRevision]]:
            return await (await read()).revisions_of(ids)

        async def policy_history(ids: list[str]) -> dict[str, list[EscalationPolicy]]:
            return await (await read()).policy_histories(ids)

        async def queue_counts(
            ids: list[str],
        ) -> dict[str, list[tuple[Tier, RecommendationStatus, int]]]:
            hidden = await ctx.hidden_workflows()
            counts = await (await read()).queue_counts(ids, ctx.visible_tiers, ctx.now)
            return {w: c for w, c in counts.items() if w not in hidden}

        async def models_of(ids: list[str]) -> dict[str, list[ModelVersion]]:
            return await LearningReads.over(await read()).models_of(ids)

        async def teams(ids: list[str]) -> dict[str, Team]:
            return {t.id: t for t in await TeamReads.over(await read()).teams(ids)}

        async def team_ids_of_user(ids: list[str]) -> dict[str, list[str]]:
            return await TeamReads.over(await read()).team_ids_of_users(ids)

        async def workflow_ids_of_team(ids: list[str]) -> dict[str, list[str]]:
            return await TeamReads.over(await read()).workflow_ids_of_teams(ids)

        self.models_of = DataLoader(_by_key(models_of, list))
        self.workflow = DataLoader(_by_key(workflows))
        self.user = DataLoader(_by_key(users))
        self.recommendation = DataLoader(_by_key(recommendations))
        self.decision = DataLoader(_by_key(decisions))
        self.decisions_of = DataLoader(_by_key(decisions_of, list))
        self.revisions_of = DataLoader(_by_key(revisions_of, list))
        self.policy_history = DataLoader(_by_key(policy_history, list))
        self.queue_counts = DataLoader(_by_key(queue_counts, list))
        self.team = DataLoader(_by_key(teams))
        self.team_ids_of_user = DataLoader(_by_key(team_ids_of_user, list))
        self.workflow_ids_of_team = DataLoader(_by_key(workflow_ids_of_team, list))


@dataclass
class Context:
    services: Services
    user: User | None
    request: Any = None
    response: Any = None
    now: datetime = field(default_factory=utcnow)
    _session: AsyncSession | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: Loaders | None = None
    _hidden: frozenset[str] | None = None
    connection_params: dict[str, Any] | None = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self)
        return self._loaders

    @property
    def viewer(self) -> User:
        """The authenticated caller (HTTP requests without one never reach resolvers)."""
        assert self.user is not None
        return self.user

    @property
    def visible_tiers(self) -> Sequence[Tier]:
        allowed = visible_tiers(self.viewer.role)
        return [t for t in Tier if t in allowed]

    def can_see(self, tiers: Iterable[Tier]) -> list[Tier]:
        allowed = set(self.visible_tiers)
        return [t for t in tiers if t in allowed]

    async def hidden_workflows(self) -> frozenset[str]:
        """Workflows whose items the caller may not see: reviewed by teams the caller is
        not in (admins and services see every workflow's items)."""
        if self._hidden is None:
            if self.viewer.role in (Role.ADMIN, Role.SERVICE):
                self._hidden = frozenset()
            else:
                reads = TeamReads.over(await self.reads())
                self._hidden = await reads.workflows_hidden_from(self.viewer.id)
        return self._hidden

    async def tiers_in(self, workflow_id: str, tiers: Iterable[Tier] | None = None) -> list[Tier]:
        """The tiers (of these) whose items the caller may see in this workflow: none when
        the workflow is not theirs to review."""
        if workflow_id in await self.hidden_workflows():
            return []
        return self.can_see(list(Tier) if tiers is None else tiers)

    async def hides_votes_on(self, item: Recommendation) -> bool:
        """Whether the item's votes are hidden from the caller (blind review)."""
        if not item.collecting:
            return False
        workflow = await self.loaders.workflow.load(item.workflow_id)
        blind = workflow is not None and workflow.policy.blind_review
        return item.hides_votes_from(self.viewer, blind)

    async def blind_to(self, workflow_id: str) -> str | None:
        """The caller's id when blind review hides unearned votes in this workflow from
        them (not from admins); None otherwise."""
        if self.viewer.role is Role.ADMIN:
            return None
        workflow = await self.loaders.workflow.load(workflow_id)
        return self.viewer.id if workflow is not None and workflow.policy.blind_review else None

    async def sees_decision(self, decision: Decision) -> bool:
        """A decision the caller may read: its item is theirs to see, and it is not a vote
        blind review hides from them."""
        if not await self.sees(decision.tier, decision.workflow_id):
            return False
        if not decision.vote:
            return True
        item = await self.loaders.recommendation.load(decision.recommendation_id)
        return item is not None and not await self.hides_votes_on(item)

    async def sees(self, tier: Tier, workflow_id: str) -> bool:
        """Whether an item (or a decision) in this tier and workflow is the caller's to see."""
        return tier in await self.tiers_in(workflow_id)

    async def reads(self) -> Reads:
        """The request's read session, opened on first use and closed with the request."""
        if self._session is not None and await self._invalidated(self._session):
            # An operation of this WebSocket cancelled during a read (a subscription the
            # page stopped) leaves the shared connection invalidated: every later read of
            # the other operations would fail, a new subscription at its first statement.
            await self.close()
        if self._session is None:
            self._session = self.services.request_session()
        return Reads(self._session, self._lock, on_users=self._prime_users)

    async def _invalidated(self, session: AsyncSession) -> bool:
        """Whether the session's transaction holds a connection that was invalidated
        (asked under the lock: another operation may be using the session)."""
        async with self._lock:
            if session is not self._session or not session.in_transaction():
                return False
            try:
                connection = await session.connection()
            except PendingRollbackError:
                return True
            return connection.invalidated

    def _prime_users(self, users: dict[str, User]) -> None:
        """Users read along with other rows need no statement of their own."""
        self.loaders.user.prime_many(users)

    async def release(self) -> None:
        """Give the read connection back and forget what was loaded (a subscription does
        this between events, so that an idle subscriber holds no connection)."""
        self._loaders = None
        self._hidden = None
        self.now = utcnow()
        await self.close()

    async def close(self) -> None:
        # Taken before waiting for the lock: the operations of one WebSocket share this
        # context, and another may close it meanwhile.
        session, self._session = self._session, None
        if session is not None:
            async with self._lock:
                await session.close()

    async def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, User, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run a use case as the caller, in its own unit of work.

        Afterwards the request forgets what it read before, so that the answer
        shows the state the mutation left (a later snapshot, fresh loaders).
        """
        try:
            return await self.services.run(use_case, self.viewer, *args, **kwargs)
        finally:
            self._loaders = None
            self._hidden = None
            session = self._session
            if session is not None:
                async with self._lock:
                    await session.rollback()

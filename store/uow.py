"""The unit of work: one session, one transaction, one commit per use case."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.drafts import SqlOutcomes
from store.drift import SqlDriftAlarms
from store.jobs import SqlJobs
from store.models import SqlModels
from store.people import SqlAdminActions, SqlUsers
from store.repositories import (
    SealNow,
    SqlConfirmationGrants,
    SqlDecisions,
    SqlEvents,
    SqlOverrides,
    SqlRecommendations,
    SqlWorkflows,
)
from store.teams import SqlTeams
from store.trusted_documents import SqlTrustedDocuments
from store.webhooks import SqlWebhooks


class SqlUnitOfWork:
    """Async context manager; leaving it without commit() rolls everything back."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        *,
        skip_locked: bool,
        seal_now: SealNow | None = None,
    ) -> None:
        """`seal_now`: decisions may be sealed in this transaction (see SqlDecisions)."""
        self._sessions = sessions
        self._skip_locked = skip_locked
        self._seal_now = seal_now
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._sessions()
        self.session = session
        self.users = SqlUsers(session)
        self.teams = SqlTeams(session)
        self.admin_actions = SqlAdminActions(session)
        self.workflows = SqlWorkflows(session)
        self.recommendations = SqlRecommendations(session, skip_locked=self._skip_locked)
        self.decisions = SqlDecisions(session, self._seal_now)
        self.overrides = SqlOverrides(session)
        self.confirmation_grants = SqlConfirmationGrants(session)
        self.jobs = SqlJobs(session)
        self.models = SqlModels(session)
        self.events = SqlEvents(session)
        self.webhooks = SqlWebhooks(session)
        self.outcomes = SqlOutcomes(session)
        self.trusted_documents = SqlTrustedDocuments(session)
        self.drift_alarms = SqlDriftAlarms(session)
        self.committed = False
        self.after_commit_done = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()
        self.committed = True

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()

"""Data for the benchmarks, written through Arbiter's own use cases (in this process)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.clock import utcnow
from domain.enums import ReviewerRole, Role, WorkflowKind
from domain.usecases.accounts import create_user
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from store.database import connect
from workers.runtime import Runtime

ANALYST_CONFIDENCE = 0.8  # the default ladder sends this to the analyst queue


def payload(n: int) -> dict[str, Any]:
    """A small, realistic application payload."""
    return {
        "amount": 1000 + n % 5000,
        "age": 20 + n % 50,
        "sector": ("retail", "healthcare", "energy")[n % 3],
        "country": ("DE", "FR", "NL", "US")[n % 4],
        "verified": n % 7 != 0,
    }


def proposal(n: int) -> ProposalInput:
    return ProposalInput(
        payload=payload(n), proposed_action="APPROVE_LOAN", confidence=ANALYST_CONFIDENCE
    )


class Seeder:
    """Users, a workflow and items in a benchmark's scratch database."""

    def __init__(self, database_url: str) -> None:
        self.database = connect(database_url)
        self.runtime = Runtime(self.database)
        self.admin: Any = None

    async def __aenter__(self) -> Seeder:
        self.admin, _ = await self.runtime.run(create_user, None, "bench-admin", Role.ADMIN)
        return self

    async def __aexit__(self, *_: Any) -> None:
        # The seeding's events are published here, as a running server would have done,
        # not left to the relay of the first server measured (it published them during
        # its measured run: tens of thousands of events on one side only).
        await self.runtime.publisher.relay_once(utcnow() + timedelta(hours=1))
        # And the database is vacuumed and analysed now, as one that had grown to this
        # size over time would be: otherwise autovacuum and autoanalyze of the tens of
        # thousands of seeded rows start within the minute, during the measured rounds,
        # on the two cores the servers measured run on (whichever server's rounds they hit).
        async with self.database.write_engine.connect() as connection:
            if self.database.is_sqlite:
                await connection.exec_driver_sql("ANALYZE")
            else:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.exec_driver_sql("VACUUM ANALYZE")
        await self.database.dispose()

    async def users(self, role: Role, count: int, prefix: str) -> list[str]:
        tokens = []
        for n in range(count):
            _, token = await self.runtime.run(create_user, None, f"{prefix}-{n}", role)
            tokens.append(token)
        return tokens

    async def workflow(self, key: str) -> str:
        spec = WorkflowSpec(
            key=key,
            name=key,
            kind=WorkflowKind.CLASSIFICATION,
            reviewer_role=ReviewerRole.EXPERT,
            actions=["APPROVE_LOAN", "DECLINE_LOAN"],
        )
        workflow = await self.runtime.run(create_workflow, self.admin, spec)
        return str(workflow.id)

    async def reviewed(self, key: str, count: int, reviewers: int = 5) -> None:
        """`count` items in workflow `key`: a third approved, a third claimed, a third
        pending, each approval and claim by one of `reviewers` analysts."""
        from datetime import timedelta

        from domain.enums import Verdict
        from domain.usecases.decide import DecisionRequest, decide
        from domain.usecases.review import claim

        ids = await self.items(key, count)
        people = []
        for n in range(reviewers):
            user, _ = await self.runtime.run(create_user, None, f"{key}-analyst-{n}", Role.ANALYST)
            people.append(user)
        for n, rec_id in enumerate(ids):
            actor = people[n % reviewers]
            if n % 3 == 0:
                request = DecisionRequest(rec_id, Verdict.APPROVE)
                await self.runtime.run(decide, actor, request, timedelta(minutes=5))
            elif n % 3 == 1:
                await self.runtime.run(claim, actor, rec_id, timedelta(hours=8))

    async def items(self, key: str, count: int, batch: int = 500) -> list[str]:
        """`count` PENDING items in the analyst queue of workflow `key`; their ids."""
        ids: list[str] = []
        for start in range(0, count, batch):
            proposals = [proposal(n) for n in range(start, min(count, start + batch))]
            submitted = await self.runtime.run(
                submit_recommendations, self.admin, key, proposals, lambda: 1.0
            )
            ids.extend(r.id for r in submitted.recommendations)
        return ids

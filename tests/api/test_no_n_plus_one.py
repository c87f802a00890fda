"""Nested fields go through per-request DataLoaders: a bigger page costs no more statements."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.base import OptionEngine

from tests.conftest import settle
from tests.factories import create_user, create_workflow, proposal, submit

PAGE = """
query($wf: String!, $first: Int!) {
  queue(workflow: $wf, first: $first, statuses: [PENDING, CLAIMED, APPROVED]) {
    totalCount
    edges { node {
      id status
      workflow { key policy { version changedBy { name } } queueCounts { count } }
      claim { reviewer { name } }
      decisions { verdict actor { name } recommendation { id } }
    } }
  }
}
"""


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
COUNTING: ContextVar[bool] = ContextVar("counting", default=False)


class StatementCounter:
    """Counts the statements of the request in this task only, not of background tasks."""

    def __init__(self, engines: list[Any]) -> None:
        self.count = 0
        # One listener per pool: an engine made by execution_options (PostgreSQL's reads)
        # shares its parent's pool and fires the parent's listeners too.
        by_pool: dict[int, Any] = {}
        for engine in sorted(engines, key=lambda e: isinstance(e.sync_engine, OptionEngine)):
            by_pool.setdefault(id(engine.sync_engine.pool), engine.sync_engine)
        self.engines = by_pool.values()

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Transaction control is not counted: SQLite's BEGIN passes through this hook,
        # PostgreSQL's (sent by the driver) does not.
        if COUNTING.get() and statement.split(" ", 1)[0] not in TRANSACTION_CONTROL:
            self.count += 1

    def __enter__(self) -> StatementCounter:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._count)
        self._token = COUNTING.set(True)
        return self

    def __exit__(self, *_: Any) -> None:
        COUNTING.reset(self._token)
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._count)


async def test_a_queue_page_of_100_items_costs_four_statements_as_one_of_25_does(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    workflow = await create_workflow(gql, admin)
    items = [proposal(0.8 if n % 2 else 0.95, externalId=f"x{n}") for n in range(100)]
    result = await submit(gql, admin, workflow["key"], *items)
    assert result["__typename"] == "SubmitSuccess"
    for _ in range(3):  # a few live leases, so that claim.reviewer resolves too
        claimed = await gql(
            "mutation($wf: String!) { claimNext(workflow: $wf) { __typename } }",
            {"wf": workflow["key"]},
            token=admin,
        )
        assert claimed["claimNext"]["__typename"] == "ClaimSuccess"

    await settle(services)  # background publishing must not count against the query
    # The token cache re-reads its refusal mark twice a second; on a slow machine that
    # read (and the look-up after it) would land in one page's count and not the other's.
    services.token_cache.recheck_seconds = 3600
    database = services.database
    engines = [database.read_engine, database.write_engine]
    counts = {}
    for first in (25, 100):  # both pages hold pending, claimed and approved items
        with StatementCounter(engines) as counter:
            data = await gql(PAGE, {"wf": workflow["key"], "first": first}, token=admin)
        assert len(data["queue"]["edges"]) == first
        assert data["queue"]["totalCount"] == 100
        counts[first] = counter.count
    # the workflow with its policy and its author; the page with its count and its
    # claims' reviewers; the decisions with their actors; the queue counts. The
    # caller's token is known from the requests before (see TokenCache).
    assert counts == {25: 4, 100: 4}, counts


async def test_a_page_past_the_end_still_reports_the_total(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    await submit(gql, admin, workflow["key"], proposal(0.8), proposal(0.8))
    query = """query($wf: String!, $after: String) {
      queue(workflow: $wf, first: 2, after: $after) {
        totalCount pageInfo { endCursor hasNextPage } edges { node { id } } } }"""
    first = await gql(query, {"wf": workflow["key"]}, token=admin)
    assert first["queue"]["totalCount"] == 2
    assert first["queue"]["pageInfo"]["hasNextPage"] is False
    after = first["queue"]["pageInfo"]["endCursor"]
    rest = await gql(query, {"wf": workflow["key"], "after": after}, token=admin)
    assert rest["queue"]["edges"] == []
    assert rest["queue"]["totalCount"] == 2

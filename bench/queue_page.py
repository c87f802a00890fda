"""Benchmark 4, a queue page of 100 items with nested fields: statements and latency.

Statements: the page is run in this process against a seeded database with
pages of 10, 50 and 100 items, counting the SQL statements it sends (as
tests/api/test_no_n_plus_one.py does; BEGIN/COMMIT not counted, the caller's
token already known). Target: constant, <= 5.

Latency: `arbiter serve` answers the page of 100 over `--connections` keep-alive
connections (wrk, one thread), against a bare endpoint (bench/baselines/queue_page.py)
that runs the same five statements and builds the same JSON by hand. Rounds
alternate; medians.

    .venv/bin/python bench/queue_page.py [--backend sqlite|postgresql|all]
        [--rounds 3] [--seconds 8] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.seed import Seeder
from bench.wrk import post_script
from domain.enums import Role

TARGET_STATEMENTS = 5
WORKFLOW = "queue"
PAGE = """query($wf: String!, $first: Int!) {
  queue(workflow: $wf, first: $first, statuses: [PENDING, CLAIMED, APPROVED]) {
    totalCount
    edges { node {
      id status confidence payload createdAt
      workflow { key policy { version changedBy { name } } queueCounts { count } }
      claim { reviewer { name } }
      decisions { verdict actor { name } recommendation { id } }
    } }
  }
}"""


def script(token: str, first: int) -> str:
    body = json.dumps({"query": PAGE, "variables": {"wf": WORKFLOW, "first": first}})
    return post_script(token, body, '"totalCount"')


async def count_statements(url: str, token: str) -> dict[int, int]:
    """Statements per page size, through the app in this process."""
    import httpx

    from api.app import create_app
    from api.settings import Settings
    from tests.api.test_no_n_plus_one import StatementCounter

    app = create_app(Settings(database_url=url, graphiql=False))
    counts: dict[int, int] = {}
    async with app.router.lifespan_context(app):
        services = app.state.services
        engines = [services.database.read_engine, services.database.write_engine]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {"Authorization": f"Bearer {token}"}
            for first in (10, 50, 100):
                variables = {"wf": WORKFLOW, "first": first}
                body = {"query": PAGE, "variables": variables}
                await http.post("/graphql", json=body, headers=headers)  # token now known
                with StatementCounter(engines) as counter:
                    answer = (await http.post("/graphql", json=body, headers=headers)).json()
                assert len(answer["data"]["queue"]["edges"]) == first, answer
                counts[first] = counter.count
    return counts


async def measure(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with harness.scratch_database(backend) as url:
        async with Seeder(url) as seeder:
            (token,) = await seeder.users(Role.ADMIN, 1, "reader")
            await seeder.workflow(WORKFLOW)
            await seeder.reviewed(WORKFLOW, 300)
        statements = await count_statements(url, token)

        load = harness.steady(script(token, 100), args.connections, args.seconds)
        runs = harness.against_bare(args.rounds, url, "queue_page", load)
    ours = harness.median_of([r.per_second for r in runs["arbiter"]])
    bare = harness.median_of([r.per_second for r in runs["bare"]])
    row = {
        "backend": backend,
        "statements_by_page_size": statements,
        "statements": max(statements.values()),
        "constant": len(set(statements.values())) == 1,
        "target_statements": TARGET_STATEMENTS,
        "met": len(set(statements.values())) == 1 and max(statements.values()) <= TARGET_STATEMENTS,
        "arbiter_pages_per_s": ours,
        "bare_pages_per_s": bare,
        "ratio": ours / bare,
        **harness.latency_medians(runs["arbiter"], "arbiter"),
        **harness.latency_medians(runs["bare"], "bare"),
    }
    return [row]


COLUMNS = "backend statements constant arbiter_p50_ms arbiter_p99_ms bare_p50_ms ratio met"
TARGET_TEXT = f"statements constant as the page grows, <= {TARGET_STATEMENTS}"


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "query": PAGE,
        "first": 100,
        **harness.options(args, "connections", "seconds", "rounds"),
    }


if __name__ == "__main__":
    harness.main(__doc__, "queue_page", measure, COLUMNS, TARGET_TEXT, settings, connections=4)

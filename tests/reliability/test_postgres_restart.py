"""PostgreSQL restarted under a running `arbiter serve` (a private server, never 5432).

While it is down, requests fail with a clear, retryable error: HTTP 503 with
{"errors": [{"message": "The database is unavailable; try again shortly.",
"extensions": {"code": "DATABASE_UNAVAILABLE"}}]}, whether the failure comes
while authenticating or inside a resolver, and /readyz answers 503. Once it is
back, requests succeed again without restarting Arbiter.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from api.cli import migrate
from api.unavailable import CODE, MESSAGE
from domain.enums import Role
from store.database import connect
from tests.factories import create_user
from tests.reliability.cluster import (
    APPROVE,
    CLAIM_NEXT,
    CREATE_WORKFLOW,
    SUBMIT,
    arbiter_command,
    arbiter_process,
    call,
)
from tests.reliability.private_pg import private_postgres
from workers.runtime import Runtime

RECOMMENDATION = "query($id: ID!) { recommendation(id: $id) { id status } }"


async def _post(http: httpx.AsyncClient, url: str, token: str, query: str, variables: dict):
    return await http.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    body = response.json()
    assert body.get("data") is None, body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(MESSAGE, CODE)], (
        body
    )


async def test_requests_fail_clearly_while_postgres_is_down_and_succeed_after(tmp_path: Path):
    with private_postgres() as postgres:
        await asyncio.to_thread(migrate, postgres.url)
        database = connect(postgres.url, pool_size=1, max_overflow=0)
        try:
            runtime = Runtime(database)
            admin = await create_user(runtime, Role.ADMIN, "admin")
            analyst = await create_user(runtime, Role.ANALYST, "analyst")
            # Used for the first time during the outage: its token is in no cache.
            latecomer = await create_user(runtime, Role.ANALYST, "latecomer")
        finally:
            await database.dispose()

        async with (
            arbiter_process("arbiter", postgres.url, tmp_path) as server,
            httpx.AsyncClient(timeout=30, trust_env=False) as http,
        ):
            await call(http, server.graphql, admin, CREATE_WORKFLOW, {"key": "restart"})
            items = [
                {"payload": {"n": n}, "proposedAction": "pay", "confidence": 0.8} for n in range(3)
            ]
            submitted = await call(
                http, server.graphql, admin, SUBMIT, {"wf": "restart", "items": items}
            )
            ids = [r["id"] for r in submitted["submitRecommendations"]["recommendations"]]
            claimed = await call(http, server.graphql, analyst, CLAIM_NEXT, {"wf": "restart"})
            assert claimed["claimNext"]["__typename"] == "ClaimSuccess"
            first = claimed["claimNext"]["recommendation"]["id"]

            postgres.stop("fast")
            down_at = time.monotonic()

            # Inside resolvers: a mutation and a query by a user just seen.
            _assert_unavailable(await _post(http, server.graphql, analyst, APPROVE, {"id": first}))
            _assert_unavailable(
                await _post(http, server.graphql, analyst, RECOMMENDATION, {"id": ids[1]})
            )
            # While authenticating: a token the process has not seen yet.
            _assert_unavailable(
                await _post(http, server.graphql, latecomer, CLAIM_NEXT, {"wf": "restart"})
            )
            ready = await http.get(f"{server.url}/readyz")
            assert ready.status_code == 503, ready.text
            assert server.process.returncode is None
            down_for = time.monotonic() - down_at

            postgres.start()
            up_at = time.monotonic()
            # The same process, no restart: the pool replaces its dead connections.
            deadline = up_at + 30
            while (await http.get(f"{server.url}/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "arbiter did not see PostgreSQL come back"
                await asyncio.sleep(0.1)
            approved = await call(http, server.graphql, analyst, APPROVE, {"id": first})
            recovered_in = time.monotonic() - up_at
            assert approved["approve"]["__typename"] == "DecisionSuccess", approved
            latecomer_claim = await call(
                http, server.graphql, latecomer, CLAIM_NEXT, {"wf": "restart"}
            )
            assert latecomer_claim["claimNext"]["__typename"] == "ClaimSuccess"
            read = await call(http, server.graphql, admin, RECOMMENDATION, {"id": first})
            assert read["recommendation"]["status"] == "APPROVED"
            assert server.process.returncode is None

        verified = arbiter_command(postgres.url, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "ok      restart: 1 records, chain holds" in verified.stdout
        print(
            f"\n[postgres restart] 503s while down for {down_for:.2f}s; "
            f"first success {recovered_in:.2f}s after PostgreSQL accepted connections again"
        )

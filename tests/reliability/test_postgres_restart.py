"""PostgreSQL restarted under a running `arbiter serve` (a private server, never 5432).

While it is down, requests fail with a clear, retryable error: HTTP 503 with
{"errors": [{"message": "The database is unavailable; try again shortly.",
"extensions": {"code": "DATABASE_UNAVAILABLE"}}]}, whether the failure comes
while authenticating or inside a resolver, and /readyz answers 503. Once it is
back, requests succeed again without restarting Arbiter. Reviewers deciding in a
loop all the while get only successes and those 503s (a 503'd approval has an
unknown outcome: it may have committed), and no item is decided twice.

ARBITER_RELIABILITY_PG_OUTAGE_SECONDS (5): how long PostgreSQL stays down.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

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
    env_float,
)
from tests.reliability.private_pg import private_postgres
from workers.runtime import Runtime

OUTAGE = env_float("ARBITER_RELIABILITY_PG_OUTAGE_SECONDS", 5)
RECOMMENDATION = "query($id: ID!) { recommendation(id: $id) { id status } }"


async def _post(http: httpx.AsyncClient, url: str, token: str, query: str, variables: dict):
    return await http.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


async def _decisions(database_url: str, workflow: str) -> dict[str, str]:
    """decision id -> recommendation id, for the workflow."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT d.id, d.recommendation_id FROM decisions d "
                    "JOIN workflows w ON w.id = d.workflow_id WHERE w.key = :key"
                ),
                {"key": workflow},
            )
            return {row.id: row.recommendation_id for row in rows}
    finally:
        await engine.dispose()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    body = response.json()
    assert body.get("data") is None, body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(MESSAGE, CODE)], (
        body
    )


class Traffic:
    """Reviewers deciding in a loop through the restart; every answer must be a success or
    the 503 above, never a 500, a masked error or a dropped connection."""

    def __init__(self, url: str, workflow: str, tokens: list[str]) -> None:
        self.url, self.workflow, self.tokens = url, workflow, tokens
        self.ok = 0
        self.unavailable = 0
        self.other: list[str] = []
        self.acked: dict[str, str] = {}  # decision id -> recommendation id
        self.unknown: set[str] = set()  # approvals answered 503: outcome unknown
        self.stop = asyncio.Event()

    async def _one(self, http: httpx.AsyncClient, token: str, query: str, variables: dict):
        response = await _post(http, self.url, token, query, variables)
        if response.status_code == 503:
            try:
                _assert_unavailable(response)
            except AssertionError as error:
                self.other.append(str(error))
            self.unavailable += 1
            return None
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            self.other.append(f"{response.status_code}: {response.text[:300]}")
            return None
        self.ok += 1
        return body["data"]

    async def reviewer(self, http: httpx.AsyncClient, token: str) -> None:
        while not self.stop.is_set():
            data = await self._one(http, token, CLAIM_NEXT, {"wf": self.workflow})
            if data is None or data["claimNext"]["__typename"] != "ClaimSuccess":
                await asyncio.sleep(0.05)
                continue
            rec_id = data["claimNext"]["recommendation"]["id"]
            data = await self._one(http, token, APPROVE, {"id": rec_id})
            if data is None:
                self.unknown.add(rec_id)
            elif data["approve"]["__typename"] == "DecisionSuccess":
                self.acked[data["approve"]["decision"]["id"]] = rec_id
            await asyncio.sleep(0.02)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
            await asyncio.gather(*(self.reviewer(http, token) for token in self.tokens))


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
            busy = [await create_user(runtime, Role.ANALYST, f"busy-{n}") for n in range(4)]
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
            await call(http, server.graphql, admin, CREATE_WORKFLOW, {"key": "busy"})
            for start in range(0, 1000, 500):
                batch = [
                    {"payload": {"n": n}, "proposedAction": "pay", "confidence": 0.8}
                    for n in range(start, start + 500)
                ]
                await call(http, server.graphql, admin, SUBMIT, {"wf": "busy", "items": batch})
            traffic = Traffic(server.graphql, "busy", busy)
            traffic_task = asyncio.create_task(traffic.run())
            while len(traffic.acked) < 20:
                await asyncio.sleep(0.05)

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
            # Down a while longer, with the traffic running into it.
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
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
            acked_before = len(traffic.acked)
            while len(traffic.acked) < acked_before + 20:
                assert not traffic_task.done(), traffic_task
                await asyncio.sleep(0.05)
            traffic.stop.set()
            await asyncio.wait_for(traffic_task, 60)
            assert server.process.returncode is None

        assert not traffic.other, traffic.other[:5]
        assert traffic.unavailable > 0  # the traffic did meet the outage
        decisions = await _decisions(postgres.url, "busy")
        per_item = Counter(decisions.values())
        assert set(per_item.values()) == {1}, "an item was decided twice"
        assert set(traffic.acked) <= set(decisions)
        assert all(decisions[d] == rec for d, rec in traffic.acked.items())
        without_ack = set(decisions.values()) - set(traffic.acked.values())
        assert without_ack <= traffic.unknown  # only where the answer was a 503

        verified = arbiter_command(postgres.url, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "ok      restart: 1 records, chain holds" in verified.stdout
        assert f"ok      busy: {len(decisions)} records, chain holds" in verified.stdout
        print(
            f"\n[postgres restart] down for {down_for:.1f}s; "
            f"first success {recovered_in:.2f}s after PostgreSQL accepted connections again; "
            f"background traffic: {traffic.ok} answers 200, {traffic.unavailable} answered 503, "
            f"none other; {len(decisions)} decisions, {len(without_ack)} of them answered 503"
        )

"""The pieces the load and fault tests share.

- ArbiterProcess: `arbiter serve` as a child process (so that it can be SIGKILLed),
  its stderr kept in a file for the failure message.
- Load: reviewers racing through a workflow's queue over HTTP, each acknowledged
  decision written down in a Ledger.
- check_log: what the database must say afterwards, against the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from domain.enums import Role
from tests.conftest import session_log_key
from tests.factories import create_user
from tests.live.conftest import ServerAddress, free_port

ROOT = Path(__file__).resolve().parents[2]
ARBITER = str(Path(sys.executable).with_name("arbiter"))
DECIDED = ("APPROVED", "REJECTED")

# Connection errors: the request's outcome is unknown (it may have been committed).
TRANSPORT_ERRORS = (httpx.TransportError,)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# ------------------------------------------------------------------ processes


@dataclass
class ArbiterProcess(ServerAddress):
    name: str
    url: str
    process: asyncio.subprocess.Process
    log: Path

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye to the database or to clients."""
        self.process.send_signal(signal.SIGKILL)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextlib.asynccontextmanager
async def arbiter_process(
    name: str, database_url: str, log_dir: Path, *serve_args: str, **settings: Any
) -> AsyncIterator[ArbiterProcess]:
    """`arbiter serve` on a free port, with `serve_args` after it and ARBITER_<NAME>=value
    for each setting."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARBITER_")}
    env |= {
        "ARBITER_DATABASE_URL": database_url,
        "ARBITER_LOG_SIGNING_KEY_FILE": str(session_log_key()),
        "ARBITER_DB_POOL_SIZE": "8",
        "ARBITER_DB_MAX_OVERFLOW": "8",
        "ARBITER_GRAPHIQL": "false",
    }
    env |= {f"ARBITER_{key.upper()}": str(value) for key, value in settings.items()}
    log = log_dir / f"{name}.stderr"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            ARBITER,
            "serve",
            "--port",
            str(port),
            *serve_args,
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    server = ArbiterProcess(name, f"http://127.0.0.1:{port}", process, log)
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{server.url}/readyz")).status_code == 200:
                        break
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready:\n{server.stderr()}")
                await asyncio.sleep(0.1)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


def arbiter_command(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run an `arbiter` subcommand against `database_url`, e.g. ("audit", "verify")."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARBITER_")}
    env["ARBITER_DATABASE_URL"] = database_url
    env["ARBITER_LOG_SIGNING_KEY_FILE"] = str(session_log_key())
    return subprocess.run(
        [ARBITER, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


# ------------------------------------------------------------------ GraphQL

CREATE_WORKFLOW = """mutation($key: String!) {
  createWorkflow(input: {key: $key, name: $key, kind: CLASSIFICATION, reviewerRole: VERIFIER,
                         actions: ["pay", "hold"]}) { __typename }
}"""

SUBMIT = """mutation($wf: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $wf, items: $items) {
    __typename ... on SubmitSuccess { created recommendations { id tier status } }
    ... on Problem { message }
  }
}"""

CLAIM_NEXT = """mutation($wf: String!) {
  claimNext(workflow: $wf) {
    __typename ... on ClaimSuccess { recommendation { id } claim { expiresAt } }
    ... on Problem { message }
  }
}"""

DECISION_FIELDS = """__typename
    ... on DecisionSuccess { decision { id verdict } recommendation { id status } }
    ... on Problem { message }"""

APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {DECISION_FIELDS} }} }}"
REJECT = f'mutation($id: ID!) {{ reject(id: $id, reason: "not this one") {{ {DECISION_FIELDS} }} }}'


class GraphQLFailure(AssertionError):
    """An HTTP error status or top-level GraphQL errors: never expected under load."""


async def call(
    http: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise GraphQLFailure(f"HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    if body.get("errors"):
        raise GraphQLFailure(f"errors: {body['errors']}")
    return dict(body["data"])


def http_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=10.0),
        # Idle connections are dropped by the client before uvicorn's 5 s keep-alive
        # timeout closes them, so that a request never races a closing connection.
        limits=httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2
        ),
        trust_env=False,
    )


# ------------------------------------------------------------------ set-up


@dataclass
class Fixture:
    """A workflow with `items` queued for ANALYST review, an admin and reviewers."""

    workflow: str
    admin: str
    reviewers: list[str]
    item_ids: list[str]


async def prepare(
    database_url: str, server: ArbiterProcess, workflow: str, items: int, reviewers: int
) -> Fixture:
    from store.database import connect
    from workers.runtime import Runtime

    database = connect(database_url, pool_size=2, max_overflow=0)
    try:
        runtime = Runtime(database)
        admin = await create_user(runtime, Role.ADMIN, f"{workflow}-admin")
        tokens = [
            await create_user(runtime, Role.ANALYST, f"{workflow}-analyst-{n}")
            for n in range(reviewers)
        ]
    finally:
        await database.dispose()
    ids: list[str] = []
    async with http_client(4) as http:
        created = await call(http, server.graphql, admin, CREATE_WORKFLOW, {"key": workflow})
        assert created["createWorkflow"]["__typename"] == "WorkflowSuccess", created
        for start in range(0, items, 500):
            batch = [
                {
                    "payload": {"n": n, "amount": 100 + n},
                    "proposedAction": "pay",
                    "confidence": 0.8,  # 0.70-0.89: the analyst queue
                    "externalId": f"{workflow}-{n}",
                }
                for n in range(start, min(items, start + 500))
            ]
            data = await call(http, server.graphql, admin, SUBMIT, {"wf": workflow, "items": batch})
            result = data["submitRecommendations"]
            assert result["__typename"] == "SubmitSuccess", result
            assert {(r["tier"], r["status"]) for r in result["recommendations"]} == {
                ("ANALYST_REVIEW", "PENDING")
            }
            ids += [r["id"] for r in result["recommendations"]]
    assert len(set(ids)) == items
    return Fixture(workflow, admin, tokens, ids)


# ------------------------------------------------------------------ the load


@dataclass
class Ledger:
    """What the reviewers were told."""

    acked: dict[str, tuple[str, str]] = field(default_factory=dict)
    """decision id -> (recommendation id, verdict), from every DecisionSuccess."""
    acked_times: list[float] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    """Items whose decide request got no answer (the server died): outcome unknown."""
    outcomes: Counter[str] = field(default_factory=Counter)
    failovers: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)
    duplicate_acks: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def record(self, op: str, data: dict[str, Any], rec_id: str) -> None:
        typename = data["__typename"]
        self.outcomes[f"{op}:{typename}"] += 1
        if typename == "DecisionSuccess":
            decision_id = data["decision"]["id"]
            if decision_id in self.acked or data["recommendation"]["id"] != rec_id:
                self.duplicate_acks.append(decision_id)
            self.acked[decision_id] = (rec_id, data["decision"]["verdict"])
            self.acked_times.append(time.monotonic())
        elif typename != "Conflict":
            self.unexpected.append(f"{op} {rec_id}: {data}")

    def acked_items(self) -> Counter[str]:
        return Counter(rec for rec, _ in self.acked.values())


@dataclass
class Monitor:
    """Polls the database while the load runs: what is left, and overdue leases."""

    database_url: str
    workflow: str
    outstanding: int | None = None
    max_overdue_lease_seconds: float = 0.0
    """The longest any item was seen still CLAIMED after its lease ran out."""
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, every: float = 0.5) -> None:
        engine = create_async_engine(self.database_url, pool_size=1, max_overflow=0)
        try:
            while True:
                await self.sample(engine)
                if self.outstanding == 0:
                    self.done.set()
                await asyncio.sleep(every)
        finally:
            await engine.dispose()

    async def sample(self, engine: Any) -> None:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.text(
                        """SELECT
                             count(*) FILTER (WHERE r.status NOT IN ('APPROVED', 'REJECTED')),
                             max(extract(epoch FROM now() - r.claim_expires_at))
                               FILTER (WHERE r.status = 'CLAIMED' AND r.claim_expires_at < now())
                           FROM recommendations r JOIN workflows w ON w.id = r.workflow_id
                           WHERE w.key = :key"""
                    ),
                    {"key": self.workflow},
                )
            ).one()
        self.outstanding = int(row[0])
        overdue = float(row[1] or 0.0)
        if overdue > self.max_overdue_lease_seconds:
            self.max_overdue_lease_seconds = overdue


@dataclass
class Load:
    """Reviewers over HTTP: most loop claimNext -> approve/reject; racer pairs approve the
    same ids at the same instant through different processes, without claiming."""

    fixture: Fixture
    servers: list[ArbiterProcess]
    monitor: Monitor
    ledger: Ledger = field(default_factory=Ledger)
    racer_pairs: int = 2
    pace_seconds: float = 0.0
    """Each reviewer's time per decision, on average, including the requests (to stretch
    the load over an outage); 0 for as fast as the servers go."""
    dead: set[str] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _monitor_task: asyncio.Task[None] | None = None

    def _live(self, preferred: int) -> ArbiterProcess:
        for offset in range(len(self.servers)):
            server = self.servers[(preferred + offset) % len(self.servers)]
            if server.name not in self.dead:
                return server
        raise AssertionError("no live server left")

    def _finished(self) -> bool:
        watcher = self._monitor_task
        if watcher is not None and watcher.done() and not watcher.cancelled():
            raise AssertionError("the monitor stopped") from watcher.exception()
        return self.stop.is_set() or self.monitor.done.is_set()

    async def _request(
        self,
        http: httpx.AsyncClient,
        home: int,
        token: str,
        query: str,
        variables: dict[str, Any],
    ) -> tuple[dict[str, Any] | None, str]:
        """Send to the reviewer's server; on a connection error its outcome is unknown, and
        the server is treated as gone (failover: the next request goes to another)."""
        server = self._live(home)
        try:
            return await call(http, server.graphql, token, query, variables), server.name
        except TRANSPORT_ERRORS as error:
            self.ledger.transport_errors[f"{server.name}:{type(error).__name__}"] += 1
            if server.process.returncode is not None or server.name in self.dead:
                self.dead.add(server.name)
                self.ledger.failovers += 1
                return None, server.name
            raise AssertionError(
                f"{type(error).__name__} from {server.name}, which is alive "
                f"(dead: {sorted(self.dead)}):\n{server.stderr()[-1500:]}"
            ) from error

    async def _pace(self, cycle_started: float, factor: float = 1.0) -> None:
        if self.pace_seconds:
            rest = self.pace_seconds * factor - (time.monotonic() - cycle_started)
            if rest > 0:
                await asyncio.sleep(rest)

    @staticmethod
    def _verdict(rec_id: str) -> str:
        return "APPROVE" if hashlib.sha256(rec_id.encode()).digest()[0] % 4 else "REJECT"

    async def reviewer(self, http: httpx.AsyncClient, index: int, token: str) -> None:
        wf = self.fixture.workflow
        while not self._finished():
            cycle = time.monotonic()
            data, _ = await self._request(http, index, token, CLAIM_NEXT, {"wf": wf})
            if data is None:
                continue  # the claim, if it happened, lapses with its lease
            claimed = data["claimNext"]
            self.ledger.outcomes[f"claimNext:{claimed['__typename']}"] += 1
            if claimed["__typename"] != "ClaimSuccess":
                if claimed["__typename"] not in ("QueueEmpty", "Conflict"):
                    self.ledger.unexpected.append(f"claimNext: {claimed}")
                await asyncio.sleep(0.2)  # others hold the rest, or leases must lapse
                continue
            rec_id = claimed["recommendation"]["id"]
            verdict = self._verdict(rec_id)
            query = APPROVE if verdict == "APPROVE" else REJECT
            data, _ = await self._request(http, index, token, query, {"id": rec_id})
            if data is None:
                self.ledger.unknown.add(rec_id)
                continue
            self.ledger.record(
                verdict.lower(), data["approve" if verdict == "APPROVE" else "reject"], rec_id
            )
            await self._pace(cycle, random.uniform(0.5, 1.5))

    async def racer_pair(
        self, http: httpx.AsyncClient, pair: int, tokens: Sequence[str], ids: Sequence[str]
    ) -> None:
        """Two reviewers approve each id at the same moment, one through each process."""
        for rec_id in ids:
            if self._finished():
                return
            cycle = time.monotonic()

            async def one(side: int, rec_id: str = rec_id) -> None:
                data, _ = await self._request(
                    http, pair + side, tokens[side], APPROVE, {"id": rec_id}
                )
                if data is None:
                    self.ledger.unknown.add(rec_id)
                else:
                    self.ledger.record("race", data["approve"], rec_id)

            await asyncio.gather(one(0), one(1))
            await self._pace(cycle)

    async def run(self, timeout: float) -> float:
        """Until every item is decided; returns the seconds it took."""
        tokens = self.fixture.reviewers
        self.racer_pairs = min(self.racer_pairs, len(tokens) // 5)  # most reviewers claim
        racers = 2 * self.racer_pairs
        claimers, racing = tokens[racers:], tokens[:racers]
        ids = list(reversed(self.fixture.item_ids))  # racers meet claimers in the middle
        monitor = self._monitor_task = asyncio.create_task(self.monitor.run())
        started = time.monotonic()
        try:
            async with http_client(len(tokens) + 10) as http:
                tasks = [
                    asyncio.create_task(self.reviewer(http, n, token))
                    for n, token in enumerate(claimers)
                ]
                tasks += [
                    asyncio.create_task(
                        self.racer_pair(http, p, racing[2 * p : 2 * p + 2], ids[p::2])
                    )
                    for p in range(self.racer_pairs)
                ]
                try:
                    await asyncio.wait_for(asyncio.gather(*tasks), timeout)
                finally:
                    self.stop.set()
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        return time.monotonic() - started


# ------------------------------------------------------------------ the log


@dataclass
class LogCheck:
    decided: int
    human_decisions: int
    decided_without_ack: set[str]
    chain_output: str


async def check_log(database_url: str, fixture: Fixture, ledger: Ledger) -> LogCheck:
    """The database against the ledger; raises AssertionError with what is wrong."""
    assert not ledger.unexpected, ledger.unexpected[:10]
    assert not ledger.duplicate_acks, f"acknowledged twice: {ledger.duplicate_acks[:10]}"
    acked_items = ledger.acked_items()
    doubled = {rec: n for rec, n in acked_items.items() if n > 1}
    assert not doubled, f"items acknowledged as decided more than once: {doubled}"

    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            statuses = dict(
                (
                    await connection.execute(
                        sa.text(
                            "SELECT r.id, r.status FROM recommendations r "
                            "JOIN workflows w ON w.id = r.workflow_id WHERE w.key = :key"
                        ),
                        {"key": fixture.workflow},
                    )
                ).all()
            )
            # A decision committed by a process killed before it was sealed waits in
            # decisions_pending until the next sealing of its workflow (or the sweep):
            # it is logged all the same, and must be counted.
            decisions = (
                await connection.execute(
                    sa.text(
                        "SELECT d.id, d.recommendation_id, d.verdict, d.automated, true AS sealed "
                        "FROM decisions d JOIN workflows w ON w.id = d.workflow_id "
                        "WHERE w.key = :key "
                        "UNION ALL SELECT p.decision_id, p.recommendation_id, p.verdict, "
                        "false, false "
                        "FROM decisions_pending p JOIN workflows w ON w.id = p.workflow_id "
                        "WHERE w.key = :key"
                    ),
                    {"key": fixture.workflow},
                )
            ).all()
    finally:
        await engine.dispose()

    assert set(statuses) == set(fixture.item_ids)
    undecided = {rec: s for rec, s in statuses.items() if s not in DECIDED}
    assert not undecided, f"{len(undecided)} items not decided, e.g. {list(undecided.items())[:5]}"
    assert not [d for d in decisions if d.automated], "no item here is decided by the ladder"

    in_log = Counter(d.id for d in decisions)
    per_item = Counter(d.recommendation_id for d in decisions)
    by_id = {d.id: d for d in decisions}
    missing = [dec for dec in ledger.acked if dec not in in_log]
    assert not missing, f"{len(missing)} acknowledged decisions are not in the log: {missing[:5]}"
    assert all(n == 1 for n in in_log.values())
    twice = {rec: n for rec, n in per_item.items() if n != 1}
    assert not twice, f"items with more than one decision: {list(twice.items())[:5]}"
    for dec, (rec, verdict) in ledger.acked.items():
        row = by_id[dec]
        assert (row.recommendation_id, row.verdict) == (rec, verdict), (dec, row)
    expected_status = {"APPROVE": "APPROVED", "REJECT": "REJECTED"}
    wrong = [d.id for d in decisions if statuses[d.recommendation_id] != expected_status[d.verdict]]
    assert not wrong, f"status disagrees with the decision: {wrong[:5]}"

    # Decided but never acknowledged: only where the answer was lost with a killed process.
    without_ack = {d.recommendation_id for d in decisions} - set(acked_items)
    assert without_ack <= ledger.unknown, without_ack - ledger.unknown
    assert len(decisions) == len(ledger.acked) + len(without_ack)

    verified = arbiter_command(database_url, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    sealed = sum(1 for d in decisions if d.sealed)
    expected_line = f"ok      {fixture.workflow}: {sealed} records, chain holds, tree holds"
    assert expected_line in verified.stdout, verified.stdout
    return LogCheck(len(statuses), len(decisions), without_ack, verified.stdout.strip())


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}/s" if seconds > 0 else "n/a"

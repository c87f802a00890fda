"""Reviewers racing over one queue through two `arbiter serve` processes on PostgreSQL.

Every acknowledged decision is in the log exactly once, no item is decided twice,
nothing is decided that was not acknowledged (unless its answer died with a killed
process), and the hash chain verifies (`arbiter audit verify`). Then the same with
one process killed (SIGKILL) partway: its reviewers fail over to the other, and no
item stays CLAIMED past its lease.

Scale: ARBITER_RELIABILITY_ITEMS (2000) items and ARBITER_RELIABILITY_REVIEWERS (50)
reviewers for the load; ARBITER_RELIABILITY_KILL_ITEMS (half the items, 1000) for the
kill, to keep the whole of tests/reliability within about four minutes on two cores.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.reliability.cluster import (
    CLAIM_NEXT,
    Load,
    Monitor,
    arbiter_process,
    call,
    check_log,
    env_int,
    http_client,
    prepare,
    rate,
)

ITEMS = env_int("ARBITER_RELIABILITY_ITEMS", 2000)
KILL_ITEMS = env_int("ARBITER_RELIABILITY_KILL_ITEMS", ITEMS // 2)
REVIEWERS = env_int("ARBITER_RELIABILITY_REVIEWERS", 50)
ABANDONED = 5
LOAD_TIMEOUT = 600.0


def report(name: str, **figures: object) -> None:
    print(f"\n[{name}] " + ", ".join(f"{key}={value}" for key, value in figures.items()))


async def test_racing_reviewers_on_two_processes_decide_each_item_exactly_once(
    fresh_pg: str, tmp_path: Path
):
    async with (
        arbiter_process("one", fresh_pg, tmp_path) as one,
        arbiter_process("two", fresh_pg, tmp_path) as two,
    ):
        fixture = await prepare(fresh_pg, one, "load", ITEMS, REVIEWERS)
        load = Load(fixture, [one, two], Monitor(fresh_pg, "load"))
        seconds = await load.run(LOAD_TIMEOUT)

    ledger = load.ledger
    assert not ledger.transport_errors, ledger.transport_errors  # nobody was killed here
    assert not ledger.unknown
    checked = await check_log(fresh_pg, fixture, ledger)
    assert checked.decided_without_ack == set()
    assert len(ledger.acked) == ITEMS  # every item decided once, each acknowledged
    if load.racer_pairs:
        assert ledger.outcomes["race:DecisionSuccess"] > 0, ledger.outcomes  # racers won some
        assert ledger.outcomes["race:Conflict"] > 0, ledger.outcomes  # and lost some
    # One signed checkpoint per sealing transaction: fewer than decisions means the two
    # processes' concurrent decisions were sealed together (group commit).
    batches = await _checkpoints_of(fresh_pg, fixture.workflow)
    assert 0 < batches < ITEMS, batches
    report(
        "load",
        items=ITEMS,
        reviewers=REVIEWERS,
        seconds=f"{seconds:.1f}",
        decisions=rate(len(ledger.acked), seconds),
        sealing_batches=batches,
        outcomes=dict(ledger.outcomes),
    )


async def _rows_of(database_url: str, sql: str, workflow: str) -> list[Any]:
    """The rows of `sql` (which names the workflow's key as :key), on a connection of its own."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(sa.text(sql), {"key": workflow}))
    finally:
        await engine.dispose()


async def _checkpoints_of(database_url: str, workflow: str) -> int:
    (row,) = await _rows_of(
        database_url,
        "SELECT count(*) FROM log_checkpoints c "
        "JOIN workflows w ON w.id = c.workflow_id WHERE w.key = :key",
        workflow,
    )
    return int(row[0])


async def _claims_of(database_url: str, workflow: str) -> dict[str, tuple[str, Any]]:
    """recommendation id -> (status, claim_expires_at) for the workflow's items."""
    rows = await _rows_of(
        database_url,
        "SELECT r.id, r.status, r.claim_expires_at FROM recommendations r "
        "JOIN workflows w ON w.id = r.workflow_id WHERE w.key = :key",
        workflow,
    )
    return {row.id: (row.status, row.claim_expires_at) for row in rows}


async def test_a_process_killed_mid_load_loses_nothing_acknowledged_and_leases_lapse(
    fresh_pg: str, tmp_path: Path
):
    lease, sweep = 5, 1.0
    settings = {"claim_lease_seconds": lease, "sla_sweep_seconds": sweep}
    async with (
        arbiter_process("victim", fresh_pg, tmp_path, **settings) as victim,
        arbiter_process("survivor", fresh_pg, tmp_path, **settings) as survivor,
    ):
        fixture = await prepare(fresh_pg, survivor, "kill", KILL_ITEMS, REVIEWERS)
        # Items claimed through the victim just before it dies, which no reviewer of the
        # load will take: only the survivor's sweep can free them once their lease lapses.
        left = await prepare(fresh_pg, survivor, "kill-left", ABANDONED, 1)
        monitor = Monitor(fresh_pg, "kill")
        load = Load(fixture, [victim, survivor], monitor)

        expiries: list[datetime] = []
        watchers: list[asyncio.Task[datetime]] = []

        async def kill_partway() -> float:
            while len(load.ledger.acked) < KILL_ITEMS * 0.4:
                await asyncio.sleep(0.02)
            async with http_client(2) as http:
                for _ in range(ABANDONED):
                    claimed = await call(
                        http, victim.graphql, left.reviewers[0], CLAIM_NEXT, {"wf": "kill-left"}
                    )
                    assert claimed["claimNext"]["__typename"] == "ClaimSuccess", claimed
                    expiries.append(
                        datetime.fromisoformat(claimed["claimNext"]["claim"]["expiresAt"])
                    )
            load.dead.add(victim.name)
            victim.kill()
            watchers.append(asyncio.create_task(until_freed()))
            return time.monotonic()

        async def until_freed() -> datetime:
            """When the abandoned claims were all seen freed (PENDING, no claim)."""
            while True:
                claims = await _claims_of(fresh_pg, "kill-left")
                if all(claim == ("PENDING", None) for claim in claims.values()):
                    return datetime.now(UTC)
                assert all(status in ("CLAIMED", "PENDING") for status, _ in claims.values())
                await asyncio.sleep(0.2)

        killer = asyncio.create_task(kill_partway())
        seconds = await load.run(LOAD_TIMEOUT)
        killed_at = await asyncio.wait_for(killer, 1)
        assert await asyncio.wait_for(victim.process.wait(), 10) == -9
        freed_at = await asyncio.wait_for(watchers[0], lease + 60)
        assert freed_at >= max(expiries)  # not before the lease ran out
        freed_after_lease = (freed_at - max(expiries)).total_seconds()

    ledger = load.ledger
    checked = await check_log(fresh_pg, fixture, ledger)
    after_kill = sum(1 for t in ledger.acked_times if t > killed_at)
    assert ledger.failovers > 0, ledger.transport_errors
    assert after_kill > 0
    assert monitor.outstanding == 0
    # During the load, nothing stayed CLAIMED past its lease for longer than the sweep
    # interval plus scheduling slack on a loaded machine (claimNext or the sweep frees it).
    assert monitor.max_overdue_lease_seconds < sweep + 5, monitor.max_overdue_lease_seconds
    report(
        "kill -9",
        items=KILL_ITEMS,
        reviewers=REVIEWERS,
        seconds=f"{seconds:.1f}",
        decisions=rate(len(ledger.acked), seconds),
        acknowledged=len(ledger.acked),
        acknowledged_after_kill=after_kill,
        failed_over_requests=ledger.failovers,
        unknown_outcome=len(ledger.unknown),
        decided_without_ack=len(checked.decided_without_ack),
        max_overdue_lease_seconds=f"{monitor.max_overdue_lease_seconds:.2f}",
        abandoned_claims_freed_after_lease=f"{freed_after_lease:.2f}s",
        transport_errors=dict(ledger.transport_errors),
    )

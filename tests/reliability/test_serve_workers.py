"""`arbiter serve --workers 2`: two processes behind one port share the decision log.
Their concurrent decisions are each told once, sealed in one order, and the log holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.live.conftest import REDIS_URL
from tests.reliability.cluster import (
    APPROVE,
    arbiter_command,
    arbiter_process,
    call,
    http_client,
    prepare,
)

ITEMS = 80


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def test_two_server_processes_on_one_port_decide_every_item_once_into_one_log(
    fresh_pg: str, tmp_path: Path
):
    async with arbiter_process(
        "pair", fresh_pg, tmp_path, "--workers", "2", redis_url=REDIS_URL
    ) as server:
        assert len(children_of(server.process.pid)) >= 2, server.stderr()
        fixture = await prepare(fresh_pg, server, "pair", ITEMS, 10)
        async with http_client(20) as http:
            answers = await asyncio.gather(
                *(
                    call(http, server.graphql, fixture.reviewers[n % 10], APPROVE, {"id": rec_id})
                    for n, rec_id in enumerate(fixture.item_ids)
                )
            )
    assert [a["approve"]["__typename"] for a in answers] == ["DecisionSuccess"] * ITEMS
    decision_ids = {a["approve"]["decision"]["id"] for a in answers}
    assert len(decision_ids) == ITEMS

    verified = arbiter_command(fresh_pg, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"ok      pair: {ITEMS} records, chain holds, tree holds" in verified.stdout

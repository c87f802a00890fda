"""Many simultaneous approvals of the same items, from several processes: each is decided once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy as sa

from domain.enums import ReviewerRole, Role, WorkflowKind
from domain.usecases.accounts import create_user
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from store.audit_log import verify_log
from store.repositories import decisions_t, recs_t
from tests.store.racer import race

PROCESSES = 3
ITEMS = 12
ROUNDS = 4  # each process approves each item this many times at once


async def test_each_item_is_decided_exactly_once_under_racing_processes(
    gql, database, database_url
):
    services = gql.services
    admin, _ = await services.run(create_user, None, "racer-admin", Role.ADMIN)
    await services.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "race", "Race", WorkflowKind.CLASSIFICATION, ReviewerRole.VERIFIER, ["A", "B"]
        ),
    )
    submitted = await services.run(
        submit_recommendations,
        admin,
        "race",
        [ProposalInput({"n": n}, "A", 0.8) for n in range(ITEMS)],
    )
    ids = [r.id for r in submitted.recommendations]

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [pool.submit(race, database_url, admin.id, ids, ROUNDS) for _ in range(PROCESSES)]
        results = [f.result(timeout=240) for f in futures]

    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result)
    wins = {key.split(":", 1)[1]: n for key, n in totals.items() if key.startswith("won:")}
    assert wins == {item_id: 1 for item_id in ids}
    assert totals["conflict"] == PROCESSES * ROUNDS * ITEMS - ITEMS

    async with database.read_engine.connect() as connection:
        per_item = dict(
            (
                await connection.execute(
                    sa.select(decisions_t.c.recommendation_id, sa.func.count()).group_by(
                        decisions_t.c.recommendation_id
                    )
                )
            ).all()
        )
        statuses = set(
            (await connection.execute(sa.select(recs_t.c.status).where(recs_t.c.id.in_(ids))))
            .scalars()
            .all()
        )
    assert per_item == {item_id: 1 for item_id in ids}
    assert statuses == {"APPROVED"}
    reports = await verify_log(database)
    assert [r.problem for r in reports] == [None]
    assert reports[0].records == ITEMS

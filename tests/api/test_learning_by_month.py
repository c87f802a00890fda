"""learningByMonth over a decision log made through GraphQL: people's work two months
ago (placed there by moving its timestamps), then a promoted model whose confident
proposals are auto-approved or audit-sampled this month, and a drift alarm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from domain.clock import utcnow
from domain.drift import DriftAlarm
from domain.enums import Tier
from domain.learning_months import month_starts
from store.tables import decisions_t, recs_t
from tests.api.test_divergence_and_simulation import APPROVE, OVERRIDE, _decide
from tests.factories import create_user, create_workflow, proposal, submit
from tests.workers.test_drift_monitor import MODEL_ID, serve_a_model

MONTHS = """query($wf: String!, $months: Int!) {
  learningByMonth(workflow: $wf, months: $months) {
    start end submitted humanDecisions automatedApprovals agreementRate overrideRate
    automatedShare audited autoApproveError proposingVersions promoted driftAlarms
  }
}"""
POLICY = """mutation($wf: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $wf, input: $input) { __typename } }"""


async def _items(gql: Any, token: str, key: str, n: int, confidence: float, version: str) -> list:
    items = [proposal(confidence, "A", modelVersion=version) for _ in range(n)]
    result = await submit(gql, token, key, *items)
    assert result["__typename"] == "SubmitSuccess", result
    return list(result["recommendations"])


async def _move(database: Any, table: sa.Table, ids: list[str], when: Any) -> None:
    async with database.write_engine.begin() as connection:
        await connection.execute(
            sa.update(table).where(table.c.id.in_(ids)).values(created_at=when)
        )


async def test_each_month_tells_the_work_the_agreement_the_audits_and_the_models(gql, database):
    admin = await create_user(gql.services, "admin")
    model = await create_user(gql.services, "service")
    key = (await create_workflow(gql, admin))["key"]
    starts = month_starts(utcnow(), 6)
    earlier = starts[3] + timedelta(days=2)

    # Two months ago: upstream "u1" proposed 4 items; people approved 3 and overrode 1.
    old = await _items(gql, model, key, 4, 0.8, "u1")
    decided = [await _decide(gql, admin, APPROVE, item["id"]) for item in old[:3]]
    decided.append(await _decide(gql, admin, OVERRIDE, old[3]["id"], a="B"))
    await _move(database, recs_t, [item["id"] for item in old], earlier)
    await _move(database, decisions_t, decided, earlier)

    # This month: v1 is promoted; 5 confident proposals are auto-approved, then with every
    # would-be auto-approval audited, 2 more go to a person, who overrides one.
    await serve_a_model(gql.services, key)
    await _items(gql, model, key, 5, 0.97, "v1")
    answer = await gql(
        POLICY, {"wf": key, "input": {"auditSampleRate": 1.0, "note": "audit"}}, token=admin
    )
    assert answer["updateEscalationPolicy"]["__typename"] == "PolicySuccess"
    audited = await _items(gql, model, key, 2, 0.97, "v1")
    await _decide(gql, admin, APPROVE, audited[0]["id"])
    await _decide(gql, admin, OVERRIDE, audited[1]["id"], a="B")
    async with gql.services.unit_of_work() as uow:
        workflow = await uow.workflows.by_key(key)
        await uow.drift_alarms.add(
            [DriftAlarm.raise_(workflow.id, MODEL_ID, Tier.ANALYST_REVIEW, "fell", utcnow())]
        )
        await uow.commit()

    months = (await gql(MONTHS, {"wf": key, "months": 6}, token=admin))["learningByMonth"]

    assert [m["start"][:10] for m in months] == [s.date().isoformat() for s in starts[:-1]]
    assert [m["end"][:10] for m in months] == [s.date().isoformat() for s in starts[1:]]
    quiet = [months[i] for i in (0, 1, 2, 4)]
    assert all(m["submitted"] == m["humanDecisions"] == m["automatedApprovals"] == 0 for m in quiet)
    assert all(m["agreementRate"] is None and m["proposingVersions"] == [] for m in quiet)
    then, now = months[3], months[5]
    assert (then["submitted"], then["humanDecisions"], then["automatedApprovals"]) == (4, 4, 0)
    assert (then["agreementRate"], then["overrideRate"], then["automatedShare"]) == (
        0.75,
        0.25,
        0.0,
    )
    assert (then["audited"], then["autoApproveError"], then["proposingVersions"]) == (
        0,
        None,
        ["u1"],
    )
    assert (then["promoted"], then["driftAlarms"]) == ([], 0)
    assert (now["submitted"], now["humanDecisions"], now["automatedApprovals"]) == (7, 2, 5)
    assert (now["agreementRate"], now["automatedShare"]) == (0.5, 5 / 7)
    assert (now["audited"], now["autoApproveError"]) == (2, 0.5)
    assert (now["proposingVersions"], now["promoted"], now["driftAlarms"]) == (["v1"], ["v1"], 1)


async def test_an_analyst_counts_only_the_tiers_it_may_read(gql):
    admin = await create_user(gql.services, "admin")
    analyst = await create_user(gql.services, "analyst")
    model = await create_user(gql.services, "service")
    key = (await create_workflow(gql, admin))["key"]
    senior_items = await _items(gql, model, key, 2, 0.6, "u1")  # the senior tier
    for item in senior_items:
        await _decide(gql, admin, APPROVE, item["id"])

    (mine,) = (await gql(MONTHS, {"wf": key, "months": 1}, token=analyst))["learningByMonth"]
    (all_,) = (await gql(MONTHS, {"wf": key, "months": 1}, token=admin))["learningByMonth"]
    assert (all_["humanDecisions"], mine["humanDecisions"]) == (2, 0)
    assert mine["submitted"] == 2  # the work that came in is not a tier's


@pytest.mark.parametrize("months", [0, 25])
async def test_months_out_of_range_are_a_typed_error(gql, months):
    admin = await create_user(gql.services, "admin")
    key = (await create_workflow(gql, admin))["key"]
    body = (await gql.post(MONTHS, {"wf": key, "months": months}, admin)).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "months"}
    assert "between 1 and 24" in body["errors"][0]["message"]


async def test_unknown_workflow_and_a_service_are_refused(gql):
    admin = await create_user(gql.services, "admin")
    service = await create_user(gql.services, "service")
    key = (await create_workflow(gql, admin))["key"]
    body = (await gql.post(MONTHS, {"wf": "nope", "months": 6}, admin)).json()
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    body = (await gql.post(MONTHS, {"wf": key, "months": 6}, service)).json()
    assert body["data"] is None and body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}

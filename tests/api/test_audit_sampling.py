"""Audit sampling: that share of would-be auto-approvals goes to an analyst, at random, and
their decisions measure how precise auto-approval is."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Role, Verdict
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.submission import ProposalInput, submit_recommendations
from tests.factories import create_workflow

ITEMS = 1000
RATE = 0.2


async def test_audit_sampling_sends_close_to_its_rate_to_analysts_and_measures_precision(gql):
    services = gql.services
    admin, token = await services.run(create_user, None, "ada", Role.ADMIN)
    analyst, _ = await services.run(create_user, None, "ana", Role.ANALYST)
    await create_workflow(gql, token, key="audited", policy={"auditSampleRate": RATE})
    submitted = await services.run(
        submit_recommendations,
        admin,
        "audited",
        [ProposalInput({"n": n}, "A", 0.95) for n in range(ITEMS)],
    )
    sampled = [r for r in submitted.recommendations if r.sampled_for_audit]
    # Binomial(1000, 0.2): mean 200, sd 12.6; 60 is more than four and a half sd.
    assert abs(len(sampled) - ITEMS * RATE) < 60
    assert {r.tier.value for r in sampled} == {"ANALYST_REVIEW"}
    assert {r.status.value for r in sampled} == {"PENDING"}
    unsampled = [r for r in submitted.recommendations if not r.sampled_for_audit]
    assert {r.status.value for r in unsampled} == {"APPROVED"}

    ttl = timedelta(minutes=5)
    for index, item in enumerate(sampled[:20]):
        if index < 15:
            request = DecisionRequest(item.id, Verdict.APPROVE)
        else:
            request = DecisionRequest(item.id, Verdict.OVERRIDE, action="B", reason="wrong call")
        await services.run(decide, analyst, request, ttl)
    report = await gql(
        '{ divergence(workflow: "audited", window: WEEK) { autoApprovePrecision } }', token=token
    )
    assert report["divergence"]["autoApprovePrecision"] == 15 / 20

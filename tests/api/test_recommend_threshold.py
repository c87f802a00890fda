"""recommendThreshold through GraphQL on SQLite and PostgreSQL, over decisions made through
the API: only human labels of the proposing model's items count, by stratum.

The history (workflow policy: autoApproveAt 0.9, audit sample rate 1 while people decide,
then 0):
- model v0 (submitted first): 10 items at 0.95 audited and overridden: a wrong model,
  which must not count against v1.
- model v1: 20 items at 0.95, audit-sampled and approved (AUDITED stratum);
  20 at 0.85, 19 approved and 1 overridden (REVIEWED); 4 at 0.6, rejected (REVIEWED);
  then, with sampling off, 5 at 0.97 auto-approved by the ladder (AUDITED, no label) and
  2 at 0.3 rejected below the floor (UNREVIEWED).
"""

from __future__ import annotations

from typing import Any

import pytest

from domain import thresholds
from domain.thresholds import Bucket, Stratum, ThresholdEvidence
from tests.factories import create_user, create_workflow, proposal, submit
from tests.workers.test_drift_monitor import serve_a_model

RECOMMEND = """
query($wf: String!, $error: Float!, $level: Float!, $window: Window) {
  recommendThreshold(workflow: $wf, maxAutoApproveError: $error, confidenceLevel: $level,
                     window: $window) {
    maxAutoApproveError confidenceLevel autoApproveAt errorUpperBound evidence
    expectedAutoApproveShare message
  }
}"""
RESULT = "__typename ... on Problem { message }"
APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {RESULT} }} }}"
REJECT = f'mutation($id: ID!) {{ reject(id: $id, reason: "no") {{ {RESULT} }} }}'
OVERRIDE = f'mutation($id: ID!) {{ override(id: $id, action: "B", reason: "no") {{ {RESULT} }} }}'
UPDATE_POLICY = """
mutation($wf: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $wf, input: $input) { __typename }
}"""
ERROR, LEVEL = 0.25, 0.9


async def _submit(
    gql: Any, token: str, key: str, confidence: float, n: int, version: str
) -> list[dict[str, Any]]:
    items = [proposal(confidence, "A", modelVersion=version) for _ in range(n)]
    result = await submit(gql, token, key, *items)
    assert result["__typename"] == "SubmitSuccess", result
    return list(result["recommendations"])


async def _decide(gql: Any, token: str, mutation: str, items: list[dict[str, Any]]) -> None:
    for item in items:
        (result,) = (await gql(mutation, {"id": item["id"]}, token=token)).values()
        assert result["__typename"] == "DecisionSuccess", result


async def _policy(gql: Any, admin: str, key: str, **changes: Any) -> None:
    result = await gql(UPDATE_POLICY, {"wf": key, "input": changes}, token=admin)
    assert result["updateEscalationPolicy"]["__typename"] == "PolicySuccess", result


async def _history(gql: Any) -> dict[str, Any]:
    services = gql.services
    tokens = {
        "admin": await create_user(services, "admin"),
        "service": await create_user(services, "service"),
        "senior": await create_user(services, "senior"),
        "analyst": await create_user(services, "analyst"),
    }
    admin, service, senior = tokens["admin"], tokens["service"], tokens["senior"]
    policy = {"autoApproveAt": 0.9, "auditSampleRate": 1.0}
    key = (await create_workflow(gql, admin, policy=policy))["key"]
    await _decide(gql, senior, OVERRIDE, await _submit(gql, service, key, 0.95, 10, "v0"))
    audited = await _submit(gql, service, key, 0.95, 20, "v1")
    assert all(item["sampledForAudit"] for item in audited)
    await _decide(gql, senior, APPROVE, audited)
    reviewed = await _submit(gql, service, key, 0.85, 20, "v1")
    await _decide(gql, senior, APPROVE, reviewed[:19])
    await _decide(gql, senior, OVERRIDE, reviewed[19:])
    await _decide(gql, senior, REJECT, await _submit(gql, service, key, 0.6, 4, "v1"))
    await _policy(gql, admin, key, auditSampleRate=0.0)
    automatic = await _submit(gql, service, key, 0.97, 5, "v1")
    assert {item["status"] for item in automatic} == {"APPROVED"}
    floor = await _submit(gql, service, key, 0.3, 2, "v1")
    assert {item["status"] for item in floor} == {"REJECTED"}
    return {"key": key, **tokens}


async def _recommend(gql: Any, token: str, key: str, **variables: Any) -> dict[str, Any]:
    arguments = {"wf": key, "error": ERROR, "level": LEVEL, **variables}
    return dict((await gql(RECOMMEND, arguments, token=token))["recommendThreshold"])


def _by_hand() -> thresholds.ThresholdRecommendation:
    """The history's v1 evidence, counted by hand, through the domain's procedure."""
    evidence = ThresholdEvidence(
        (
            Bucket(Stratum.AUDITED, 0.97, 5, 0, 0),
            Bucket(Stratum.AUDITED, 0.95, 20, 20, 0),
            Bucket(Stratum.REVIEWED, 0.85, 20, 20, 1),
            Bucket(Stratum.REVIEWED, 0.6, 4, 4, 4),
            Bucket(Stratum.UNREVIEWED, 0.3, 2, 0, 0),
        ),
        total_items=51,
        model_version="v1",
        current_threshold=0.9,
        audit_sample_rate=0.0,
    )
    return thresholds.recommend(evidence, ERROR, LEVEL)


async def test_recommends_from_human_labels_of_the_proposing_model_only(gql):
    history = await _history(gql)
    found = await _recommend(gql, history["admin"], history["key"])
    expected = _by_hand()
    # 0.95 down to 0.86 hold the 25 audited items (20 labelled, none wrong) and pass: 0.95
    # is the lowest at which items were seen. The sequence leaves out 0.85 to 0.61 (45
    # items: with half the target's error rate in each stratum they would not pass) and
    # stops at 0.60, which adds the four rejections. Had v0's overrides counted, 0.95
    # would not pass; had the ladder's five approvals, the evidence would be 25.
    assert expected.auto_approve_at == 0.95
    assert found["autoApproveAt"] == pytest.approx(0.95)
    assert found["evidence"] == 20
    assert found["errorUpperBound"] == pytest.approx(expected.error_upper_bound)
    assert found["errorUpperBound"] <= ERROR
    assert found["expectedAutoApproveShare"] == pytest.approx(25 / 51)
    assert (found["maxAutoApproveError"], found["confidenceLevel"]) == (ERROR, LEVEL)
    assert found["message"] == expected.message
    assert "model v1" in found["message"]
    # A senior may ask too, and the window is honoured (all of it is today's).
    senior = await _recommend(gql, history["senior"], history["key"], window="WEEK")
    assert senior == found


async def test_a_new_model_has_no_evidence_until_people_review_its_proposals(gql):
    history = await _history(gql)
    await _submit(gql, history["service"], history["key"], 0.95, 3, "v2")  # upstream's new model
    found = await _recommend(gql, history["admin"], history["key"])
    assert found["autoApproveAt"] is None
    assert found["errorUpperBound"] is None and found["expectedAutoApproveShare"] is None
    assert found["evidence"] == 0
    assert "model v2" in found["message"] and "newly promoted model" in found["message"]

    # Arbiter's own model v1 promoted: it proposes now, whatever was submitted last.
    await serve_a_model(gql.services, history["key"])
    found = await _recommend(gql, history["admin"], history["key"])
    assert found["autoApproveAt"] == pytest.approx(0.95) and found["evidence"] == 20


async def test_too_little_evidence_says_how_much_more_is_needed(gql):
    history = await _history(gql)
    found = await _recommend(gql, history["admin"], history["key"], error=0.02, level=0.95)
    assert found["autoApproveAt"] is None
    assert found["evidence"] == 44
    assert "need about" in found["message"] and "more audit samples above" in found["message"]
    assert "auditSampleRate is 0" in found["message"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"error": 0.0}, "maxAutoApproveError"),
        ({"error": 1.0}, "maxAutoApproveError"),
        ({"error": -0.1}, "maxAutoApproveError"),
        ({"level": 0.5}, "confidenceLevel"),
        ({"level": 1.0}, "confidenceLevel"),
    ],
)
async def test_bad_targets_are_a_typed_error(gql, variables, field):
    admin = await create_user(gql.services, "admin")
    key = (await create_workflow(gql, admin))["key"]
    arguments = {"wf": key, "error": ERROR, "level": LEVEL, **variables}
    body = (await gql.post(RECOMMEND, arguments, admin)).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert field in error["message"]


async def test_unknown_workflow_and_roles(gql):
    admin = await create_user(gql.services, "admin")
    key = (await create_workflow(gql, admin))["key"]
    body = (await gql.post(RECOMMEND, {"wf": "nope", "error": 0.1, "level": 0.9}, admin)).json()
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    for role in ("analyst", "service"):
        token = await create_user(gql.services, role)
        body = (await gql.post(RECOMMEND, {"wf": key, "error": 0.1, "level": 0.9}, token)).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert "SENIOR or ADMIN" in body["errors"][0]["message"]
    senior = await create_user(gql.services, "senior")
    found = await _recommend(gql, senior, key, error=0.1, level=0.9)
    assert found["autoApproveAt"] is None and found["evidence"] == 0

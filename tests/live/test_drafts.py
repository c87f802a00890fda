"""Editable recommendations: previewEdit re-scores a draft with a scorer learned from
recorded outcomes; recordOutcome feeds it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import numpy as np

from domain.enums import ReviewerRole, Role, Verdict, WorkflowKind
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.drafts import record_outcome
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from tests.conftest import settle
from tests.ml.test_scorer import SEGMENTS, make_subject, rule

PREVIEW = """mutation($id: ID!, $content: String!) { previewEdit(id: $id, content: $content) {
  __typename
  ... on DraftPreview { content predictedScore originalPredictedScore delta message }
  ... on Problem { problem: message } } }"""


async def draft_world(services: Any, reviewer_role: ReviewerRole = ReviewerRole.EDITOR) -> Any:
    admin, token = await services.run(create_user, None, "ada", Role.ADMIN)
    service, service_token = await services.run(create_user, None, "mailer", Role.SERVICE)
    await services.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "mail",
            "Subject lines",
            WorkflowKind.DRAFT,
            reviewer_role,
            ["send", "hold"],
            "open rate",
            {"auto_approve_at": 1.0, "analyst_at": 0.0, "senior_at": 0.0},
        ),
    )
    return admin, token, service, service_token


async def submit_drafts(
    services: Any, who: Any, subjects: list[str], segments: list[str]
) -> list[Any]:
    submitted = await services.run(
        submit_recommendations,
        who,
        "mail",
        [
            ProposalInput({"segment": segment}, "send", 0.8, draft=subject)
            for subject, segment in zip(subjects, segments, strict=True)
        ],
    )
    return list(submitted.recommendations)


async def wait_for(gql: Any, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        await settle(gql.services)
        job = (
            await gql(
                "query($id: ID!) { job(id: $id) { state message } }", {"id": job_id}, token=token
            )
        )["job"]
        if job["state"] in ("SUCCEEDED", "FAILED"):
            return dict(job)
        await asyncio.sleep(0.1)
    raise AssertionError("the job did not finish")


async def test_a_scorer_learned_from_outcomes_rescored_edits_and_ranks_what_works_first(gql):
    services = gql.services
    admin, token, service, _ = await draft_world(services)
    rng = np.random.default_rng(3)
    subjects = [make_subject(rng) for _ in range(400)]
    segments = [str(rng.choice(SEGMENTS)) for _ in subjects]
    items = await submit_drafts(services, admin, subjects, segments)

    before = (await gql(PREVIEW, {"id": items[0].id, "content": "Your 5 picks"}, token=token))[
        "previewEdit"
    ]
    assert before["__typename"] == "DraftPreview"
    assert before["predictedScore"] is None and "no draft scorer yet" in before["message"]

    ttl = timedelta(minutes=5)
    for item, subject, segment in zip(items, subjects, segments, strict=True):
        await services.run(decide, admin, DecisionRequest(item.id, Verdict.APPROVE), ttl)
        value = rule(subject, segment) + float(rng.normal(0, 0.01))
        await services.run(record_outcome, service, item.id, value)

    started = await gql(
        'mutation { startRetraining(workflow: "mail") { ... on JobSuccess { job { id } } } }',
        token=token,
    )
    job = await wait_for(gql, token, started["startRetraining"]["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    assert "draft scorer v" in job["message"] and "promoted" in job["message"]
    scorer = (
        await gql(
            """{ workflow(key: "mail") { scoreLabel activeScorer { kind status
                  metrics { r2 meanAbsoluteError baselineMeanAbsoluteError holdoutSize } } } }""",
            token=token,
        )
    )["workflow"]
    assert scorer["scoreLabel"] == "open rate"
    metrics = scorer["activeScorer"]["metrics"]
    assert (
        scorer["activeScorer"]["status"] == "ACTIVE" and scorer["activeScorer"]["kind"] == "SCORER"
    )
    assert metrics["r2"] > 0.3
    assert metrics["meanAbsoluteError"] < metrics["baselineMeanAbsoluteError"]

    [fresh] = await submit_drafts(
        services, admin, ["WEEKLY DIGEST FROM THE WHOLE TEAM!!!"], ["vip"]
    )
    preview = (await gql(PREVIEW, {"id": fresh.id, "content": "Your 5 weekly picks"}, token=token))[
        "previewEdit"
    ]
    assert preview["__typename"] == "DraftPreview", preview
    assert preview["message"] is None
    assert preview["predictedScore"] > preview["originalPredictedScore"]
    assert (
        abs(preview["delta"] - (preview["predictedScore"] - preview["originalPredictedScore"]))
        < 1e-9
    )


async def test_outcomes_belong_to_shipped_items_and_to_services(gql):
    services = gql.services
    admin, _, _, service_token = await draft_world(services)
    [item] = await submit_drafts(services, admin, ["Hello"], ["new"])
    analyst_token = (await services.run(create_user, None, "ana", Role.ANALYST))[1]
    record = """mutation($id: ID!, $v: Float!) { recordOutcome(id: $id, value: $v) {
        __typename ... on Conflict { currentStatus } } }"""

    pending = (await gql(record, {"id": item.id, "v": 0.2}, token=service_token))["recordOutcome"]
    forbidden = (await gql(record, {"id": item.id, "v": 0.2}, token=analyst_token))["recordOutcome"]
    await services.run(
        decide, admin, DecisionRequest(item.id, Verdict.APPROVE), timedelta(minutes=5)
    )
    shipped = (await gql(record, {"id": item.id, "v": 0.2}, token=service_token))["recordOutcome"]
    missing = (await gql(record, {"id": "rec_nope", "v": 0.2}, token=service_token))[
        "recordOutcome"
    ]

    assert pending == {"__typename": "Conflict", "currentStatus": "PENDING"}
    assert forbidden["__typename"] == "Forbidden"
    assert shipped["__typename"] == "RecommendationSuccess"
    assert missing["__typename"] == "NotFound"


async def test_verifiers_cannot_preview_edits(gql):
    services = gql.services
    admin, token, _, _ = await draft_world(services, ReviewerRole.VERIFIER)
    [item] = await submit_drafts(services, admin, ["Hello"], ["new"])

    answer = (await gql(PREVIEW, {"id": item.id, "content": "Hi"}, token=token))["previewEdit"]

    assert answer["__typename"] == "Forbidden"


async def test_an_edit_ships_the_content_with_its_predicted_score_in_the_revision(gql):
    services = gql.services
    admin, token, service, _ = await draft_world(services)
    rng = np.random.default_rng(8)
    subjects = [make_subject(rng) for _ in range(300)]
    segments = [str(rng.choice(SEGMENTS)) for _ in subjects]
    ttl = timedelta(minutes=5)
    for item, subject, segment in zip(
        await submit_drafts(services, admin, subjects, segments), subjects, segments, strict=True
    ):
        await services.run(decide, admin, DecisionRequest(item.id, Verdict.APPROVE), ttl)
        await services.run(record_outcome, service, item.id, rule(subject, segment))
    started = await gql(
        'mutation { startRetraining(workflow: "mail") { ... on JobSuccess { job { id } } } }',
        token=token,
    )
    assert (await wait_for(gql, token, started["startRetraining"]["job"]["id"]))["state"] == (
        "SUCCEEDED"
    )
    [item] = await submit_drafts(services, admin, ["MONTHLY NEWS!!!"], ["regular"])
    preview = (await gql(PREVIEW, {"id": item.id, "content": "Your 3 picks"}, token=token))[
        "previewEdit"
    ]

    shipped = (
        await gql(
            """mutation($id: ID!) { edit(id: $id, content: "Your 3 picks") {
                 ... on DecisionSuccess {
                   decision { verdict editedContent }
                   recommendation { status draft { original content predictedScore
                     revisions { content predictedScore author { name } } } } } } }""",
            {"id": item.id},
            token=token,
        )
    )["edit"]

    draft = shipped["recommendation"]["draft"]
    assert shipped["decision"] == {"verdict": "EDIT", "editedContent": "Your 3 picks"}
    assert shipped["recommendation"]["status"] == "EDITED"
    assert (draft["original"], draft["content"]) == ("MONTHLY NEWS!!!", "Your 3 picks")
    assert abs(draft["predictedScore"] - preview["predictedScore"]) < 1e-9
    [revision] = draft["revisions"]
    assert revision["content"] == "Your 3 picks"
    assert revision["author"] == {"name": "ada"}
    assert abs(revision["predictedScore"] - preview["predictedScore"]) < 1e-9

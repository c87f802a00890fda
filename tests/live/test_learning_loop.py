"""The feedback loop through the API: corrections retrain the model, themes name what it
missed, the new model proposes, and the report says what changed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from arq.worker import create_worker

from api.services import Services, runtime_options
from domain.clock import utcnow
from domain.enums import Role, Verdict
from domain.jobs import Job, JobKind, JobState
from domain.learning import ModelArtifact, ModelKind, ModelStatus, ModelVersion
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.submission import ProposalInput, submit_recommendations
from ml.worlds import generate_world
from store.tables import jobs_t, models_t, overrides_t
from tests.conftest import make_settings, settle
from workers.retrain import _promote
from workers.runtime import Runtime
from workers.worker import worker_settings

WORLD = 900
CREATE = """mutation { createWorkflow(input: {key: "loans", name: "Loans", kind: CLASSIFICATION,
  reviewerRole: EXPERT, actions: ["approve", "decline"],
  policy: {autoApproveAt: 1.0, analystAt: 0.0, seniorAt: 0.0}}) { __typename } }"""


async def decided_world(services: Runtime, n: int = WORLD, seed: int = 11) -> tuple[str, Any]:
    """An admin token and a workflow whose upstream model misses young healthcare companies;
    a reviewer approved what was right and overrode the rest, saying why."""
    admin_token_user, token = await services.run(create_user, None, "ada", Role.ADMIN)
    reviewer, _ = await services.run(create_user, None, "rita", Role.SENIOR)
    return token, (admin_token_user, reviewer, generate_world(n, seed, "young_healthcare"))


async def record_decisions(services: Runtime, admin: Any, reviewer: Any, cases: list[Any]) -> None:
    submitted = await services.run(
        submit_recommendations,
        admin,
        "loans",
        [
            ProposalInput(c.payload, c.upstream_action, c.upstream_confidence, external_id=f"c{i}")
            for i, c in enumerate(cases)
        ],
    )
    ttl = timedelta(minutes=5)
    for item, case in zip(submitted.recommendations, cases, strict=True):
        if case.true_action == case.upstream_action:
            request = DecisionRequest(item.id, Verdict.APPROVE)
        else:
            request = DecisionRequest(
                item.id, Verdict.OVERRIDE, action=case.true_action, reason=case.reason or "wrong"
            )
        await services.run(decide, reviewer, request, ttl)


async def wait_for_job(gql: Any, token: str, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        await settle(gql.services)
        data = await gql(
            "query($id: ID!) { job(id: $id) { state progress message result } }",
            {"id": job_id},
            token=token,
        )
        if data["job"]["state"] in ("SUCCEEDED", "FAILED"):
            return dict(data["job"])
        await asyncio.sleep(0.1)
    raise AssertionError("the job did not finish")


async def test_corrections_retrain_a_better_model_that_then_proposes_and_the_report_says_so(gql):
    services = gql.services
    token, (admin, reviewer, cases) = await decided_world(services)
    assert (await gql(CREATE, token=token))["createWorkflow"]["__typename"] == "WorkflowSuccess"
    await record_decisions(services, admin, reviewer, cases)

    started = await gql(
        'mutation { startRetraining(workflow: "loans") { __typename '
        "... on JobSuccess { job { id kind state } } } }",
        token=token,
    )
    job = started["startRetraining"]["job"]
    assert (job["kind"], job["state"]) == ("RETRAIN", "QUEUED")
    finished = await wait_for_job(gql, token, job["id"])
    assert finished["state"] == "SUCCEEDED", finished
    assert finished["progress"] == 1.0
    assert finished["result"]["promoted"] is True

    data = await gql(
        """{ workflow(key: "loans") {
              activeModel { version status trainedOn features
                            metrics { holdoutSize accuracy baselineAccuracy calibrationError } }
              models { version status } } }""",
        token=token,
    )
    active = data["workflow"]["activeModel"]
    assert active["status"] == "ACTIVE" and active["version"] == 1
    metrics = active["metrics"]
    assert metrics["accuracy"] > metrics["baselineAccuracy"] + 0.03
    assert "company_age_years" in active["features"]
    assert data["workflow"]["models"] == [{"version": 1, "status": "ACTIVE"}]

    mined = await gql(
        'mutation { mineOverrideThemes(workflow: "loans", window: MONTH) { '
        "... on JobSuccess { job { id } } } }",
        token=token,
    )
    assert (await wait_for_job(gql, token, mined["mineOverrideThemes"]["job"]["id"]))[
        "state"
    ] == "SUCCEEDED"
    themes = await gql(
        """{ overrideThemes(workflow: "loans") { overridesAnalysed
              themes { label share conditions suggestedFeature count } }
            workflow(key: "loans") { reasonSuggestions }
            overrides(workflow: "loans", first: 500) { edges { node { theme } } } }""",
        token=token,
    )
    report = themes["overrideThemes"]
    top = report["themes"][0]
    assert "industry = healthcare" in top["conditions"]
    assert any(c.startswith("company_age_years <") for c in top["conditions"])
    assert themes["workflow"]["reasonSuggestions"][0] == top["label"]
    labelled = [e["node"]["theme"] for e in themes["overrides"]["edges"]]
    assert labelled.count(top["label"]) == top["count"]

    feedback = (
        await gql(
            """{ feedbackReport(workflow: "loans") { corrections accuracyBefore accuracyAfter
                  message topTheme { label } } }""",
            token=token,
        )
    )["feedbackReport"]
    overrides = sum(1 for c in cases if c.true_action != c.upstream_action)
    assert feedback["corrections"] == overrides
    assert feedback["accuracyAfter"] == metrics["accuracy"]
    assert f"you corrected {overrides} recommendations" in feedback["message"]
    assert "accuracy went from" in feedback["message"]

    fresh = generate_world(60, 99, "young_healthcare")
    proposed = await gql(
        """mutation($cases: [CaseInput!]!) { submitCases(workflow: "loans", cases: $cases) {
              __typename ... on SubmitSuccess { created recommendations {
                proposedAction confidence modelVersion explanation { feature contribution } } }
              ... on Problem { message } } }""",
        {"cases": [{"payload": c.payload} for c in fresh]},
        token=token,
    )
    result = proposed["submitCases"]
    assert result["__typename"] == "SubmitSuccess" and result["created"] == 60
    items = result["recommendations"]
    assert {i["modelVersion"] for i in items} == {"v1"}
    assert all(0.0 <= i["confidence"] <= 1.0 and i["explanation"] for i in items)
    right = sum(i["proposedAction"] == c.true_action for i, c in zip(items, fresh, strict=True))
    upstream = sum(c.upstream_action == c.true_action for c in fresh)
    assert right >= upstream


async def test_submit_cases_without_an_active_model_says_so(gql):
    token, _ = await decided_world(gql.services, n=1)
    await gql(CREATE, token=token)
    answer = await gql(
        """mutation { submitCases(workflow: "loans", cases: [{payload: {a: 1}}]) {
              __typename ... on InvalidInput { field message } } }""",
        token=token,
    )
    assert answer["submitCases"]["__typename"] == "InvalidInput"
    assert answer["submitCases"]["field"] == "workflow"
    assert "no active model" in answer["submitCases"]["message"]


async def test_two_concurrent_promotions_leave_one_active_model(database, database_url):
    from store.database import connect

    runtime = Runtime(database)
    admin, _ = await runtime.run(create_user, None, "ada", Role.ADMIN)
    from domain.enums import ReviewerRole, WorkflowKind
    from domain.usecases.workflows import WorkflowSpec, create_workflow

    workflow = await runtime.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "race", "Race", WorkflowKind.CLASSIFICATION, ReviewerRole.VERIFIER, ["a", "b"]
        ),
    )
    ids = ["mdl_" + "a" * 32, "mdl_" + "b" * 32]
    async with runtime.unit_of_work() as uow:
        for version, model_id in enumerate(ids, start=1):
            await uow.models.add(
                ModelVersion(
                    id=model_id,
                    workflow_id=workflow.id,
                    version=version,
                    kind=ModelKind.CLASSIFIER,
                    status=ModelStatus.CANDIDATE,
                    features=[],
                    trained_on=0,
                    created_at=utcnow(),
                    classes=["a", "b"],
                ),
                ModelArtifact(model_text="", feature_spec={}, calibration={}),
            )
        await uow.commit()
    other_db = connect(database_url)
    try:
        other = Runtime(other_db)
        await asyncio.gather(
            runtime.run(_promote, ids[0], workflow.id), other.run(_promote, ids[1], workflow.id)
        )
    finally:
        await other_db.dispose()
    async with database.read_engine.connect() as connection:
        statuses = dict(
            (await connection.execute(sa.select(models_t.c.id, models_t.c.status))).all()
        )
    assert sorted(statuses.values()) == ["ACTIVE", "RETIRED"]


async def test_an_arq_worker_retrains_against_real_redis(database, database_url, redis_url):
    settings = make_settings(database_url, redis_url=redis_url)
    services = Services(settings, database)
    _, (admin, reviewer, cases) = await decided_world(services, n=400, seed=5)
    from domain.enums import ReviewerRole, WorkflowKind
    from domain.usecases.workflows import WorkflowSpec, create_workflow

    await services.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "loans",
            "Loans",
            WorkflowKind.CLASSIFICATION,
            ReviewerRole.EXPERT,
            ["approve", "decline"],
            None,
            {"auto_approve_at": 1.0, "analyst_at": 0.0, "senior_at": 0.0},
        ),
    )
    await record_decisions(services, admin, reviewer, cases)
    from domain.usecases.learning import start_retraining

    job = await services.run(start_retraining, admin, "loans")
    worker = create_worker(
        worker_settings(database_url, redis_url, runtime_options(settings)), burst=True
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await services.jobs.stop()
    # Read, not written: a read connection takes no write lock (on SQLite a unit of work
    # begins IMMEDIATE, and has intermittently waited out the busy timeout here).
    async with database.read_engine.connect() as connection:
        state = (
            await connection.execute(sa.select(jobs_t.c.state).where(jobs_t.c.id == job.id))
        ).scalar_one()
    assert state == JobState.SUCCEEDED, state
    async with database.read_engine.connect() as connection:
        active = (
            await connection.execute(
                sa.select(models_t.c.status).where(models_t.c.status == "ACTIVE")
            )
        ).all()
        overrides = (
            await connection.execute(sa.select(sa.func.count()).select_from(overrides_t))
        ).scalar_one()
    assert len(active) == 1
    assert overrides == sum(1 for c in cases if c.true_action != c.upstream_action)


async def test_model_events_announce_training_and_promotion_with_the_report(live_server):
    from tests.live.helpers import post, subscribe

    services = live_server.services
    token, (admin, reviewer, cases) = await decided_world(services)
    await post(live_server.graphql, token, CREATE)
    await record_decisions(services, admin, reviewer, cases)
    query = """subscription { modelEvents(workflow: "loans") {
        id kind model { version status } report { corrections message } } }"""
    async with subscribe(live_server.websocket, token, query) as subscriber:
        await post(
            live_server.graphql,
            token,
            'mutation { startRetraining(workflow: "loans") { __typename } }',
        )
        trained = (await subscriber.next(timeout=60))["data"]["modelEvents"]
        promoted = (await subscriber.next(timeout=60))["data"]["modelEvents"]
    assert trained["kind"] == "TRAINED" and trained["report"] is None
    assert promoted["kind"] == "PROMOTED"
    assert promoted["model"] == {"version": 1, "status": "ACTIVE"}
    corrections = sum(1 for c in cases if c.true_action != c.upstream_action)
    assert promoted["report"]["corrections"] == corrections
    assert f"you corrected {corrections} recommendations" in promoted["report"]["message"]


async def test_the_schedule_retrains_only_workflows_with_enough_new_corrections(database):
    from workers.runtime import RuntimeOptions
    from workers.schedule import due_workflows

    runtime = Runtime(database, options=RuntimeOptions(retrain_min_corrections=10))
    _, (admin, reviewer, cases) = await decided_world(runtime, n=200, seed=4)
    from domain.enums import ReviewerRole, WorkflowKind
    from domain.usecases.workflows import WorkflowSpec, create_workflow

    workflow = await runtime.run(
        create_workflow,
        admin,
        WorkflowSpec(
            "loans",
            "Loans",
            WorkflowKind.CLASSIFICATION,
            ReviewerRole.EXPERT,
            ["approve", "decline"],
            None,
            {"auto_approve_at": 1.0, "analyst_at": 0.0, "senior_at": 0.0},
        ),
    )
    await record_decisions(runtime, admin, reviewer, cases)
    corrections = sum(1 for c in cases if c.true_action != c.upstream_action)
    assert corrections >= 10

    assert await due_workflows(runtime) == [workflow.id]
    runtime.options.retrain_min_corrections = corrections + 1
    assert await due_workflows(runtime) == []
    runtime.options.retrain_min_corrections = 10
    async with runtime.unit_of_work() as uow:
        await uow.jobs.add(Job.new(JobKind.RETRAIN, utcnow(), workflow_id=workflow.id))
        await uow.commit()
    assert await due_workflows(runtime) == []  # one is already queued

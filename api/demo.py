"""`arbiter demo`: the whole loop on a generated world, in about a minute.

An upstream model that misses one rule (young healthcare companies) proposes;
simulated reviewers approve what is right and override the rest, saying why in
many different words; then the override themes are mined and the model is
retrained on the corrections. Open GraphiQL with the printed token to look.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

from domain.clock import utcnow
from domain.enums import ReviewerRole, Role, Tier, Verdict, WorkflowKind
from domain.jobs import Job, JobKind
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from ml.worlds import generate_world
from store.learning import LearningReads
from workers.execute import execute_job
from workers.runtime import Runtime

CASES = 1500
BATCH = 500


async def _unused(runtime: Runtime, stem: str, exists: Any) -> str:
    for n in itertools.count(1):
        name = stem if n == 1 else f"{stem}-{n}"
        if not await exists(name):
            return name
    raise AssertionError("unreachable")


async def run_demo(runtime: Runtime, say: Any = print) -> dict[str, Any]:
    started = time.perf_counter()
    async with runtime.unit_of_work() as uow:

        async def user_exists(name: str) -> bool:
            return await uow.users.by_name(name) is not None

        async def workflow_exists(key: str) -> bool:
            return await uow.workflows.by_key(key) is not None

        admin_name = await _unused(runtime, "demo-admin", user_exists)
        key = await _unused(runtime, "demo-loans", workflow_exists)
    admin, token = await runtime.run(create_user, None, admin_name, Role.ADMIN)
    analyst, _ = await runtime.run(create_user, None, f"{admin_name}-analyst", Role.ANALYST)
    senior, _ = await runtime.run(create_user, None, f"{admin_name}-senior", Role.SENIOR)
    await runtime.run(
        create_workflow,
        admin,
        WorkflowSpec(
            key,
            "Demo: loan applications",
            WorkflowKind.CLASSIFICATION,
            ReviewerRole.EXPERT,
            ["approve", "decline"],
            None,
            # Bootstrapping: people see every proposal until the model has earned trust.
            {"auto_approve_at": 1.0, "note": "demo: every proposal goes to a person"},
        ),
    )
    say(
        f"workflow {key!r}: submitting {CASES} proposals from an upstream model that misses "
        "young healthcare companies"
    )
    cases = generate_world(CASES, 2026, "young_healthcare")
    items = []
    for start in range(0, CASES, BATCH):
        chunk = cases[start : start + BATCH]
        submitted = await runtime.run(
            submit_recommendations,
            admin,
            key,
            [
                ProposalInput(
                    c.payload,
                    c.upstream_action,
                    c.upstream_confidence,
                    external_id=f"case-{start + i}",
                )
                for i, c in enumerate(chunk)
            ],
        )
        items.extend(submitted.recommendations)
    say("simulated reviewers decide: approve what is right, override the rest with a reason")
    ttl = timedelta(minutes=5)
    corrected = 0
    for item, case in zip(items, cases, strict=True):
        reviewer = analyst if item.tier is Tier.ANALYST_REVIEW else senior
        if case.true_action == case.upstream_action:
            request = DecisionRequest(item.id, Verdict.APPROVE)
        else:
            corrected += 1
            request = DecisionRequest(
                item.id,
                Verdict.OVERRIDE,
                action=case.true_action,
                reason=case.reason or "does not fit our lending rules",
            )
        await runtime.run(decide, reviewer, request, ttl)
    say(f"{corrected} of {CASES} proposals were overridden; mining the reasons into themes")
    workflow_id = items[0].workflow_id
    for kind, args in ((JobKind.MINE_THEMES, {"window": "MONTH"}), (JobKind.RETRAIN, {})):
        job = Job.new(kind, utcnow(), workflow_id=workflow_id, **args)
        async with runtime.unit_of_work() as uow:
            await uow.jobs.add(job)
            await uow.commit()
        await execute_job(runtime, job.id)
        async with runtime.unit_of_work() as uow:
            done = await uow.jobs.get(job.id)
        assert done is not None
        say(f"{kind.value.lower()}: {done.state.value.lower()}: {done.message}")
    async with runtime.read_session() as session:
        model = LearningReads(session)
        report = await model.latest_theme_report(workflow_id)
        feedback = await model.feedback_report(workflow_id)
    if report and report.themes:
        top = report.themes[0]
        say(
            f"top theme: {top.label} ({top.share:.0%} of overrides); conditions: "
            f"{', '.join(top.conditions) or 'none'}; suggested feature: {top.suggested_feature}"
        )
    if feedback:
        say(feedback.message)
    say(f"done in {time.perf_counter() - started:.0f}s")
    return {"workflow": key, "token": token, "corrected": corrected}

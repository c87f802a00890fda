"""`arbiter retrain WORKFLOW`: every step it reports is shown once, in order, with the
final state after the last; too few labels is one line saying how many more it needs."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa

from api.cli import migrate
from api.services import Services
from domain.enums import ReviewerRole, Role, Verdict, WorkflowKind
from domain.usecases.accounts import create_user
from domain.usecases.decide import DecisionRequest, decide
from domain.usecases.submission import ProposalInput, submit_recommendations
from domain.usecases.workflows import WorkflowSpec, create_workflow
from ml.classifier import MIN_EXAMPLES
from ml.worlds import generate_world
from store.database import connect
from store.tables import jobs_t, models_t, workflows_t
from tests.cli.helpers import environment, run
from tests.conftest import make_settings
from workers.retrain import _ThreadProgress

FEW = 12
ENOUGH = 80
STEP = re.compile(r"^ *(\d+)% (.+)$")


async def labelled_workflow(services: Services, admin: object, key: str, n: int) -> None:
    """A workflow whose n items were all decided by a person: approved when the upstream
    model was right, overridden otherwise (each decision is a label)."""
    await services.run(
        create_workflow,
        admin,
        WorkflowSpec(
            key,
            key,
            WorkflowKind.CLASSIFICATION,
            ReviewerRole.EXPERT,
            ["approve", "decline"],
            None,
            {"auto_approve_at": 1.0, "analyst_at": 0.0, "senior_at": 0.0},
        ),
    )
    cases = generate_world(n, 5, "young_healthcare")
    submitted = await services.run(
        submit_recommendations,
        admin,
        key,
        [ProposalInput(c.payload, c.upstream_action, c.upstream_confidence) for c in cases],
    )
    for item, case in zip(submitted.recommendations, cases, strict=True):
        if case.true_action == case.upstream_action:
            request = DecisionRequest(item.id, Verdict.APPROVE)
        else:
            request = DecisionRequest(
                item.id, Verdict.OVERRIDE, action=case.true_action, reason=case.reason or "no"
            )
        await services.run(decide, admin, request, timedelta(minutes=5))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file with workflow `few` (FEW labels) and `enough` (ENOUGH)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('retrain') / 'arbiter.db'}"
    await asyncio.to_thread(migrate, url)
    services = Services.from_settings(make_settings(url))
    try:
        admin, _ = await services.run(create_user, None, "ada", Role.ADMIN)
        await labelled_workflow(services, admin, "few", FEW)
        await labelled_workflow(services, admin, "enough", ENOUGH)
    finally:
        await services.database.dispose()
    return url


async def count(url: str, statement: sa.Select[tuple[int]]) -> int:
    database = connect(url)
    try:
        async with database.read_engine.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())
    finally:
        await database.dispose()


def models_of(key: str) -> sa.Select[tuple[int]]:
    return (
        sa.select(sa.func.count())
        .select_from(models_t.join(workflows_t, models_t.c.workflow_id == workflows_t.c.id))
        .where(workflows_t.c.key == key)
    )


async def test_retraining_shows_every_step_in_order_then_how_it_ended(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(ARBITER_DATABASE_URL=database_url)
    ran = await asyncio.to_thread(run, "retrain", "enough", cwd=tmp_path, env=env)
    assert (ran.status, ran.err) == (0, ""), ran.err
    *shown, last = ran.out.splitlines()
    assert last.startswith("SUCCEEDED: classifier v1 "), ran.out
    steps = [STEP.match(line) for line in shown]
    assert all(steps), ran.out
    percents = [int(step.group(1)) for step in steps if step]
    messages = [step.group(2) for step in steps if step]
    assert percents == sorted(percents), ran.out
    assert messages[0] == "loading labelled decisions"
    assert f"{ENOUGH} labelled decisions loaded and featurised" in messages
    assert any(m.startswith(f"featurising {ENOUGH} labelled decisions") for m in messages)
    # the trainer's last step, then the job's own: the model it stored and judged
    assert percents[-2:] == [95, 100], ran.out
    assert messages[-1] == last.removeprefix("SUCCEEDED: ")
    assert len(set(zip(percents, messages, strict=True))) == len(shown)  # each step once
    assert await count(database_url, models_of("enough")) == 1


async def test_too_few_labels_is_one_line_saying_how_many_it_has_and_needs(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(ARBITER_DATABASE_URL=database_url)
    ran = await asyncio.to_thread(run, "retrain", "few", cwd=tmp_path, env=env)
    assert ran.status == 2
    assert ran.err_lines == [
        f"error: workflow few has {FEW} labelled decisions; retraining needs at least "
        f"{MIN_EXAMPLES} (approve, reject or override more items first)"
    ]
    assert ran.out.splitlines()[0] == "  1% loading labelled decisions"
    assert await count(database_url, models_of("few")) == 0


async def test_an_unknown_workflow_is_one_line_and_starts_no_job(
    database_url: str, tmp_path: Path
) -> None:
    jobs = sa.select(sa.func.count()).select_from(jobs_t)
    before = await count(database_url, jobs)
    env = environment(ARBITER_DATABASE_URL=database_url)
    ran = await asyncio.to_thread(run, "retrain", "Few", cwd=tmp_path, env=env)
    assert (ran.status, ran.out) == (2, "")
    assert len(ran.err_lines) == 1
    assert ran.err_lines[0].startswith("error: no workflow with key 'Few'")
    assert await count(database_url, jobs) == before


async def test_steps_reported_from_the_training_thread_are_written_in_order_and_all() -> None:
    written: list[str] = []

    async def report(fraction: float, message: str | None) -> None:
        # Earlier steps take longer to write: written concurrently, later ones would overtake.
        await asyncio.sleep(0.001 * (20 - int((message or "").split()[-1])))
        written.append(message or "")

    progress = _ThreadProgress(report, 0.0, 1.0)

    def train() -> None:
        for i in range(20):
            progress(1.0, f"step {i}")  # the final fraction is never throttled

    await asyncio.to_thread(train)
    await progress.flush()
    assert written == [f"step {i}" for i in range(20)]

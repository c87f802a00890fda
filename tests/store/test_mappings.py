"""Each table class is its entity's one mapping: what `of` writes, `to_domain` reads back
equal, on SQLite and PostgreSQL; timestamps come back aware and in UTC, enumerations
as the domain's members; and a row read again in the same session is read afresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from domain.enums import RecommendationStatus, ReviewerRole, Role, Tier, Verdict, WorkflowKind
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind, JobState
from domain.learning import (
    ModelArtifact,
    ModelKind,
    ModelMetrics,
    ModelStatus,
    ModelVersion,
    ThemeReport,
    ThemeSummary,
)
from domain.model import (
    Claim,
    Decision,
    Draft,
    DraftRevision,
    Override,
    Recommendation,
    User,
    Workflow,
)
from domain.policy import EscalationPolicy
from domain.ports import ConfirmationGrant
from domain.trusted_documents import TrustedDocument
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery
from store.database import Database
from store.loading import load_first
from store.tables import (
    ConfirmationGrantRow,
    DecisionRow,
    DraftRevisionRow,
    EventRow,
    JobRow,
    ModelVersionRow,
    OverrideRow,
    PolicyRow,
    RecommendationRow,
    ThemeReportRow,
    TrustedDocumentRow,
    UserRow,
    WebhookDeliveryRow,
    WebhookRow,
    WorkflowRow,
    recs_t,
    values_of,
)

# Microseconds kept, and an offset other than UTC: both must survive the round trip.
AT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
ELSEWHERE = timezone(timedelta(hours=5, minutes=30))


def create_user() -> User:
    return User(id="usr_1", name="Ada", role=Role.SENIOR, created_at=AT)


def create_policy() -> EscalationPolicy:
    return EscalationPolicy(
        version=1,
        high_stakes_at=500.0,
        max_daily_decisions_per_reviewer=40,
        note="first",
        changed_by_id="usr_1",
        changed_at=AT,
        workflow_id="wf_1",
    )


def create_workflow() -> Workflow:
    return Workflow(
        id="wf_1",
        key="loans",
        name="Loans",
        kind=WorkflowKind.DRAFT,
        reviewer_role=ReviewerRole.EDITOR,
        actions=["approve", "decline"],
        score_label="Quality",
        created_at=AT,
        policy=create_policy(),
    )


def create_recommendation() -> Recommendation:
    return Recommendation(
        id="rec_1",
        workflow_id="wf_1",
        payload={"amount": 12.5, "nested": {"list": [1, "x", None]}},
        proposed_action="approve",
        confidence=0.61,
        created_at=AT,
        external_id="e-1",
        subject="Ada's loan",
        explanation=[{"feature": "amount", "weight": 0.3}],
        stakes=900.0,
        model_version="v3",
        draft=Draft("Dear Ada", "Dear Ada, yes", 0.4, 0.7),
        tier=Tier.SENIOR_REVIEW,
        status=RecommendationStatus.CLAIMED,
        sampled_for_audit=True,
        version=4,
        claim=Claim("usr_1", AT, AT + timedelta(minutes=5)),
        flagged=True,
        confirm_until=AT + timedelta(minutes=1),
        sla_due_at=AT + timedelta(hours=4),
        sla_breached=True,
        final_action="decline",
        decided_at=AT + timedelta(seconds=30),
        canary=True,
        canary_of="rec_0",
    )


def create_decision() -> Decision:
    return Decision(
        id="dec_1",
        workflow_id="wf_1",
        recommendation_id="rec_1",
        verdict=Verdict.OVERRIDE,
        automated=False,
        actor_id="usr_1",
        proposed_action="approve",
        final_action="decline",
        confidence=0.61,
        tier=Tier.SENIOR_REVIEW,
        policy_version=1,
        created_at=AT,
        reason="income unverified",
        reason_tags=["income"],
        edited_content=None,
        dwell_ms=4200,
        reverts_id=None,
        seq=1,
        prev_hash="0" * 64,
        audit_hash="a" * 64,
    )


async def write(database: Database, *rows: Any) -> None:
    async with database.write_sessions()() as session:
        for row in rows:
            await session.execute(sa.insert(type(row)).values(values_of(row)))
        await session.commit()


async def read(database: Database, row_class: type[Any], *where: Any) -> Any:
    async with database.read_sessions()() as session:
        return await load_first(session, sa.select(row_class).where(*where))


async def write_parents(database: Database) -> None:
    await write(
        database,
        UserRow.of(create_user(), "hash-1"),
        WorkflowRow.of(create_workflow()),
        PolicyRow.of("wf_1", create_policy()),
        RecommendationRow.of(create_recommendation(), policy_version=1),
    )


async def test_users_workflows_and_policies_read_back_as_written(database: Database) -> None:
    await write_parents(database)
    user = await read(database, UserRow)
    workflow = await read(database, WorkflowRow)
    policy = await read(database, PolicyRow)
    assert user.to_domain() == create_user()
    assert workflow.to_domain(policy.to_domain()) == create_workflow()
    assert policy.to_domain().workflow_id == "wf_1"


async def test_an_item_reads_back_with_its_claim_draft_and_every_timestamp(
    database: Database,
) -> None:
    await write_parents(database)
    row = await read(database, RecommendationRow)
    item = row.to_domain()
    assert item == create_recommendation()
    assert row.due_sort == item.sla_due_at
    assert item.claim is not None and item.claim.expires_at.tzinfo is UTC
    assert isinstance(item.tier, Tier) and isinstance(item.status, RecommendationStatus)


async def test_an_unclaimed_item_without_a_draft_or_sla_reads_back_as_such(
    database: Database,
) -> None:
    await write_parents(database)
    bare = Recommendation(
        id="rec_2", workflow_id="wf_1", payload={}, proposed_action="approve",
        confidence=0.9, created_at=AT,
    )  # fmt: skip
    await write(database, RecommendationRow.of(bare, policy_version=1))
    row = await read(database, RecommendationRow, recs_t.c.id == "rec_2")
    assert row.to_domain() == bare
    assert row.due_sort.year == 9999


async def test_the_log_and_what_it_holds_read_back_as_written(database: Database) -> None:
    await write_parents(database)
    decision = create_decision()
    override = Override(
        id="ovr_1", workflow_id="wf_1", recommendation_id="rec_1", decision_id="dec_1",
        proposed_action="approve", chosen_action="decline", confidence=0.61,
        reason="income unverified", reviewer_id="usr_1", created_at=AT, theme="income",
    )  # fmt: skip
    grant = ConfirmationGrant("t" * 64, "usr_1", "rec_1", 4, "approve", AT)
    revision = DraftRevision("Dear Ada, yes", 0.7, "usr_1", AT)
    await write(
        database,
        DecisionRow.of(decision),
        OverrideRow.of(override),
        ConfirmationGrantRow.of(grant),
        DraftRevisionRow.of("rec_1", revision),
    )
    assert (await read(database, DecisionRow)).to_domain() == decision
    assert (await read(database, DecisionRow)).to_domain(undone=True).undone is True
    assert (await read(database, OverrideRow)).to_domain() == override
    assert (await read(database, ConfirmationGrantRow)).to_domain() == grant
    assert (await read(database, DraftRevisionRow)).to_domain() == revision


async def test_events_jobs_and_webhooks_read_back_as_written(database: Database) -> None:
    await write_parents(database)
    item = create_recommendation()
    event = QueueEvent(
        "evt_1", QueueEventKind.DECIDED, "wf_1", item, AT, "usr_1", "dec_1", "ANALYST_REVIEW"
    )
    job = Job(
        id="job_1", kind=JobKind.RETRAIN, created_at=AT, args={"workflow_id": "wf_1"},
        state=JobState.RUNNING, progress=0.5, message="half", result={"n": 1},
        started_at=AT, heartbeat_at=AT, attempts=2,
    )  # fmt: skip
    hook = Webhook("whk_1", "wf_1", "https://example.org/h", [QueueEventKind.DECIDED], True, AT)
    delivery = WebhookDelivery(
        "dlv_1", "whk_1", "evt_1", QueueEventKind.DECIDED, DeliveryStatus.PENDING, 0, AT,
        next_attempt_at=AT,
    )  # fmt: skip
    await write(
        database,
        EventRow.of(event),
        JobRow.of(job),
        WebhookRow.of(hook, "secret"),
        WebhookDeliveryRow.of(delivery),
    )
    stored = await read(database, EventRow)
    assert stored.seq is not None and stored.seq > 0
    read_back = stored.to_domain()
    assert read_back.recommendation == item
    assert (read_back.id, read_back.kind, read_back.previous_tier) == (
        "evt_1",
        QueueEventKind.DECIDED,
        "ANALYST_REVIEW",
    )
    assert stored.to_message().seq == stored.seq
    assert (await read(database, JobRow)).to_domain() == job
    webhook = await read(database, WebhookRow)
    assert (webhook.to_domain(), webhook.secret) == (hook, "secret")
    assert (await read(database, WebhookDeliveryRow)).to_domain() == delivery


async def test_learning_rows_read_back_as_written(database: Database) -> None:
    await write_parents(database)
    model = ModelVersion(
        id="mdl_1", workflow_id="wf_1", version=1, kind=ModelKind.CLASSIFIER,
        status=ModelStatus.CANDIDATE, features=["amount"], trained_on=120, created_at=AT,
        metrics=ModelMetrics(holdout_size=30, accuracy=0.8, baseline_accuracy=0.7),
        job_id="job_1", classes=["approve", "decline"],
    )  # fmt: skip
    artifact = ModelArtifact("tree text", {"columns": ["amount"]}, {"n_hash": 8})
    theme = ThemeSummary(
        "income", ["income", "unverified"], 3, 0.5, "decline", 0.75, ["amount > 10"],
        "income_verified", ["ovr_1"],
    )  # fmt: skip
    report = ThemeReport("thr_1", "wf_1", "MONTH", 6, [theme], AT)
    document = TrustedDocument("sha256:" + "b" * 64, "query { me { id } }", ("Me",), AT)
    await write(
        database,
        ModelVersionRow.of(model, artifact),
        ThemeReportRow.of(report),
        TrustedDocumentRow.of(document),
    )
    stored = await read(database, ModelVersionRow)
    assert stored.to_domain() == model
    assert stored.artifact() == artifact
    assert (await read(database, ThemeReportRow)).to_domain() == report
    assert (await read(database, TrustedDocumentRow)).to_domain() == document


async def test_a_timestamp_written_in_another_zone_reads_back_as_the_same_instant_in_utc(
    database: Database,
) -> None:
    user = User(id="usr_2", name="Grace", role=Role.ADMIN, created_at=AT.astimezone(ELSEWHERE))
    await write(database, UserRow.of(user, "hash-2"))
    stored = (await read(database, UserRow)).to_domain()
    assert stored.created_at == AT
    assert stored.created_at.tzinfo is UTC


async def test_an_enumerated_column_refuses_a_value_its_enumeration_lacks(
    database: Database,
) -> None:
    await write_parents(database)
    async with database.write_sessions()() as session:
        with pytest.raises(StatementError, match="CANCELLED"):
            await session.execute(
                sa.update(recs_t).where(recs_t.c.id == "rec_1").values(status="CANCELLED")
            )
    row = await read(database, RecommendationRow)
    assert row.status is RecommendationStatus.CLAIMED


async def test_a_row_read_again_after_an_update_in_the_same_session_is_fresh(
    database: Database,
) -> None:
    await write_parents(database)
    async with database.write_sessions()() as session:
        query = sa.select(RecommendationRow).where(recs_t.c.id == "rec_1")
        before = await load_first(session, query)
        assert before is not None and before.version == 4
        await session.execute(sa.update(recs_t).where(recs_t.c.id == "rec_1").values(version=5))
        after = await load_first(session, query)
        assert after is not None and after.to_domain().version == 5
        # Reading never writes: nothing loaded is pending in the session.
        assert not session.dirty and not session.new
        await session.rollback()


def _columns_written(rows: Sequence[Any]) -> set[str]:
    return {name for row in rows for name in values_of(row)}


def test_an_item_is_written_with_every_column_but_its_outcome() -> None:
    """Every column of an item comes from the domain object (the outcome is reported
    later, on its own), so a column added to the table and forgotten in `of` shows."""
    written = _columns_written([RecommendationRow.of(create_recommendation(), 1)])
    assert set(recs_t.c.keys()) - written == {"outcome_value", "outcome_at"}

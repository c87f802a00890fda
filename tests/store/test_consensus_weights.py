"""What the retraining job reads from a workflow whose items need several reviews, on SQLite
and PostgreSQL: each consensus is one label weighted by the Dawid-Skene probability that
it is right, an adjudicated dispute weighs 1, a dispute left open is no label; and a
workflow reviewed once per item gives every row the weight 1."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.agreement_report import consensus_weights
from ml.training_data import TrainingSet
from store.agreement_reads import AgreementReads
from store.learning import LearningReads
from store.queries import Reads
from tests.api.test_agreement import _vote
from tests.api.test_consensus import a_desk
from tests.factories import create_workflow, proposal, submit
from workers.retrain import stream_training_set

# Per item, the calls of ana, bob and cal in turn (A approves "A", B and C override, R
# rejects); "" where the item was decided before their turn.
CALLS = [
    ("A", "A", ""),  # reached: A
    ("A", "B", "A"),  # reached: A, with a dissent
    ("B", "B", ""),  # reached: B
    ("C", "A", "A"),  # reached: A, with a dissent
    ("A", "B", "R"),  # disputed, then adjudicated by the senior: C
    ("A", "B", "R"),  # disputed and left open: no label
]
ADJUDICATED, OPEN = 4, 5


async def _submitted(gql: Any, desk: dict[str, Any], key: str, n: int) -> list[str]:
    result = await submit(gql, desk["model"], key, *(proposal() for _ in range(n)))
    assert result["__typename"] == "SubmitSuccess", result
    return [r["id"] for r in result["recommendations"]]


async def _training(database: Any, key: str) -> tuple[TrainingSet, dict[str, float]]:
    async with database.read_engine.connect() as connection, AsyncSession(bind=connection) as s:
        workflow = await Reads(s).workflow_by_key(key)
        assert workflow is not None
        reads = LearningReads(s)
        training = await stream_training_set(reads, workflow.id, workflow.actions)
        weights = consensus_weights(await AgreementReads.over(reads).votes(workflow.id))
    return training, weights


async def test_consensus_labels_weigh_the_chance_they_are_right_and_open_disputes_none(
    gql, database
):
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=2)
    ids = await _submitted(gql, desk, desk["key"], len(CALLS))
    for item_id, calls in zip(ids, CALLS, strict=True):
        for token, call in zip(desk["reviewers"], calls, strict=True):
            if call:
                await _vote(gql, token, item_id, call)
    await _vote(gql, desk["senior"], ids[ADJUDICATED], "C")

    training, weights = await _training(database, desk["key"])

    reached = ids[:ADJUDICATED]
    assert set(weights) == set(reached)
    assert training.labels == ["A", "A", "B", "A", "C"]  # one label per settled item
    assert training.weights == [weights[i] for i in reached] + [1.0]
    assert all(0.0 < weights[i] < 1.0 for i in reached)
    assert weights[ids[2]] < weights[ids[0]]  # the model proposed A: B is less certain


async def test_a_workflow_reviewed_once_per_item_weighs_every_row_one(gql, database):
    desk = await a_desk(gql)
    once = await create_workflow(gql, desk["admin"])
    ids = await _submitted(gql, desk, once["key"], 3)
    for item_id, call in zip(ids, "ABA", strict=True):
        await _vote(gql, desk["reviewers"][0], item_id, call)

    training, weights = await _training(database, once["key"])

    assert weights == {}
    assert training.labels == ["A", "B", "A"]
    assert training.weights == [1.0, 1.0, 1.0]

"""The RETRAIN job: learn from the decision log, compare on a holdout, promote or reject.

Runs under arq or in-process; CPU-bound training goes to a thread. Progress
reaches job(id) and jobProgress: loading, featurising, training (per boosting
round), evaluating.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from domain.clock import utcnow
from domain.enums import Verdict, WorkflowKind
from domain.ids import new_id
from domain.jobs import Job
from domain.learning import (
    ModelEventKind,
    ModelKind,
    ModelStatus,
    label_for,
    promotion_verdict,
    scorer_promotion_verdict,
)
from domain.learning import ModelMetrics as DomainMetrics
from ml.classifier import InsufficientData, TrainingExample, TrainingSet, train_classifier
from ml.scorer import InsufficientOutcomes, OutcomeExample, train_scorer
from store.drafts import outcome_rows
from store.learning import LearningReadModel, SqlModels
from workers.execute import Report
from workers.learning_events import publish_model_event

T = TypeVar("T")

PROGRESS_EVERY = 0.5  # seconds between progress writes from the training thread


async def load_examples(runtime: Any, workflow_id: str) -> tuple[list[TrainingExample], list[str]]:
    """The workflow's labelled decisions, oldest first, and its actions (all in memory;
    the job itself streams them into a TrainingSet, see `load_training_set`)."""
    async with runtime.unit_of_work() as uow:
        workflow = await uow.workflows.get(workflow_id)
    if workflow is None:
        raise LookupError(f"workflow {workflow_id} no longer exists")
    async with runtime.read_session() as session:
        rows = await LearningReadModel(session).learning_rows(workflow_id)
    examples = []
    for row in rows:
        label = label_for(
            Verdict(row.verdict), row.proposed_action, row.final_action, workflow.actions
        )
        if label is not None:
            examples.append(
                TrainingExample(
                    payload=dict(row.payload),
                    label=label,
                    decided_at=row.decided_at,
                    proposed_action=row.proposed_action,
                )
            )
    return examples, workflow.actions


async def load_training_set(
    runtime: Any, workflow_id: str, report: Callable[[int], Awaitable[None]] | None = None
) -> TrainingSet:
    """The workflow's labelled decisions, streamed from the database into a TrainingSet."""
    async with runtime.unit_of_work() as uow:
        workflow = await uow.workflows.get(workflow_id)
    if workflow is None:
        raise LookupError(f"workflow {workflow_id} no longer exists")
    async with runtime.read_session() as session:
        return await stream_training_set(session, workflow_id, workflow.actions, report)


async def stream_training_set(
    session: Any,
    workflow_id: str,
    actions: list[str],
    report: Callable[[int], Awaitable[None]] | None = None,
) -> TrainingSet:
    """Read the labelled decisions batch by batch (`stream_learning_rows`) and featurise
    each batch in a thread while the next one is read, so that neither the rows nor their
    payload dicts are ever all in memory. `report(rows_so_far)` after each batch."""
    training = TrainingSet()
    verdicts = {v.value: v for v in Verdict}
    approve = Verdict.APPROVE.value
    same: dict[str, str] = {}  # one string object per action, not one per row
    pending: asyncio.Future[None] | None = None
    loaded = 0
    try:
        async for rows in LearningReadModel(session).stream_learning_rows(workflow_id):
            payloads, labels, decided, proposed = [], [], [], []
            for payload, proposal, verdict, final, decided_at in rows:
                label = (
                    proposal  # label_for's answer for an approval, the common case
                    if verdict == approve
                    else label_for(verdicts[verdict], proposal, final, actions)
                )
                if label is not None:
                    payloads.append(payload)
                    labels.append(same.setdefault(label, label))
                    decided.append(decided_at)
                    proposed.append(same.setdefault(proposal, proposal))
            del rows
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(
                asyncio.to_thread(training.add_rows, payloads, labels, decided, proposed)
            )
            loaded += len(labels)
            if report is not None:
                await report(loaded)
        if pending is not None:
            await pending
    finally:
        if pending is not None and not pending.done():  # an error: let the thread finish
            await asyncio.gather(pending, return_exceptions=True)
    return training


class _ThreadProgress:
    """A progress callback safe to call from the training thread (throttled), mapping the
    trainer's 0..1 onto this job's [low, high].

    Its reports are written one at a time, in the order the thread made them, and
    `flush()` returns once every one is written: a training step never arrives after,
    or overwrites, what the job reports next."""

    def __init__(self, report: Report, low: float, high: float) -> None:
        self.report = report
        self.low = low
        self.high = high
        self.loop = asyncio.get_running_loop()
        self.steps: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
        self.sender = asyncio.create_task(self._send())
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        scaled = self.low + (self.high - self.low) * max(0.0, min(1.0, fraction))
        self.loop.call_soon_threadsafe(self.steps.put_nowait, (scaled, message))

    async def _send(self) -> None:
        while (step := await self.steps.get()) is not None:
            # A progress write that fails does not stop the training (the job's own
            # writes will say what is wrong with the database).
            with contextlib.suppress(Exception):
                await self.report(*step)

    async def flush(self) -> None:
        self.steps.put_nowait(None)
        await self.sender


async def _train_in_thread(
    train: Callable[..., T], examples: Any, report: Report, low: float, high: float, threads: int
) -> T:
    """`train(examples)` in a worker thread, its progress reported onto [low, high] in order."""
    progress = _ThreadProgress(report, low, high)
    try:
        return await asyncio.to_thread(train, examples, progress=progress, num_threads=threads)
    finally:
        await progress.flush()


async def run_retraining(runtime: Any, job: Job, report: Report) -> dict[str, Any]:
    """Retrain the classifier and, for DRAFT workflows, the draft scorer. Whatever has
    too little data is skipped with the reason; the job fails only if nothing trained."""
    workflow_id = job.args["workflow_id"]
    async with runtime.unit_of_work() as uow:
        workflow = await uow.workflows.get(workflow_id)
    if workflow is None:
        raise LookupError(f"workflow {workflow_id} no longer exists")
    drafts = workflow.kind is WorkflowKind.DRAFT
    result: dict[str, Any] = {}
    skipped: list[str] = []
    try:
        result["classifier"] = await _retrain_classifier(
            runtime, job, report, workflow_id, 0.0, 0.55 if drafts else 0.95
        )
    except InsufficientData as error:
        skipped.append(f"classifier: {error}")
    if drafts:
        try:
            result["scorer"] = await _retrain_scorer(runtime, job, report, workflow_id, 0.55, 0.95)
        except InsufficientOutcomes as error:
            skipped.append(f"draft scorer: {error}")
    if not result:
        raise InsufficientData("; ".join(skipped))
    messages = [part["message"] for part in result.values()] + skipped
    message = "; ".join(messages)
    await report(1.0, message)
    return {**result, **result.get("classifier", {}), "message": message}


async def _retrain_classifier(
    runtime: Any, job: Job, report: Report, workflow_id: str, low: float, high: float
) -> dict[str, Any]:
    await report(low + 0.01, "loading labelled decisions")
    last = [time.monotonic()]

    async def loaded(count: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            await report(low + 0.03, f"loading and featurising labelled decisions: {count}")

    examples = await load_training_set(runtime, workflow_id, loaded)
    await report(low + 0.05, f"{len(examples)} labelled decisions loaded and featurised")
    trained = await _train_in_thread(
        train_classifier, examples, report, low + 0.05, high, runtime.options.training_threads
    )
    m = trained.metrics
    metrics = DomainMetrics(
        holdout_size=m.holdout_size,
        accuracy=m.accuracy,
        baseline_accuracy=m.baseline_accuracy,
        log_loss=m.log_loss,
        calibration_error=m.calibration_error,
    )
    promote, why = promotion_verdict(metrics, runtime.options.promotion_margin)
    stored = await _store_and_judge(
        runtime,
        job,
        workflow_id,
        ModelKind.CLASSIFIER,
        metrics,
        promote,
        why,
        features=trained.used_features,
        feature_spec=trained.spec.to_json(),
        classes=trained.classes,
        model_text=trained.model_text,
        calibration=trained.calibration,
        trained_on=trained.trained_on,
    )
    return {
        **stored,
        "trainedOn": trained.trained_on,
        "accuracy": m.accuracy,
        "baselineAccuracy": m.baseline_accuracy,
        "calibrationError": m.calibration_error,
    }


async def _retrain_scorer(
    runtime: Any, job: Job, report: Report, workflow_id: str, low: float, high: float
) -> dict[str, Any]:
    await report(low, "loading recorded outcomes")
    async with runtime.read_session() as session:
        rows = await outcome_rows(session, workflow_id)
    examples = [
        OutcomeExample(
            content=row.content or "",
            payload=dict(row.payload),
            value=float(row.value),
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]
    trained = await _train_in_thread(
        train_scorer, examples, report, low, high, runtime.options.training_threads
    )
    m = trained.metrics
    metrics = DomainMetrics(
        holdout_size=m.holdout_size,
        r2=m.r2,
        mean_absolute_error=m.mean_absolute_error,
        baseline_mean_absolute_error=m.baseline_mean_absolute_error,
    )
    promote, why = scorer_promotion_verdict(metrics, runtime.options.promotion_margin)
    stored = await _store_and_judge(
        runtime,
        job,
        workflow_id,
        ModelKind.SCORER,
        metrics,
        promote,
        why,
        features=trained.used_features,
        feature_spec=trained.spec.to_json(),
        classes=[],
        model_text=trained.model_text,
        calibration={"n_hash": trained.n_hash},
        trained_on=trained.trained_on,
    )
    return {**stored, "r2": m.r2, "meanAbsoluteError": m.mean_absolute_error}


async def _store_and_judge(
    runtime: Any,
    job: Job,
    workflow_id: str,
    kind: ModelKind,
    metrics: DomainMetrics,
    promote: bool,
    why: str,
    **values: Any,
) -> dict[str, Any]:
    """Store the candidate, announce it, then promote it or reject it with the reason."""
    model_id = new_id("mdl")
    async with runtime.unit_of_work() as uow:
        models = SqlModels(uow.session)
        version = await models.next_version(workflow_id)
        await models.add(
            {
                "id": model_id,
                "workflow_id": workflow_id,
                "version": version,
                "kind": kind.value,
                "status": ModelStatus.CANDIDATE.value,
                "metrics": metrics.__dict__,
                "job_id": job.id,
                "created_at": utcnow(),
                **values,
            }
        )
        await uow.commit()
    await publish_model_event(runtime, ModelEventKind.TRAINED, model_id, workflow_id)
    noun = "classifier" if kind is ModelKind.CLASSIFIER else "draft scorer"
    if promote:
        await runtime.run(_promote, model_id, workflow_id, kind)
        await publish_model_event(runtime, ModelEventKind.PROMOTED, model_id, workflow_id)
        message = f"{noun} v{version} promoted: {why}"
    else:
        async with runtime.unit_of_work() as uow:
            await SqlModels(uow.session).set_status(model_id, ModelStatus.REJECTED, why)
            await uow.commit()
        await publish_model_event(runtime, ModelEventKind.REJECTED, model_id, workflow_id)
        message = f"{noun} v{version} {why}"
    return {"model": model_id, "version": version, "promoted": promote, "message": message}


async def _promote(
    uow: Any, model_id: str, workflow_id: str, kind: ModelKind = ModelKind.CLASSIFIER
) -> None:
    """One unit of work: retire the ACTIVE model of this kind, activate this one."""
    models = SqlModels(uow.session)
    if not await models.promote(model_id, workflow_id, kind, utcnow()):
        raise RuntimeError(f"model {model_id} is no longer a candidate")
    await uow.commit()

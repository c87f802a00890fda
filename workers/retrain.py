"""The RETRAIN job: learn from the decision log, compare on a holdout, promote or reject.

Runs under arq or in-process; CPU-bound training goes to a thread. Progress
reaches job(id) and jobProgress: loading, featurising, training (per boosting
round), evaluating.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from domain.agreement_report import consensus_weights
from domain.clock import utcnow
from domain.enums import Verdict, WorkflowKind
from domain.ids import new_id
from domain.jobs import Job
from domain.learning import (
    ModelArtifact,
    ModelEventKind,
    ModelKind,
    ModelStatus,
    ModelVersion,
    label_for,
    promotion_verdict,
    scorer_promotion_verdict,
)
from domain.learning import ModelMetrics as DomainMetrics
from domain.model import Workflow
from domain.ports import UnitOfWork
from ml.classifier import InsufficientData, TrainedClassifier, TrainingSet, train_classifier
from ml.scorer import InsufficientOutcomes, OutcomeExample, TrainedScorer, train_scorer
from store.agreement_reads import AgreementReads
from store.learning import LearningReads
from workers.job_runtime import JobResult, JobRuntime, Report
from workers.learning_events import publish_model_event

T = TypeVar("T")

PROGRESS_EVERY = 0.5  # seconds between progress writes from the training thread


async def load_training_set(
    runtime: JobRuntime, workflow: Workflow, report: Callable[[int], Awaitable[None]] | None = None
) -> TrainingSet:
    """The workflow's labelled decisions, streamed from a read session into a TrainingSet."""
    async with runtime.job_reads() as reads:
        return await stream_training_set(reads.learning, workflow.id, workflow.actions, report)


async def stream_training_set(
    reads: LearningReads,
    workflow_id: str,
    actions: list[str],
    report: Callable[[int], Awaitable[None]] | None = None,
) -> TrainingSet:
    """Read the labelled decisions batch by batch (`stream_learning_rows`) and featurise
    each batch in a thread while the next one is read, so that neither the rows nor their
    payload dicts are ever all in memory. `report(rows_so_far)` after each batch.

    An item decided by a consensus of several reviews weighs the estimated probability
    that the consensus is right (one Dawid-Skene fit over the workflow's votes, read
    first); every other row weighs 1, so that a workflow reviewed once per item trains
    exactly as it did before there were votes."""
    weights = consensus_weights(await AgreementReads.over(reads).votes(workflow_id))
    training = TrainingSet()
    verdicts = {v.value: v for v in Verdict}
    approve = Verdict.APPROVE.value
    same: dict[str, str] = {}  # one string object per action, not one per row
    pending: asyncio.Future[None] | None = None
    loaded = 0
    try:
        async for rows in reads.stream_learning_rows(workflow_id):
            payloads, labels, decided, proposed, weighed = [], [], [], [], []
            for payload, proposal, verdict, final, decided_at, item in rows:
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
                    weighed.append(weights.get(item, 1.0))
            del rows
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(
                asyncio.to_thread(training.add_rows, payloads, labels, decided, proposed, weighed)
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
    train: Callable[..., T],
    examples: TrainingSet | Sequence[OutcomeExample],
    report: Report,
    low: float,
    high: float,
    threads: int,
) -> T:
    """`train(examples)` in a worker thread, its progress reported onto [low, high] in order."""
    progress = _ThreadProgress(report, low, high)
    try:
        return await asyncio.to_thread(train, examples, progress=progress, num_threads=threads)
    finally:
        await progress.flush()


async def run_retraining(runtime: JobRuntime, job: Job, report: Report) -> JobResult:
    """Retrain the classifier and, for DRAFT workflows, the draft scorer. Whatever has
    too little data is skipped with the reason; the job fails only if nothing trained.

    Each model trained is stored, and promoted or rejected, in one transaction: at most
    two commits per job (a DRAFT workflow's classifier and scorer), and none at all
    while reading or training."""
    workflow_id = job.args["workflow_id"]
    async with runtime.job_reads() as reads:
        workflow = await reads.workflows.get(workflow_id)
    if workflow is None:
        raise LookupError(f"workflow {workflow_id} no longer exists")
    drafts = workflow.kind is WorkflowKind.DRAFT
    result: JobResult = {}
    skipped: list[str] = []
    try:
        result["classifier"] = await _retrain_classifier(
            runtime, job, report, workflow, 0.0, 0.55 if drafts else 0.95
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
    runtime: JobRuntime, job: Job, report: Report, workflow: Workflow, low: float, high: float
) -> JobResult:
    await report(low + 0.01, "loading labelled decisions")
    last = [time.monotonic()]

    async def loaded(count: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            await report(low + 0.03, f"loading and featurising labelled decisions: {count}")

    examples = await load_training_set(runtime, workflow, loaded)
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
        evaluated_on=m.evaluated_on,
    )
    promote, why = promotion_verdict(metrics, runtime.options.promotion_margin)
    stored = await _store_and_judge(
        runtime,
        _candidate(job, workflow.id, ModelKind.CLASSIFIER, metrics, trained, trained.classes),
        ModelArtifact(trained.model_text, trained.spec.to_json(), trained.calibration),
        promote,
        why,
    )
    return {
        **stored,
        "trainedOn": trained.trained_on,
        "evaluatedOn": m.evaluated_on,
        "accuracy": m.accuracy,
        "baselineAccuracy": m.baseline_accuracy,
        "calibrationError": m.calibration_error,
    }


async def _retrain_scorer(
    runtime: JobRuntime, job: Job, report: Report, workflow_id: str, low: float, high: float
) -> JobResult:
    await report(low, "loading recorded outcomes")
    async with runtime.job_reads() as reads:
        outcomes = await reads.outcomes(workflow_id)
    examples = [
        OutcomeExample(
            content=outcome.content or "",
            payload=dict(outcome.payload),
            value=float(outcome.value),
            recorded_at=outcome.recorded_at,
        )
        for outcome in outcomes
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
        _candidate(job, workflow_id, ModelKind.SCORER, metrics, trained, classes=[]),
        ModelArtifact(trained.model_text, trained.spec.to_json(), {"n_hash": trained.n_hash}),
        promote,
        why,
    )
    return {**stored, "r2": m.r2, "meanAbsoluteError": m.mean_absolute_error}


def _candidate(
    job: Job,
    workflow_id: str,
    kind: ModelKind,
    metrics: DomainMetrics,
    trained: TrainedClassifier | TrainedScorer,
    classes: list[str],
) -> ModelVersion:
    """A newly trained model; its version number is given when it is stored."""
    return ModelVersion(
        id=new_id("mdl"),
        workflow_id=workflow_id,
        version=0,
        kind=kind,
        status=ModelStatus.CANDIDATE,
        features=trained.used_features,
        trained_on=trained.trained_on,
        created_at=utcnow(),
        metrics=metrics,
        job_id=job.id,
        classes=classes,
    )


async def _store_and_judge(
    runtime: JobRuntime,
    model: ModelVersion,
    artifact: ModelArtifact,
    promote: bool,
    why: str,
) -> JobResult:
    """Store the candidate and promote it, or reject it with the reason, in one
    transaction; then announce it (TRAINED) and what became of it."""
    if not promote:
        model.status, model.message = ModelStatus.REJECTED, why
    version = await runtime.run(_store_model, model, artifact, promote)
    await publish_model_event(runtime, ModelEventKind.TRAINED, model.id, model.workflow_id)
    noun = "classifier" if model.kind is ModelKind.CLASSIFIER else "draft scorer"
    if promote:
        await publish_model_event(runtime, ModelEventKind.PROMOTED, model.id, model.workflow_id)
        message = f"{noun} v{version} promoted: {why}"
    else:
        await publish_model_event(runtime, ModelEventKind.REJECTED, model.id, model.workflow_id)
        message = f"{noun} v{version} {why}"
    return {"model": model.id, "version": version, "promoted": promote, "message": message}


async def _store_model(
    uow: UnitOfWork, model: ModelVersion, artifact: ModelArtifact, promote: bool
) -> int:
    """One unit of work: store the model under the workflow's next version number and, if
    it is to be promoted, make it the ACTIVE one of its kind. Returns its version."""
    model.version = await uow.models.next_version(model.workflow_id)
    await uow.models.add(model, artifact)
    if promote:
        await _promote(uow, model.id, model.workflow_id, model.kind)
    else:
        await uow.commit()
    return model.version


async def _promote(
    uow: UnitOfWork, model_id: str, workflow_id: str, kind: ModelKind = ModelKind.CLASSIFIER
) -> None:
    """One unit of work: retire the ACTIVE model of this kind, activate this one."""
    if not await uow.models.promote(model_id, workflow_id, kind, utcnow()):
        raise RuntimeError(f"model {model_id} is no longer a candidate")
    await uow.commit()

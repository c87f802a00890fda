"""The RETRAIN job: learn from the decision log, compare on a holdout, promote or reject.

Runs under arq or in-process; CPU-bound training goes to a thread. Progress
reaches job(id) and jobProgress: loading, featurising, training (per boosting
round), evaluating.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ml.classifier import TrainingExample, train_classifier

from domain.clock import utcnow
from domain.enums import Verdict
from domain.ids import new_id
from domain.jobs import Job
from domain.learning import ModelEventKind, ModelKind, ModelStatus, label_for, promotion_verdict
from domain.learning import ModelMetrics as DomainMetrics
from store.learning import LearningReadModel, SqlModels
from workers.execute import Report
from workers.learning_events import publish_model_event

PROGRESS_EVERY = 0.5  # seconds between progress writes from the training thread


async def load_examples(runtime: Any, workflow_id: str) -> tuple[list[TrainingExample], list[str]]:
    """The workflow's labelled decisions, oldest first, and its actions."""
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


def _thread_progress(report: Report, loop: asyncio.AbstractEventLoop) -> Any:
    """A progress callback safe to call from the training thread (throttled)."""
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        scaled = 0.05 + 0.85 * max(0.0, min(1.0, fraction))

        async def send() -> None:
            await report(scaled, message)

        asyncio.run_coroutine_threadsafe(send(), loop)

    return progress


async def run_retraining(runtime: Any, job: Job, report: Report) -> dict[str, Any]:
    workflow_id = job.args["workflow_id"]
    await report(0.01, "loading labelled decisions")
    examples, _ = await load_examples(runtime, workflow_id)
    await report(0.05, f"featurising {len(examples)} labelled decisions")
    loop = asyncio.get_running_loop()
    trained = await asyncio.to_thread(
        train_classifier,
        examples,
        progress=_thread_progress(report, loop),
        num_threads=runtime.options.training_threads,
    )
    await report(0.92, "storing the candidate")
    m = trained.metrics
    metrics = DomainMetrics(
        holdout_size=m.holdout_size,
        accuracy=m.accuracy,
        baseline_accuracy=m.baseline_accuracy,
        log_loss=m.log_loss,
        calibration_error=m.calibration_error,
    )
    model_id = new_id("mdl")
    async with runtime.unit_of_work() as uow:
        models = SqlModels(uow.session)
        version = await models.next_version(workflow_id)
        await models.add(
            {
                "id": model_id,
                "workflow_id": workflow_id,
                "version": version,
                "kind": ModelKind.CLASSIFIER.value,
                "status": ModelStatus.CANDIDATE.value,
                "features": trained.used_features,
                "feature_spec": trained.spec.to_json(),
                "classes": trained.classes,
                "model_text": trained.model_text,
                "calibration": trained.calibration,
                "metrics": metrics.__dict__,
                "trained_on": trained.trained_on,
                "job_id": job.id,
                "created_at": utcnow(),
            }
        )
        await uow.commit()
    await publish_model_event(runtime, ModelEventKind.TRAINED, model_id, workflow_id)
    promote, why = promotion_verdict(metrics, runtime.options.promotion_margin)
    if promote:
        await runtime.run(_promote, model_id, workflow_id)
        await publish_model_event(runtime, ModelEventKind.PROMOTED, model_id, workflow_id)
        message = f"v{version} promoted: {why}"
    else:
        async with runtime.unit_of_work() as uow:
            await SqlModels(uow.session).set_status(model_id, ModelStatus.REJECTED, why)
            await uow.commit()
        await publish_model_event(runtime, ModelEventKind.REJECTED, model_id, workflow_id)
        message = f"v{version} {why}"
    await report(1.0, message)
    return {
        "model": model_id,
        "version": version,
        "promoted": promote,
        "trainedOn": trained.trained_on,
        "accuracy": m.accuracy,
        "baselineAccuracy": m.baseline_accuracy,
        "calibrationError": m.calibration_error,
        "message": message,
    }


async def _promote(uow: Any, model_id: str, workflow_id: str) -> None:
    """One unit of work: retire the ACTIVE classifier, activate this one."""
    models = SqlModels(uow.session)
    if not await models.promote(model_id, workflow_id, ModelKind.CLASSIFIER, utcnow()):
        raise RuntimeError(f"model {model_id} is no longer a candidate")
    await uow.commit()

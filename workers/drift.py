"""The drift monitor: part of every SLA sweep (embedded and under `arbiter worker`).

For each workflow with an ACTIVE classifier (the served model), it reads, per tier, the
human decisions on the model's own proposals (items it scored through submitCases,
labelled "v<version>") since its promotion, tests each tier's latest look at them
(domain.drift: a look every window of decisions, the false-alarm rate spent over the
looks), records the episodes, and announces each alarm newly raised as a DRIFT model
event with its message.
Workflows without an active classifier are not watched: their proposals' modelVersion
is the upstream service's free text, with no promotion to measure a baseline from.
"""

from __future__ import annotations

import logging
from datetime import datetime

from domain.drift import DriftAlarm, TierWindows, latest_look, windows_at
from domain.enums import Tier
from domain.learning import ModelEventKind, ModelKind, ModelVersion
from domain.usecases.drift import record_drift
from store.drift import DriftReads
from workers.job_runtime import JobRuntime
from workers.learning_events import publish_model_event

log = logging.getLogger("arbiter.drift")


async def tier_windows(
    reads: DriftReads, model: ModelVersion, since: datetime, window: int
) -> dict[Tier, TierWindows]:
    """Each tier's latest look (domain.drift.latest_look), for the tiers with one."""
    found = {}
    for tier in Tier:
        args = (model.workflow_id, model.label, since, tier)
        look = latest_look(await reads.reviewed_count(*args), window)
        if look is None:
            continue
        baseline = await reads.reviewed_proposals(*args, look.baseline)
        recent = await reads.reviewed_proposals(*args, look.recent, offset=look.recent_from)
        windows = windows_at(look, baseline, recent)
        if windows is not None:
            found[tier] = windows
    return found


async def watch_drift(runtime: JobRuntime, now: datetime) -> list[DriftAlarm]:
    """Check every served model once; the alarms raised (each announced on the bus)."""
    options = runtime.options
    async with runtime.job_reads() as reads:
        workflow_ids = [workflow_id for workflow_id, _ in await reads.workflow_starts()]
    raised: list[DriftAlarm] = []
    for workflow_id in workflow_ids:
        async with runtime.job_reads() as reads:
            model = await reads.models.active(workflow_id, ModelKind.CLASSIFIER)
            if model is None or model.promoted_at is None:
                continue
            windows = await tier_windows(
                reads.drift, model, model.promoted_at, options.drift_window
            )
        if not windows:
            continue  # nothing to test: nothing can be raised, and episodes stand
        alarms = await runtime.run(
            record_drift, workflow_id, model.id, windows, now, options.drift_false_alarm_rate
        )
        for alarm in alarms:
            log.warning("drift on workflow %s: %s", workflow_id, alarm.message)
            await publish_model_event(
                runtime, ModelEventKind.DRIFT, model.id, workflow_id, alarm.message, alarm.id
            )
        raised += alarms
    return raised

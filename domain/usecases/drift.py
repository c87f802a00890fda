"""Recording a drift check: open the episodes whose tests fire, end those back in bounds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.drift import DEFAULT_FALSE_ALARM_RATE, DriftAlarm, TierWindows, check_drift
from domain.enums import Tier
from domain.ports import UnitOfWork


async def record_drift(
    uow: UnitOfWork,
    workflow_id: str,
    model_id: str,
    windows: Mapping[Tier, TierWindows],
    now: datetime,
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
) -> list[DriftAlarm]:
    """Check the served model's windows against the workflow's open episodes and commit;
    the alarms newly raised, to announce. Two replicas checking at once open an episode
    once: the second's insert conflicts, and on retry it finds the episode open."""
    open_alarms = await uow.drift_alarms.open_of(workflow_id)
    check = check_drift(workflow_id, model_id, windows, open_alarms, now, false_alarm_rate)
    await uow.drift_alarms.clear(check.cleared)
    await uow.drift_alarms.add(check.raised)
    await uow.commit()
    return check.raised

"""The SLA sweep: overdue items escalate, breaches are marked, lapsed leases freed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import outbox
from domain.events import QueueEvent, QueueEventKind
from domain.model import Workflow
from domain.ports import UnitOfWork

BATCH = 500


@dataclass
class SweepResult:
    escalated: int = 0
    breached: int = 0
    released: int = 0
    examined: int = 0

    def add(self, other: SweepResult) -> None:
        self.escalated += other.escalated
        self.breached += other.breached
        self.released += other.released
        self.examined += other.examined


async def sweep_sla(uow: UnitOfWork, now: datetime, limit: int = BATCH) -> SweepResult:
    """One batch. Safe beside other sweepers: every change is a compare-and-swap, so
    an item another sweeper changed first is left alone, and nothing happens twice."""
    result = SweepResult()
    items = await uow.recommendations.due_for_sweep(now, limit)
    result.examined = len(items)
    workflows: dict[str, Workflow] = {}
    events: list[QueueEvent] = []
    for item in items:
        if item.workflow_id not in workflows:
            found = await uow.workflows.get(item.workflow_id)
            assert found is not None
            workflows[item.workflow_id] = found
        expected_version, expected_status = item.version, item.status
        tier_before = item.tier
        was_senior = tier_before.value == "SENIOR_REVIEW"
        kinds = item.sweep(workflows[item.workflow_id].policy, now)
        if item.version == expected_version:
            continue
        if not await uow.recommendations.save(item, expected_version, expected_status):
            continue  # another sweeper or a reviewer got there first
        for kind in kinds:
            if kind == "RELEASED":
                result.released += 1
            elif was_senior:
                result.breached += 1
            else:
                result.escalated += 1
            moved = tier_before if item.tier is not tier_before else None
            events.append(
                QueueEvent.of(
                    QueueEventKind(kind), item, now, previous_tier=moved.value if moved else None
                )
            )
    await outbox.record(uow, events)
    await uow.commit()
    return result

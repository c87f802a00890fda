"""The outbox policy: canaries publish nothing; events fan out to the webhooks that want them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain import outbox
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import JobKind
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery
from tests.domain.builders import NOW, create_recommendation

ADDED, DECIDED = QueueEventKind.ADDED, QueueEventKind.DECIDED


def _hook(hook_id: str, *kinds: QueueEventKind, workflow_id: str = "wf_claims") -> Webhook:
    return Webhook(hook_id, workflow_id, "https://e.com", list(kinds), True, NOW)


def _event(kind: QueueEventKind, canary: bool = False) -> QueueEvent:
    item = replace(create_recommendation(), canary=canary)
    return QueueEvent.of(kind, item, NOW)


class FakeEvents:
    def __init__(self) -> None:
        self.added: list[QueueEvent] = []

    async def add(self, events: Any) -> None:
        self.added.extend(events)


class FakeWebhooks:
    def __init__(self, hooks: list[Webhook]) -> None:
        self.hooks = hooks
        self.asked: list[set[str]] = []
        self.deliveries: list[WebhookDelivery] = []

    async def active_of(self, workflow_ids: Any) -> list[Webhook]:
        self.asked.append(set(workflow_ids))
        return [h for h in self.hooks if h.workflow_id in workflow_ids and h.active]

    async def add_deliveries(self, deliveries: Any) -> None:
        self.deliveries.extend(deliveries)


class FakeJobs:
    def __init__(self) -> None:
        self.added: list[Any] = []

    async def add_many(self, jobs: Any) -> None:
        self.added.extend(jobs)


class FakeUnitOfWork:
    def __init__(self, hooks: list[Webhook]) -> None:
        self.events = FakeEvents()
        self.webhooks = FakeWebhooks(hooks)
        self.jobs = FakeJobs()


def test_each_event_goes_to_each_webhook_of_its_workflow_that_wants_its_kind():
    events = [_event(ADDED), _event(DECIDED)]
    hooks = [
        _hook("whk_all", ADDED, DECIDED),
        _hook("whk_decided", DECIDED),
        _hook("whk_elsewhere", ADDED, DECIDED, workflow_id="wf_other"),
        replace(_hook("whk_off", ADDED), active=False),
    ]

    deliveries = outbox.deliveries_for(events, hooks)

    assert [(d.event_id, d.webhook_id, d.event_kind) for d in deliveries] == [
        (events[0].id, "whk_all", ADDED),
        (events[1].id, "whk_all", DECIDED),
        (events[1].id, "whk_decided", DECIDED),
    ]
    assert {(d.status, d.attempts, d.created_at, d.next_attempt_at) for d in deliveries} == {
        (DeliveryStatus.PENDING, 0, NOW, NOW)
    }
    assert len({d.id for d in deliveries}) == 3
    assert outbox.deliveries_for([], hooks) == []


async def test_recording_stores_the_events_their_deliveries_and_a_job_for_each():
    uow: Any = FakeUnitOfWork([_hook("whk_1", DECIDED)])
    events = [_event(ADDED), _event(DECIDED)]

    await outbox.record(uow, events)

    assert uow.events.added == events
    assert uow.webhooks.asked == [{"wf_claims"}]
    (delivery,) = uow.webhooks.deliveries
    assert delivery.event_id == events[1].id
    (job,) = uow.jobs.added
    assert (job.kind, job.args, job.created_at) == (
        JobKind.WEBHOOK_DELIVERY,
        {"delivery_id": delivery.id},
        NOW,
    )


async def test_canaries_publish_nothing():
    uow: Any = FakeUnitOfWork([_hook("whk_1", ADDED, DECIDED)])

    await outbox.record(uow, [_event(DECIDED, canary=True)])

    assert (uow.events.added, uow.webhooks.asked, uow.jobs.added) == ([], [], [])
    real = _event(ADDED)
    await outbox.record(uow, [_event(ADDED, canary=True), real])
    assert uow.events.added == [real] and len(uow.jobs.added) == 1


async def test_without_a_webhook_that_wants_them_events_are_only_stored():
    uow: Any = FakeUnitOfWork([_hook("whk_1", DECIDED)])

    await outbox.record(uow, [_event(ADDED)])

    assert len(uow.events.added) == 1
    assert (uow.webhooks.deliveries, uow.jobs.added) == ([], [])

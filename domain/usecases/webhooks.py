"""Webhooks: ADMIN registers a URL for a workflow's event kinds, or removes it.

Deliveries themselves are not made here: recording queue events creates them,
with a WEBHOOK_DELIVERY job each, in the transaction of the change (see
domain.outbox), and the job POSTs them after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from domain.clock import utcnow
from domain.enums import Role
from domain.errors import InvalidInputError, NotFoundError
from domain.events import QueueEventKind
from domain.ids import new_id
from domain.model import User
from domain.ports import UnitOfWork
from domain.rights import require_role
from domain.usecases.accounts import record
from domain.usecases.workflows import get_workflow
from domain.webhooks import Webhook, validate_url

SECRET_BYTES = 32


def event_kinds(events: Iterable[QueueEventKind | str]) -> list[QueueEventKind]:
    """The subscribed kinds, each once, in the order given; at least one."""
    kinds: list[QueueEventKind] = []
    for event in events:
        try:
            kind = QueueEventKind(event)
        except ValueError as error:
            raise InvalidInputError(f"{event!r} is not a queue event kind", "events") from error
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise InvalidInputError("a webhook needs at least one event kind", "events")
    return kinds


async def create_webhook(
    uow: UnitOfWork,
    actor: User,
    workflow_key: str,
    url: str,
    events: Iterable[QueueEventKind | str],
) -> tuple[Webhook, str]:
    """Register `url` for these event kinds of the workflow. Returns the webhook and its
    signing secret, which is shown only this once."""
    require_role(actor.role, Role.ADMIN, doing="managing webhooks")
    clean_url = validate_url(url)
    kinds = event_kinds(events)
    workflow = await get_workflow(uow, workflow_key)
    hook = Webhook(
        id=new_id("whk"),
        workflow_id=workflow.id,
        url=clean_url,
        events=kinds,
        active=True,
        created_at=utcnow(),
    )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    await uow.webhooks.add(hook, secret)
    # The signing secret is never recorded: only where it goes and what it carries.
    details = {"workflow": workflow_key, "url": clean_url, "events": [k.value for k in kinds]}
    await record(uow, actor, "createWebhook", hook.id, details)
    await uow.commit()
    return hook, secret


async def delete_webhook(uow: UnitOfWork, actor: User, hook_id: str) -> Webhook:
    """Stop delivering to a webhook. New events create no deliveries for it; its pending
    ones end FAILED ("the webhook was deleted") when their jobs run. Its delivery
    record stays readable."""
    require_role(actor.role, Role.ADMIN, doing="managing webhooks")
    found = await uow.webhooks.get(hook_id)
    if found is None:
        raise NotFoundError(f"no webhook {hook_id!r}")
    hook, _ = found
    await uow.webhooks.delete(hook.id, utcnow())
    await record(uow, actor, "deleteWebhook", hook.id, {"url": hook.url})
    await uow.commit()
    hook.active = False
    return hook

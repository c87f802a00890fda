"""Delivering one webhook event: POST the signed JSON, record the attempt, retry with backoff.

Body: {"id", "kind", "workflow", "at", "recommendation", "decision"}, and for a
CHECKPOINT event "checkpoint": {"treeSize", "rootHash", "note", "signature"}. Headers:
X-Arbiter-Event-Id (the same in every attempt) and X-Arbiter-Signature
(sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>). Any
non-2xx answer or a timeout is retried after ARBITER_WEBHOOK_RETRY_SECONDS,
doubling, until ARBITER_WEBHOOK_MAX_ATTEMPTS attempts; then the delivery FAILED.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from domain.clock import utcnow
from domain.events import QueueEvent, QueueEventKind
from domain.jobs import Job
from domain.model import Decision, Recommendation
from domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery, next_attempt_after, sign
from store.log_tree import Checkpoint, checkpoint_event
from workers.job_runtime import JobResult, JobRuntime, Report, RetryLater

log = logging.getLogger("arbiter.webhooks")

USER_AGENT = "Arbiter-Webhooks/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def recommendation_json(item: Recommendation) -> dict[str, Any]:
    return {
        "id": item.id,
        "externalId": item.external_id,
        "subject": item.subject,
        "payload": item.payload,
        "proposedAction": item.proposed_action,
        "confidence": item.confidence,
        "stakes": item.stakes,
        "modelVersion": item.model_version,
        "tier": item.tier.value,
        "status": item.status.value,
        "finalAction": item.final_action,
        "draft": item.draft.content if item.draft else None,
        "version": item.version,
        "slaDueAt": _iso(item.sla_due_at),
        "slaBreached": item.sla_breached,
        "createdAt": _iso(item.created_at),
        "decidedAt": _iso(item.decided_at),
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "verdict": decision.verdict.value,
        "automated": decision.automated,
        "actorId": decision.actor_id,
        "proposedAction": decision.proposed_action,
        "finalAction": decision.final_action,
        "confidence": decision.confidence,
        "tier": decision.tier.value,
        "reason": decision.reason,
        "reasonTags": decision.reason_tags,
        "editedContent": decision.edited_content,
        "createdAt": _iso(decision.created_at),
        "auditHash": decision.audit_hash,
    }


def checkpoint_body(workflow_key: str, checkpoint: Checkpoint) -> tuple[str, bytes]:
    """A CHECKPOINT event's id and the exact bytes sent: the signed tree head, as
    logCheckpoint gives it, for a witness to keep."""
    body = {
        "id": checkpoint.event_id,
        "kind": QueueEventKind.CHECKPOINT.value,
        "workflow": workflow_key,
        "at": _iso(checkpoint.created_at),
        "recommendation": None,
        "decision": None,
        "checkpoint": {
            "treeSize": checkpoint.tree_size,
            "rootHash": checkpoint.root_hash.hex(),
            "note": checkpoint.note,
            "signature": checkpoint.signature,
        },
    }
    return checkpoint.event_id, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def event_body(event: QueueEvent, workflow_key: str, decision: Decision | None) -> bytes:
    """The exact bytes that are signed and sent."""
    body = {
        "id": event.id,
        "kind": event.kind.value,
        "workflow": workflow_key,
        "at": _iso(event.at),
        "recommendation": recommendation_json(event.recommendation),
        "decision": decision_json(decision) if decision is not None else None,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def deliver(runtime: JobRuntime, job: Job, report: Report) -> JobResult:
    delivery_id = job.args["delivery_id"]
    async with runtime.unit_of_work() as uow:
        delivery = await uow.webhooks.delivery(delivery_id)
        if delivery is None:
            return {"message": "the delivery no longer exists"}
        if delivery.status is not DeliveryStatus.PENDING:
            return {"message": f"already {delivery.status.value.lower()}"}
        hook = await uow.webhooks.get(delivery.webhook_id)
        checkpoint = None
        if delivery.event_kind is QueueEventKind.CHECKPOINT:
            assert uow.session is not None
            checkpoint = await checkpoint_event(uow.session, delivery.event_id)
        event = await uow.webhooks.event(delivery.event_id)
        decision = None
        workflow_key = ""
        if event is not None:
            workflow = await uow.workflows.get(event.workflow_id)
            workflow_key = workflow.key if workflow else ""
            if event.decision_id:
                decision = await uow.decisions.get(event.decision_id)
    if hook is not None and checkpoint is not None:
        return await _send(runtime, delivery, hook, *checkpoint_body(*checkpoint))
    if hook is None or event is None:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "the webhook was deleted"
        await _record(runtime, delivery, delivery.attempts)
        return {"message": delivery.last_error}
    return await _send(runtime, delivery, hook, event.id, event_body(event, workflow_key, decision))


async def _send(
    runtime: JobRuntime,
    delivery: WebhookDelivery,
    hook: tuple[Webhook, str],
    event_id: str,
    body: bytes,
) -> JobResult:
    """Make one attempt at delivering `body` and record it."""
    now = utcnow()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(
        seconds=0.5
    ):
        # A duplicate run of this job: the scheduled one will make the attempt.
        raise RetryLater(None, "waiting for the next attempt")
    webhook, secret = hook
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Arbiter-Event-Id": event_id,
        "X-Arbiter-Event-Kind": delivery.event_kind.value,
        "X-Arbiter-Delivery-Attempt": str(delivery.attempts + 1),
        "X-Arbiter-Signature": sign(secret, body),
    }
    error: str | None = None
    try:
        async with httpx.AsyncClient(timeout=runtime.options.webhook_timeout_seconds) as client:
            response = await client.post(webhook.url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    expected_attempts = delivery.attempts
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    if error is None:
        # last_error keeps the latest failed attempt's error (None when the first
        # attempt succeeded): with status DELIVERED it tells why it took retries.
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, delivery.last_attempt_at
        delivery.next_attempt_at = None
        await _record(runtime, delivery, expected_attempts)
        return {"message": f"delivered on attempt {delivery.attempts}"}
    delivery.last_error = error
    runtime.observe_webhook_failure()
    if delivery.attempts >= runtime.options.webhook_max_attempts:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        await _record(runtime, delivery, expected_attempts)
        return {"message": f"gave up after {delivery.attempts} attempts: {error}"}
    delay = next_attempt_after(
        delivery.attempts, timedelta(seconds=runtime.options.webhook_retry_seconds)
    )
    delivery.next_attempt_at = delivery.last_attempt_at + delay
    await _record(runtime, delivery, expected_attempts)
    raise RetryLater(
        delay.total_seconds(),
        f"attempt {delivery.attempts} failed ({error}); retrying in {delay.total_seconds():.0f}s",
        attempt=delivery.attempts,
    )


async def _record(runtime: JobRuntime, delivery: WebhookDelivery, expected_attempts: int) -> None:
    async with runtime.unit_of_work() as uow:
        if await uow.webhooks.save_delivery(delivery, expected_attempts):
            await uow.commit()
        else:
            log.info("delivery %s was recorded by another worker first", delivery.id)

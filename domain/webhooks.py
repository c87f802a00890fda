"""Webhooks: signed, retried, at-least-once deliveries of queue events to services."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain.errors import InvalidInputError
from domain.events import QueueEventKind

MAX_URL = 2_000


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass
class Webhook:
    id: str
    workflow_id: str
    url: str
    events: list[QueueEventKind]
    active: bool
    created_at: datetime

    def wants(self, kind: QueueEventKind) -> bool:
        return self.active and kind in self.events


@dataclass
class WebhookDelivery:
    id: str
    webhook_id: str
    event_id: str
    event_kind: QueueEventKind
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None


def validate_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > MAX_URL:
        raise InvalidInputError(f"url is longer than {MAX_URL} characters", "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError("url must be an absolute http or https URL", "url")
    return url


def sign(secret: str, body: bytes) -> str:
    """The X-Arbiter-Signature header value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


def next_attempt_after(attempts: int, first_retry: timedelta) -> timedelta:
    """Backoff after `attempts` failed attempts: first_retry, then doubling."""
    factor: int = 2 ** max(0, attempts - 1)
    return first_retry * factor

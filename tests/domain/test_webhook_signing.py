"""Webhook rules without a database: signatures, backoff, URLs, and the use cases' checks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import pytest

from domain.enums import Role
from domain.errors import ForbiddenError, InvalidInputError, NotFoundError
from domain.events import QueueEventKind
from domain.usecases.webhooks import create_webhook, delete_webhook, event_kinds
from domain.webhooks import Webhook, next_attempt_after, sign, validate_url, verify
from tests.domain.builders import create_user, create_workflow

BODY = b'{"id":"evt_1","kind":"DECIDED"}'


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    expected = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", BODY) == f"sha256={expected}"
    assert verify("s3cret", BODY, f"sha256={expected}")


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        ("other", BODY, sign("s3cret", BODY)),  # another secret
        ("s3cret", BODY + b" ", sign("s3cret", BODY)),  # the body changed by one byte
        ("s3cret", BODY, sign("s3cret", BODY).removeprefix("sha256=")),  # no scheme
        ("s3cret", BODY, ""),
    ],
)
def test_a_wrong_secret_body_or_header_does_not_verify(secret, body, signature):
    assert not verify(secret, body, signature)


def test_retries_wait_the_first_delay_then_double():
    first = timedelta(seconds=5)
    waits = [next_attempt_after(n, first).total_seconds() for n in range(1, 8)]
    assert waits == [5, 10, 20, 40, 80, 160, 320]


@pytest.mark.parametrize(
    "url", ["https://example.com/hook", "http://127.0.0.1:8080/x?y=1", "  https://a.b  "]
)
def test_absolute_http_urls_are_accepted(url):
    assert validate_url(url) == url.strip()


@pytest.mark.parametrize(
    "url", ["", "example.com/hook", "ftp://example.com", "https://", "javascript:alert(1)"]
)
def test_other_urls_are_refused_naming_the_url_field(url):
    with pytest.raises(InvalidInputError) as refused:
        validate_url(url)
    assert refused.value.field == "url"


def test_event_kinds_are_deduplicated_in_order_and_required():
    assert event_kinds(["DECIDED", QueueEventKind.ADDED, "DECIDED"]) == [
        QueueEventKind.DECIDED,
        QueueEventKind.ADDED,
    ]
    for bad in ([], ["NOPE"]):
        with pytest.raises(InvalidInputError) as refused:
            event_kinds(bad)
        assert refused.value.field == "events"


class FakeWorkflows:
    async def by_key(self, key: str) -> Any:
        return create_workflow() if key == "claims" else None


class FakeWebhooks:
    def __init__(self) -> None:
        self.stored: dict[str, tuple[Webhook, str]] = {}
        self.deleted: set[str] = set()

    async def add(self, hook: Webhook, secret: str) -> None:
        self.stored[hook.id] = (hook, secret)

    async def get(self, hook_id: str) -> tuple[Webhook, str] | None:
        return None if hook_id in self.deleted else self.stored.get(hook_id)

    async def delete(self, hook_id: str, now: Any) -> None:
        self.deleted.add(hook_id)


class FakeAdminActions:
    def __init__(self) -> None:
        self.recorded: list[Any] = []

    async def add(self, action: Any) -> None:
        self.recorded.append(action)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.workflows = FakeWorkflows()
        self.webhooks = FakeWebhooks()
        self.admin_actions = FakeAdminActions()
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1


async def test_an_admin_creates_a_webhook_with_a_fresh_secret_and_deletes_it_once():
    uow: Any = FakeUnitOfWork()
    admin = create_user(Role.ADMIN)
    hook, secret = await create_webhook(
        uow, admin, "claims", " https://example.com/h ", ["DECIDED", "DECIDED"]
    )
    assert hook.id.startswith("whk_")
    assert (hook.workflow_id, hook.url, hook.events, hook.active) == (
        "wf_claims",
        "https://example.com/h",
        [QueueEventKind.DECIDED],
        True,
    )
    assert hook.created_at.tzinfo is not None
    assert len(secret) >= 40 and uow.webhooks.stored[hook.id] == (hook, secret)
    assert [a.action for a in uow.admin_actions.recorded] == ["createWebhook"]
    assert secret not in repr(uow.admin_actions.recorded)
    _, another = await create_webhook(uow, admin, "claims", "https://example.com/h", ["ADDED"])
    assert another != secret
    assert uow.commits == 2

    removed = await delete_webhook(uow, admin, hook.id)
    assert (removed.id, removed.active) == (hook.id, False)
    assert uow.commits == 3
    with pytest.raises(NotFoundError):
        await delete_webhook(uow, admin, hook.id)
    with pytest.raises(NotFoundError):
        await delete_webhook(uow, admin, "whk_unknown")
    assert uow.commits == 3


@pytest.mark.parametrize("role", [Role.SERVICE, Role.ANALYST, Role.SENIOR])
async def test_only_admins_manage_webhooks(role):
    uow: Any = FakeUnitOfWork()
    with pytest.raises(ForbiddenError):
        await create_webhook(uow, create_user(role), "claims", "https://e.com", ["ADDED"])
    with pytest.raises(ForbiddenError):
        await delete_webhook(uow, create_user(role), "whk_1")
    assert uow.commits == 0


async def test_an_unknown_workflow_is_not_found():
    uow: Any = FakeUnitOfWork()
    with pytest.raises(NotFoundError):
        await create_webhook(uow, create_user(Role.ADMIN), "nope", "https://e.com", ["ADDED"])

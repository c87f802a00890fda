"""Typed domain errors. The API maps each one to a member of a result union."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """The thing asked for does not exist, or the caller may not see it."""


class ForbiddenError(DomainError):
    """The caller's role may not do this."""


class InvalidInputError(DomainError):
    """The input breaks a rule; `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(DomainError):
    """The state changed under the caller: already decided, held by someone else, stale version."""

    def __init__(
        self,
        message: str,
        current_status: str | None = None,
        current_version: int | None = None,
    ) -> None:
        super().__init__(message)
        self.current_status = current_status
        self.current_version = current_version


class QueueEmptyError(DomainError):
    """No item the caller may take is waiting."""


@dataclass
class ConfirmationRequiredError(DomainError):
    """A high-stakes decision needs a second call carrying this token."""

    message: str
    token: str
    expires_at: datetime

    def __post_init__(self) -> None:
        super().__init__(self.message)


class AuthenticationError(DomainError):
    """No valid bearer token."""

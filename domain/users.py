"""People who decide, and the tokens they present."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.enums import Role


def hash_token(token: str) -> str:
    """Bearer and confirmation tokens are stored only as this digest."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class User:
    id: str
    name: str
    role: Role
    created_at: datetime
    # A deactivated user's tokens are refused; the user stays, as the author of past work.
    active: bool = True

"""Bearer tokens: from the Authorization header (or a WebSocket's connection_init) to a User."""

from __future__ import annotations

from collections.abc import Mapping

from api.services import Services
from domain.model import User
from domain.usecases.accounts import authenticate
from store.repositories import SqlUsers


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def user_for_token(services: Services, token: str | None) -> User:
    """Raises AuthenticationError when the token is missing or unknown."""
    async with services.read_session() as session:
        return await authenticate(SqlUsers(session), token)

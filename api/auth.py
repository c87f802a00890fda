"""Bearer tokens: from the Authorization header (or a WebSocket's connection_init) to a User."""

from __future__ import annotations

from collections.abc import Mapping

from api.services import Services
from domain.errors import AuthenticationError
from domain.model import User, hash_token
from domain.usecases.accounts import authenticate
from store.people import SqlUsers


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
    if not token:
        raise AuthenticationError("a bearer token is required (Authorization: Bearer <token>)")
    cache = services.token_cache
    token_hash = hash_token(token)
    user = cache.get(token_hash)
    if user is not None:
        return user
    async with services.request_session() as session:
        user = await authenticate(SqlUsers(session), token)
    cache.put(token_hash, user)
    return user

"""Bearer tokens: from the Authorization header (or a WebSocket's connection_init) to a User.

A token is either opaque (issued by Arbiter, stored as its digest) or, when
ARBITER_OIDC_ISSUER is set and it looks like a JWT, an identity provider's
(api.oidc). Either way a resolved token is remembered by the token cache, which
forgets refused tokens on every replica within a second (api.token_cache).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import datetime

from api.oidc import looks_like_jwt
from api.services import Services
from domain.clock import utcnow
from domain.errors import AuthenticationError, DomainError
from domain.model import User, hash_token
from domain.usecases.accounts import sign_in_external
from store.people import SqlUsers

UNKNOWN = "the bearer token is not valid (unknown, expired or revoked, or its user deactivated)"


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
    """Raises AuthenticationError when the token is missing, unknown or refused."""
    if not token:
        raise AuthenticationError("a bearer token is required (Authorization: Bearer <token>)")
    cache = services.token_cache
    token_hash = hash_token(token)

    async def refusal_mark() -> Hashable:
        async with services.request_session() as session:
            return await SqlUsers(session).refusal_mark()

    user = await cache.trusted(token_hash, refusal_mark)
    if user is not None:
        return user
    started = cache.now()
    expires_at: datetime | None
    if services.oidc is not None and looks_like_jwt(token):
        user, expires_at = await identity_provider_user(services, token)
    else:
        async with services.request_session() as session:
            found = await SqlUsers(session).token_holder(token_hash, utcnow())
        if found is None:
            raise AuthenticationError(UNKNOWN)
        user, expires_at = found
    cache.put(token_hash, user, looked_up_at=started, expires_at=expires_at)
    return user


async def identity_provider_user(services: Services, token: str) -> tuple[User, datetime]:
    """The user an identity provider's JWT names (created on first sign-in)."""
    assert services.oidc is not None
    identity, expires_at = await services.oidc.identity(token)
    try:
        user = await services.run(sign_in_external, identity)
    except DomainError:
        raise
    except Exception:
        # Two first sign-ins at once: the other created the user; it is there now.
        user = await services.run(sign_in_external, identity)
    return user, expires_at


async def announce_refusal(services: Services, user_id: str) -> None:
    """After a user was deactivated or their tokens revoked: every replica forgets."""
    await services.token_revocations.announce(user_id)

"""What every bare baseline shares: the engines, the token look-up, JSON in and out."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.token_cache import TokenCache
from domain.enums import Role
from domain.model import User
from store.database import Database, connect
from store.tables import api_tokens_t, users_t

Handler = Callable[[Request, Database, User, Any], Awaitable[Any]]


class Unauthorized(Exception):
    pass


async def user_for(request: Request, database: Database, cache: TokenCache) -> User:
    """The same look-up as Arbiter's: bearer token → SHA-256 → a live token of an active
    user (or the cache)."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized
    token_hash = hashlib.sha256(token.strip().encode()).hexdigest()
    cached = cache.get(token_hash)
    if cached is not None:
        return cached
    now = datetime.now(UTC)
    async with database.read_engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(users_t)
                .join(api_tokens_t, api_tokens_t.c.user_id == users_t.c.id)
                .where(
                    api_tokens_t.c.token_hash == token_hash,
                    api_tokens_t.c.revoked_at.is_(None),
                    sa.or_(api_tokens_t.c.expires_at.is_(None), api_tokens_t.c.expires_at > now),
                    users_t.c.active.is_(True),
                )
            )
        ).first()
    if row is None:
        raise Unauthorized
    user = User(id=row.id, name=row.name, role=Role(row.role), created_at=row.created_at)
    cache.put(token_hash, user)
    return user


def create_bare_app(database_url: str, token_cache_seconds: float, handle: Handler) -> Starlette:
    """POST /graphql: parse the JSON body, authenticate, `handle`, answer {"data": ...}."""
    cache = TokenCache(token_cache_seconds, 10_000)
    state: dict[str, Database] = {}

    async def endpoint(request: Request) -> Response:
        body = await request.json()
        try:
            user = await user_for(request, state["database"], cache)
        except Unauthorized:
            return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
        data = await handle(request, state["database"], user, body.get("variables") or {})
        return JSONResponse({"data": data})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["database"] = connect(database_url)
        yield
        await state["database"].dispose()

    return Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )

"""Bare baseline of the read path: the caller's token look-up and a small JSON answer,
the same as Arbiter's `query { me { id name role } }`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from bench.baselines.bare import create_bare_app
from domain.model import User
from store.database import Database


async def me(_: Request, __: Database, user: User, ___: Any) -> Any:
    return {"me": {"id": user.id, "name": user.name, "role": user.role.value}}


def create_app(database_url: str, token_cache_seconds: float) -> Starlette:
    return create_bare_app(database_url, token_cache_seconds, me)

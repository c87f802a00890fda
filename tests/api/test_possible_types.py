"""possible-types.json: Apollo's `possibleTypes`, generated from the schema, committed
beside schema.graphql, printed by `arbiter schema --possible-types` and served at
/possible-types.json (to admins only under ARBITER_INTROSPECTION=admin)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, GraphQLUnionType
from graphql import build_schema as build_from_sdl

from api.app import create_app
from api.schema import build_schema
from api.settings import Settings
from tests.conftest import make_settings
from tests.factories import create_user

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "possible-types.json"
PROBLEMS = [
    "ConfirmationRequired",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "QueueEmpty",
]


def members_by_walking(schema: GraphQLSchema) -> dict[str, list[str]]:
    """Each union's members and each interface's implementations, read off the object
    types themselves (not through graphql-core's possible-types helper)."""
    objects = [t for t in schema.type_map.values() if isinstance(t, GraphQLObjectType)]
    found: dict[str, list[str]] = {}
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(kind, GraphQLUnionType):
            found[name] = sorted(t.name for t in kind.types)
        elif isinstance(kind, GraphQLInterfaceType):
            found[name] = sorted(o.name for o in objects if kind in o.interfaces)
    return found


def committed() -> dict[str, list[str]]:
    return dict(json.loads(COMMITTED.read_text()))


def test_the_committed_file_lists_every_union_member_and_interface_implementation() -> None:
    from_strawberry = members_by_walking(build_schema(Settings())._schema)
    from_sdl = members_by_walking(build_from_sdl((REPO / "schema.graphql").read_text()))

    assert committed() == from_strawberry == from_sdl
    assert committed()["Problem"] == PROBLEMS
    assert committed()["DecisionResult"] == [
        "ConfirmationRequired",
        "Conflict",
        "DecisionSuccess",
        "Forbidden",
        "InvalidInput",
        "NotFound",
    ]


def test_the_committed_file_is_in_the_format_apollo_takes() -> None:
    text = COMMITTED.read_text()
    mapping = json.loads(text)

    assert all(isinstance(v, list) and v == sorted(v) for v in mapping.values())
    assert list(mapping) == sorted(mapping)
    assert text.endswith("}\n")


async def test_arbiter_schema_possible_types_prints_the_committed_file() -> None:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "arbiter"),
        "schema",
        "--possible-types",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()

    assert process.returncode == 0, stderr.decode()
    assert stdout.decode() == COMMITTED.read_text()


@asynccontextmanager
async def client(
    database_url: str, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """An HTTP client on the app with these settings, and the app's services."""
    app = create_app(make_settings(database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, app.state.services


async def test_the_route_serves_the_committed_file_to_anyone(
    database: Any, database_url: str
) -> None:
    async with client(database_url) as (http, _):
        response = await http.get("/possible-types.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == COMMITTED.read_text()


async def test_with_introspection_for_admins_only_the_route_needs_an_admin_token(
    database: Any, database_url: str
) -> None:
    async with client(database_url, introspection="admin") as (http, services):
        admin = await create_user(services, "admin")
        analyst = await create_user(services, "analyst")
        anonymous = await http.get("/possible-types.json")
        bad_token = await http.get(
            "/possible-types.json", headers={"Authorization": "Bearer not-a-token"}
        )
        as_analyst = await http.get(
            "/possible-types.json", headers={"Authorization": f"Bearer {analyst}"}
        )
        as_admin = await http.get(
            "/possible-types.json", headers={"Authorization": f"Bearer {admin}"}
        )

    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert bad_token.status_code == 401
    assert as_analyst.status_code == 403
    assert as_analyst.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_admin.status_code == 200
    assert as_admin.text == COMMITTED.read_text()


async def test_the_route_answers_get_only(database: Any, database_url: str) -> None:
    async with client(database_url) as (http, _):
        response = await http.post("/possible-types.json", json={})

    assert response.status_code == 405

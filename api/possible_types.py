"""Possible types: every union and interface of the schema and the object types behind it.

Apollo Client matches `... on Problem { message }` against a union member only when
it is told which object types an interface or union may be (its `possibleTypes`
option); without them the fragment is silently dropped. The map is generated from
the schema, committed as possible-types.json beside schema.graphql (`make schema`)
and served at /possible-types.json.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from api.settings import Settings

# graphql, Starlette and the app are imported where they are used: the CLI imports this
# module for every command, and `arbiter migrate` needs none of them.
if TYPE_CHECKING:
    from graphql import GraphQLSchema
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from strawberry.schema.base import BaseSchema

PATH = "/possible-types.json"


def possible_types(schema: GraphQLSchema) -> dict[str, list[str]]:
    """{"Problem": ["Conflict", ...], "DecideResult": [...]}: each union and interface
    (by name) and the names of the object types it may be, sorted."""
    from graphql import GraphQLInterfaceType, GraphQLUnionType

    found: dict[str, list[str]] = {}
    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__"):
            continue  # introspection's own types are no client's concern
        if isinstance(kind, GraphQLUnionType | GraphQLInterfaceType):
            found[name] = sorted(t.name for t in schema.get_possible_types(kind))
    return found


def render(mapping: dict[str, list[str]]) -> str:
    """The committed file's text: stable order, one type a line, a final newline."""
    return json.dumps(mapping, indent=2, sort_keys=True) + "\n"


@lru_cache
def possible_types_json() -> str:
    """The possible types of Arbiter's schema, as committed in possible-types.json."""
    from api.schema import build_schema

    return render(possible_types(build_schema(Settings())._schema))


def possible_types_route(schema: BaseSchema, settings: Settings) -> Route:
    """GET /possible-types.json: open to anyone, like schema.graphql in the repository,
    unless ARBITER_INTROSPECTION=admin, which asks for an admin's bearer token."""
    from starlette.responses import Response
    from starlette.routing import Route

    @lru_cache(maxsize=1)
    def body() -> bytes:  # made on the first request: most apps never serve it
        from graphql import build_schema

        return render(possible_types(build_schema(schema.as_str()))).encode()

    async def endpoint(request: Request) -> Response:
        if settings.introspection == "admin":
            refusal = await _refuse_non_admin(request)
            if refusal is not None:
                return refusal
        return Response(body(), media_type="application/json")

    return Route(PATH, endpoint, methods=["GET"])


async def _refuse_non_admin(request: Request) -> Response | None:
    from starlette.responses import JSONResponse

    from api.auth import bearer_token, user_for_token
    from api.unavailable import is_database_unavailable, unavailable_body
    from domain.enums import Role
    from domain.errors import AuthenticationError

    try:
        user = await user_for_token(request.app.state.services, bearer_token(request.headers))
    except AuthenticationError as error:
        return _error(401, error.message, "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"})
    except Exception as error:
        if is_database_unavailable(error):
            return JSONResponse(unavailable_body(), status_code=503)
        raise
    if user.role is not Role.ADMIN:
        return _error(403, "only an admin may read the possible types here", "FORBIDDEN")
    return None


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import JSONResponse

    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)

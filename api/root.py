"""`/`: where a person who opens the server's address in a browser should go."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.settings import Settings

GRAPHQL_PATH = "/graphql"


def root_route(settings: Settings) -> Route:
    """GET / redirects (307) to GraphiQL at /graphql when ARBITER_GRAPHIQL is on;
    otherwise a 404 whose JSON body says where the API is."""

    async def root(_: Request) -> Response:
        if settings.graphiql:
            return RedirectResponse(GRAPHQL_PATH, status_code=307)
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": (
                            f"nothing is served at /: the GraphQL API is at {GRAPHQL_PATH} "
                            "(POST JSON with Authorization: Bearer <token>)"
                        ),
                        "extensions": {"code": "NOT_FOUND", "graphql": GRAPHQL_PATH},
                    }
                ]
            },
            status_code=404,
        )

    return Route("/", root, methods=["GET"])

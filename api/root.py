"""`/`: where a person who opens the server's address in a browser should go."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.console import CONSOLE_PATH, console_is_served
from api.settings import Settings

GRAPHQL_PATH = "/graphql"


def root_route(settings: Settings) -> Route:
    """GET / redirects (307) to the reviewer console at /console when it is on and built,
    else to GraphiQL at /graphql when ARBITER_GRAPHIQL is on; otherwise it is a 404 whose
    JSON body says where the API is."""

    async def root(_: Request) -> Response:
        if console_is_served(settings):
            return RedirectResponse(CONSOLE_PATH, status_code=307)
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

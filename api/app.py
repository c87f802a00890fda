"""The Starlette application: /graphql (HTTP and WebSocket), /healthz, /readyz, and the
reviewer console at /console with GraphiQL's files at /graphiql."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from api.console import console_routes
from api.graphiql_page import graphiql_routes
from api.graphql_view import ArbiterGraphQL
from api.metrics_server import metrics_listener, metrics_routes
from api.middleware import GraphQLRequestGuard
from api.operation_labels import configure_operation_labels
from api.possible_types import possible_types_route
from api.root import root_route
from api.schema import build_schema
from api.services import Services
from api.settings import Settings, get_settings


async def healthz(_: Request) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The database answers."""
    services: Services = request.app.state.services
    try:
        await services.database.ping()
    except Exception as error:  # any failure means "not ready"; say which
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    graphql = ArbiterGraphQL(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,
        allowed_origins=settings.allowed_origins,
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
    )
    graphql.max_variable_values = settings.max_variable_values
    configure_operation_labels(settings.metrics_max_operation_names)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = Services.from_settings(settings)
        app.state.services = services
        await services.start()
        # What start-up built (the schema, the mappers, the pools) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it
        # (they took 50 to 140 ms under load, stalling every request in flight).
        gc.collect()
        gc.freeze()
        try:
            async with metrics_listener(settings, services):
                yield
        finally:
            await services.stop()
            await services.database.dispose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *metrics_routes(settings),
            possible_types_route(graphql.schema, settings),
            root_route(settings),
            *console_routes(settings),
            *graphiql_routes(settings),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
            ),
            Middleware(
                GraphQLRequestGuard, path="/graphql", max_body_bytes=settings.max_body_bytes
            ),
        ],
        lifespan=lifespan,
    )

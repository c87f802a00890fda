"""Where /metrics is served, and who may read it.

By default /metrics is on the public listener and needs no token (Prometheus's
convention). With ARBITER_METRICS_TOKEN it needs `Authorization: Bearer <token>`;
with ARBITER_METRICS_PORT it moves to a listener of its own on
ARBITER_HOST:ARBITER_METRICS_PORT, started and stopped with the app's lifespan
(so it works however the app is run), and the public listener answers 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.auth import bearer_token
from api.metrics import metrics_endpoint
from api.settings import Settings

if TYPE_CHECKING:
    from api.services import Services


class MetricsPortUnavailable(RuntimeError):
    """The metrics listener could not bind ARBITER_HOST:ARBITER_METRICS_PORT."""


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """The routes of the public app: /metrics, unless it has a listener of its own."""
    if settings.metrics_port is not None:
        return []
    return [_metrics_route(settings.metrics_token)]


@contextlib.asynccontextmanager
async def metrics_listener(settings: Settings, services: Services) -> AsyncIterator[None]:
    """Serve /metrics (only) on ARBITER_HOST:ARBITER_METRICS_PORT while the block runs,
    with the app's services (the queue depth is read through them). Nothing without a
    metrics port."""
    if settings.metrics_port is None:
        yield
        return
    app = Starlette(routes=[_metrics_route(settings.metrics_token)])
    app.state.services = services
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, proxy_headers=False
    )
    server = _Listener(config)
    listening = _bind(settings.host, settings.metrics_port)
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        while not server.started:
            if task.done():
                task.result()  # the reason it stopped
                raise MetricsPortUnavailable("the metrics listener stopped while starting")
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        listening.close()


class _Listener(uvicorn.Server):
    """A second server in the app's process: the public server owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise MetricsPortUnavailable(
            f"cannot serve metrics on {host}:{port} (ARBITER_METRICS_PORT): {error}"
        ) from error
    return listening


def _metrics_route(token: str | None) -> Route:
    if token is None:
        return Route("/metrics", metrics_endpoint)
    return Route("/metrics", _token_required(token, metrics_endpoint))


def _token_required(
    token: str, endpoint: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    expected = _digest(token)

    async def guarded(request: Request) -> Response:
        given = bearer_token(request.headers)
        if given is None:
            return _unauthenticated(
                "a bearer token is required for /metrics (Authorization: Bearer <token>)"
            )
        # Compared as digests: constant time, whatever the lengths.
        if not hmac.compare_digest(_digest(given), expected):
            return _unauthenticated("the bearer token is not the metrics token")
        return await endpoint(request)

    return guarded


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _unauthenticated(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )

"""Strawberry's ASGI view with Arbiter's context: authenticated HTTP, typed Context."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from api.auth import bearer_token, user_for_token
from api.context import Context
from api.services import Services
from api.unavailable import DatabaseUnavailable, is_database_unavailable, unavailable_body
from api.websocket_protocol import TransportWSHandler
from domain.errors import AuthenticationError


class Unauthenticated(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ArbiterGraphQL(GraphQL[Context, None]):
    """Every HTTP operation needs a valid bearer token; without one the answer is a 401.

    JSON is read and written with orjson (several times faster than the standard
    library on large answers); WebSocket messages stay text frames.
    """

    max_variable_values = 200_000
    graphql_transport_ws_handler_class = TransportWSHandler

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is the standard library's

    async def parse_http_body(self, request: Any) -> Any:
        """The request, refused with a 413 when its variables hold more values than
        `max_variable_values`: counting is cheap, while graphql-core takes seconds to
        coerce a million list entries before it refuses them."""
        data = await super().parse_http_body(request)
        for one in data if isinstance(data, list) else [data]:
            if _values_over(getattr(one, "variables", None), self.max_variable_values):
                raise HTTPException(
                    413, f"the variables hold more than {self.max_variable_values:,} values"
                )
        return data

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = Response(
            orjson.dumps(response_data), status_code=200, media_type="application/json"
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        if isinstance(request, WebSocket) or request.method == "GET":
            # GET only renders GraphiQL (queries over GET are off); nothing is executed.
            return Context(services=services, user=None, request=request, response=response)
        try:
            user = await user_for_token(services, bearer_token(request.headers))
        except AuthenticationError as error:
            raise Unauthenticated(error.message) from error
        except Exception as error:
            if is_database_unavailable(error):
                raise DatabaseUnavailable from error
            raise
        return Context(services=services, user=user, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket in connection_init: {"Authorization": "Bearer <token>"}.
        A missing or bad token closes the socket (4403) before connection_ack."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = bearer_token({"authorization": header}) if isinstance(header, str) else None
        try:
            context.user = await user_for_token(context.services, token)
        except AuthenticationError as error:
            raise ConnectionRejectionError({"message": error.message}) from error
        return UNSET

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except Unauthenticated as error:
            response = JSONResponse(
                {"errors": [{"message": error.message, "extensions": {"code": "UNAUTHENTICATED"}}]},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        except HTTPException as error:  # the body is not a GraphQL request: say so in JSON
            code = "BAD_REQUEST" if error.status_code == 400 else "HTTP_ERROR"
            response = JSONResponse(
                {"errors": [{"message": error.reason, "extensions": {"code": code}}]},
                status_code=error.status_code,
            )
        except DatabaseUnavailable:
            response = JSONResponse(unavailable_body(), status_code=503)
        await response(scope, receive, send)


def _values_over(value: object, limit: int) -> bool:
    """Whether `value` (parsed JSON) holds more than `limit` values, counted without
    recursion and stopping at the limit."""
    pending = [value]
    seen = 0
    while pending:
        current = pending.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return False

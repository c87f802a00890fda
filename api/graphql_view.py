"""Strawberry's ASGI view with Arbiter's context: authenticated HTTP, typed Context.

GraphQL over HTTP as its spec describes it: queries by GET or POST, mutations by
POST only (a mutation over GET is a 405); answers in `application/json`, or in
`application/graphql-response+json` with the spec's status codes when the client
asks for it (api/media_types.py); trusted documents sent by id
(`{"documentId": "sha256:<hex>"}`, or Apollo's `extensions.persistedQuery`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import bearer_token, user_for_token
from api.context import Context
from api.graphiql_page import graphiql_page
from api.media_types import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    is_request_error,
    request_error_status,
    response_media_type,
)
from api.services import Services
from api.trusted_documents import (
    DocumentIdError,
    document_id_from_request,
    unknown_document_error,
)
from api.unavailable import DatabaseUnavailable, is_database_unavailable, unavailable_body
from api.websocket_protocol import LegacyWSHandler, TransportWSHandler
from domain.errors import AuthenticationError


class Unauthenticated(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MethodNotAllowed(Exception):
    """A mutation or subscription sent by GET."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RequestData(GraphQLRequestData):
    """A request as parsed, with the trusted document it names, if any."""

    document_id: str | None = None


class AnswerShape(Response):
    """The sub-response of one request: the media type its answer uses, and the status
    of an answer whose operation never ran (set once the result is known)."""

    media_type_chosen: str = JSON
    request_error: bool = False


class ArbiterGraphQL(GraphQL[Context, None]):
    """Every operation needs a valid bearer token; without one the answer is a 401.

    JSON is read and written with orjson (several times faster than the standard
    library on large answers); WebSocket messages stay text frames.
    """

    max_variable_values = 200_000
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is the standard library's

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        """The request, refused with a 413 when its variables hold more values than
        `max_variable_values` (counting is cheap, while graphql-core takes seconds to
        coerce a million list entries before it refuses them), and with a 400 when a
        parameter has the wrong type."""
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            return data  # refused by Strawberry before this, unless batching is on
        if data.operation_name is not None and not isinstance(data.operation_name, str):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string.")
        if _values_over(data.variables, self.max_variable_values):
            raise HTTPException(
                413, f"the variables hold more than {self.max_variable_values:,} values"
            )
        try:
            document_id = document_id_from_request(data.extensions, await _raw_document_id(request))
        except DocumentIdError as error:
            raise HTTPException(400, error.message) from error
        return RequestData(
            query=data.query,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
            document_id=document_id,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        document_id = getattr(request_data, "document_id", None)
        if document_id is not None:
            registry = context.services.trusted_documents
            text = await registry.text_for(context.services, document_id)
            if text is None and not request_data.query:
                return ExecutionResult(data=None, errors=[unknown_document_error(document_id)])
            if text is not None and request_data.query and request_data.query != text:
                raise HTTPException(400, "the query is not the document its documentId names")
            if text is not None:
                request_data = replace(request_data, query=text)
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if request.method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
                raise MethodNotAllowed(
                    "only queries may be sent by GET; send mutations by POST"
                ) from error
            raise

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's plain GET; a GET naming a document runs it."""
        params = request.query_params
        return (
            "documentId" not in params
            and "extensions" not in params
            and super().should_render_graphql_ide(request)
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Arbiter's GraphiQL page, whose files are all served here (no CDN)."""
        return graphiql_page(request)

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = AnswerShape()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        if isinstance(request, Request):
            sub_response.media_type_chosen = response_media_type(request.headers.get("accept"))
            request.state.answer_shape = sub_response
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = process_result(result)
        shape: AnswerShape | None = getattr(request.state, "answer_shape", None)
        if shape is not None and is_request_error(result):
            shape.request_error = True
            if shape.media_type_chosen == GRAPHQL_RESPONSE_JSON:
                answer.pop("data", None)  # the operation never ran: no data entry at all
        return answer

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        media_type = getattr(sub_response, "media_type_chosen", JSON)
        status = 200
        if getattr(sub_response, "request_error", False) and isinstance(response_data, dict):
            refused = request_error_status(response_data.get("errors") or [])
            if media_type == GRAPHQL_RESPONSE_JSON or refused == 403:
                status = refused
        response = Response(orjson.dumps(response_data), status_code=status, media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        response.headers["cache-control"] = "no-store"
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        if isinstance(request, WebSocket) or (
            request.method == "GET" and self.should_render_graphql_ide(request)
        ):
            # A WebSocket authenticates in connection_init; rendering GraphiQL runs nothing.
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
        media_type = response_media_type(request.headers.get("accept"))
        response: Response
        try:
            response = await self.run(request)
        except Unauthenticated as error:
            response = _error(
                401, error.message, "UNAUTHENTICATED", media_type, {"WWW-Authenticate": "Bearer"}
            )
        except MethodNotAllowed as error:
            response = _error(
                405, error.message, "METHOD_NOT_ALLOWED", media_type, {"Allow": "POST"}
            )
        except HTTPException as error:  # the body is not a GraphQL request: say so in JSON
            code = "BAD_REQUEST" if error.status_code == 400 else "HTTP_ERROR"
            response = _error(error.status_code, error.reason, code, media_type)
        except DatabaseUnavailable:
            response = JSONResponse(unavailable_body(), status_code=503, media_type=media_type)
        await response(scope, receive, send)


def _error(
    status: int, message: str, code: str, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


async def _raw_document_id(request: AsyncHTTPRequestAdapter) -> object:
    """The request's top-level `documentId`, which Strawberry's parsing drops."""
    if request.method == "GET":
        return request.query_params.get("documentId")
    body = await request.get_body()
    if b'"documentId"' not in body:
        return None
    data = orjson.loads(body)
    return data.get("documentId") if isinstance(data, dict) else None


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

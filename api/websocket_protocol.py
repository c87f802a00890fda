"""graphql-transport-ws as Arbiter speaks it: a malformed document is the operation's
`error`, never the end of the connection; trusted documents may be named by id.

Strawberry closes the socket (4400) when a subscribe message carries a syntax error
or names no runnable operation. The protocol allows it, but one bad document then
costs every other subscription of the connection, and clients such as graphql-ws
reconnect and resubscribe in a loop. Here each such operation gets an `error`
message naming the problem, exactly as HTTP answers it, and the connection stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from api.context import Context
from api.trusted_documents import DocumentIdError, document_id_from_request, unknown_document_error


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Answers malformed documents with `error` instead of closing with 4400, and runs
    `{"documentId": "sha256:<hex>"}` (or Apollo's persistedQuery extension) as the
    trusted document it names."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if not isinstance(payload, dict) or not self.connection_acknowledged:
            await super().handle_subscribe(message)
            return
        fields: Mapping[str, object] = payload  # documentId is not in the TypedDict
        raw_id = fields.get("documentId")
        try:
            identifier = document_id_from_request(payload.get("extensions"), raw_id)
        except DocumentIdError as error:
            await self._refuse(message, GraphQLError(error.message))
            return
        problem = _payload_problem(payload, identifier)
        if problem is not None:
            await self._refuse(message, GraphQLError(problem))
            return
        if identifier is not None:
            services = self.context.services
            text = await services.trusted_documents.text_for(services, identifier)
            if text is None:
                await self._refuse(message, unknown_document_error(identifier))
                return
            payload["query"] = text
        await super().handle_subscribe(message)

    async def _refuse(self, message: SubscribeMessage, error: GraphQLError) -> None:
        await self.send_message(
            {"id": message["id"], "type": "error", "payload": [error.formatted]}
        )


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol: a start message with malformed parameters gets an
    `error` naming the problem instead of a task that fails unseen."""

    async def handle_start(self, message: StartMessage) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged:
            problem = (
                _payload_problem(payload, None)
                if isinstance(payload, dict)
                else "the start message's payload must be an object"
            )
            if problem is None and isinstance(payload, dict) and "query" not in payload:
                problem = "the operation has no `query`"
            if problem is not None:
                await self.send_message(
                    {"type": "error", "id": message.get("id"), "payload": {"message": problem}}
                )
                return
        await super().handle_start(message)


def _payload_problem(payload: Mapping[str, object], identifier: str | None) -> str | None:
    """What is wrong with a subscribe payload's parameters, if anything (a missing
    query without a document id is a malformed message: the protocol closes for it)."""
    query = payload.get("query")
    if identifier is None and "query" in payload and not isinstance(query, str):
        return "the operation's `query` must be a string"
    if payload.get("variables") is not None and not isinstance(payload.get("variables"), dict):
        return "the operation's `variables` must be an object"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "the operation's `operationName` must be a string"
    return None

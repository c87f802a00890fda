"""graphql-transport-ws as Arbiter speaks it: a malformed document is the operation's
`error`, never the end of the connection; trusted documents may be named by id.

Strawberry closes the socket (4400) when a subscribe message carries a syntax error
or names no runnable operation. The protocol allows it, but one bad document then
costs every other subscription of the connection, and clients such as graphql-ws
reconnect and resubscribe in a loop. Here each such operation gets an `error`
message naming the problem, exactly as HTTP answers it, and the connection stays.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

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
        raw_id = payload.get("documentId")  # type: ignore[typeddict-item]
        try:
            identifier = document_id_from_request(payload.get("extensions"), raw_id)
        except DocumentIdError as error:
            await self._refuse(message, GraphQLError(error.message))
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

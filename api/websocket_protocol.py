"""graphql-transport-ws as Arbiter speaks it: a malformed document is the operation's
`error`, never the end of the connection.

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

from api.context import Context


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Answers malformed documents with `error` instead of closing with 4400."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None

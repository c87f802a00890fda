"""Documents over WebSocket: a malformed one is that operation's `error` and the
connection stays usable; trusted documents are run by id, and with
ARBITER_TRUSTED_DOCUMENTS_ONLY raw documents are refused there as over HTTP."""

from __future__ import annotations

import hashlib
import json

import pytest

from api.documents_command import load_documents
from tests.factories import create_user
from tests.live.test_subscriptions import Socket

ME = "query Me { me { name } }"


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_malformed_document_gets_an_error_and_the_connection_stays_usable(
    live_server, protocol
):
    admin = await create_user(live_server.services, "admin", name="ws-admin")
    socket = await Socket.open(live_server, admin, protocol)
    over_limit = 'subscription { queueEvents(workflow: "x") { ' + "id " * 4100 + "} }"
    valid = 'subscription { queueEvents(workflow: "nowhere") { id } }'

    async def failure(operation_id: str) -> list[dict]:
        message = await socket.receive()
        assert message["type"] == "error" and message["id"] == operation_id, message
        payload = message["payload"]
        return payload if isinstance(payload, list) else [payload]  # graphql-ws: one error

    try:
        await socket.subscribe("1", 'subscription { queueEvents(workflow: "x") { id }', {})
        syntax = await failure("1")
        await socket.subscribe("2", over_limit, {})
        too_long = await failure("2")
        await socket.subscribe("3", valid, {})
        unknown_workflow = await socket.failure("3")
    finally:
        await socket.close()

    assert syntax[0]["message"].startswith("Syntax Error")
    assert "more than 4000 tokens" in too_long[0]["message"]
    assert "nowhere" in unknown_workflow[0]["message"]  # a real answer: the socket still serves


async def test_a_trusted_document_is_run_by_id_over_websocket(live_server, tmp_path):
    admin = await create_user(live_server.services, "admin", name="by-id-ws")
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({document_id(ME): ME}))
    await load_documents(live_server.services.settings, manifest)
    socket = await Socket.open(live_server, admin)
    try:
        await socket.send(
            {
                "type": "subscribe",
                "id": "1",
                "payload": {"documentId": document_id(ME), "query": ""},
            }
        )
        answer = await socket.next_payload("1")
        assert await socket.receive() == {"type": "complete", "id": "1"}
        await socket.send(
            {
                "type": "subscribe",
                "id": "2",
                "payload": {"documentId": document_id("{ x }"), "query": ""},
            }
        )
        unknown = await socket.failure("2")
    finally:
        await socket.close()

    assert answer == {"data": {"me": {"name": "by-id-ws"}}}
    assert unknown[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_trusted_documents_only_a_reviewer_cannot_send_raw_documents_over_websocket(
    live_server_factory,
):
    async with live_server_factory(trusted_documents_only=True) as server:
        analyst = await create_user(server.services, "analyst")
        socket = await Socket.open(server, analyst)
        try:
            await socket.subscribe("1", 'subscription { queueEvents(workflow: "x") { id } }', {})
            refused = await socket.failure("1")
        finally:
            await socket.close()

    assert refused[0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"query": 5}, "`query` must be a string"),
        ({"query": "{ me { name } }", "variables": 3}, "`variables` must be an object"),
        ({"query": "{ me { name } }", "operationName": ["x"]}, "`operationName` must be a string"),
    ],
)
async def test_an_operation_with_parameters_of_the_wrong_type_gets_an_error(
    live_server, protocol, payload, problem
):
    admin = await create_user(live_server.services, "admin")
    socket = await Socket.open(live_server, admin, protocol)
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    try:
        await socket.send({"type": kind, "id": "1", "payload": payload})
        message = await socket.receive()
    finally:
        await socket.close()

    assert message["type"] == "error" and message["id"] == "1", message
    errors = message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
    assert problem in errors[0]["message"]

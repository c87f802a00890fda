"""A client's mistake (a document that does not parse, validate or say which operation to
run) is answered with a readable error and is not logged at ERROR: ERROR is for faults."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError

from api.schema import build_schema
from api.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import create_user

MISTAKES = {
    "two anonymous operations": (
        "query { me { id } } query { me { name } }",
        "the document holds 2 operations: name the one to run with operationName",
    ),
    "an unknown field": ("query { nope }", "Cannot query field 'nope' on type 'Query'."),
    "a document that does not parse": ("query { me { id }", "Syntax Error"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
async def test_a_client_mistake_is_answered_and_not_logged_as_an_error(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture, mistake: str
) -> None:
    query, message = MISTAKES[mistake]
    token = await create_user(gql.services, "analyst")

    with caplog.at_level(logging.DEBUG):
        response = await gql.post(query, token=token)

    errors = response.json()["errors"]
    assert [e["message"] for e in errors if e["message"].startswith(message)], errors
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_server_fault_is_still_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    schema = build_schema(Settings())
    fault = GraphQLError("boom", original_error=RuntimeError("boom"))

    with caplog.at_level(logging.DEBUG):
        schema.process_errors([fault])

    assert [r.levelno for r in caplog.records] == [logging.ERROR]

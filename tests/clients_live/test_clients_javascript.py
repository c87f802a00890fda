"""JavaScript clients at their defaults against `arbiter serve`: urql, Apollo Client, graphql-ws.

- urql (@urql/core) sends queries as GET (its default `preferGetMethod:
  'within-url-limit'`), mutations as POST, and subscribes through its
  subscriptionExchange over graphql-ws (tests/clients/urql.mjs).
- Apollo Client 4 reads `message` through the `Problem` interface only with the
  possibleTypes the server publishes at /possible-types.json (tests/clients/apollo.mjs).
- One graphql-ws connection survives a syntax error and an over-limit document, each
  answered with an `error` message, and then delivers events (tests/clients/ws_errors.mjs).
"""

from __future__ import annotations

import json

import pytest

from tests.clients_live.conftest import ROOT, ArbiterServer, Deployment, graphql_post

MAX_TOKENS = 4_000  # ARBITER_MAX_TOKENS' default, as the README says


@pytest.fixture
def server(default_server: Deployment) -> tuple[ArbiterServer, str]:
    """`arbiter serve` at its default settings, and an admin's token."""
    return default_server.server, default_server.admin


def create_workflow(server: ArbiterServer, admin: str, key: str) -> None:
    response = graphql_post(
        server,
        admin,
        {
            "query": "mutation($key: String!) { createWorkflow(input: {key: $key, name: $key, "
            'kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }',
            "variables": {"key": key},
        },
    )
    assert response.json()["data"]["createWorkflow"]["__typename"] == "WorkflowSuccess"


def test_urql_queries_over_get_mutates_over_post_and_hears_queue_events(node_client, server):
    running, admin = server
    result = node_client.run(
        "urql.mjs", "--url", running.graphql, "--workflow", "urql", token=admin, timeout=30
    )

    assert result["meMethod"] == "GET"
    assert result["me"] == {"name": "ada", "role": "ADMIN", "__typename": "User"}
    assert result["createMethod"] == "POST"
    assert result["createWorkflow"]["__typename"] == "WorkflowSuccess"
    assert result["createWorkflow"]["workflow"]["key"] == "urql"
    event = result["event"]
    assert event["kind"] == "ADDED"
    assert event["recommendation"]["id"] in result["submitted"]
    assert event["recommendation"]["status"] == "PENDING"
    assert event["recommendation"]["tier"] == "ANALYST_REVIEW"


def test_apollo_reads_a_problem_message_with_the_published_possible_types(node_client, server):
    running, admin = server
    result = node_client.run("apollo.mjs", "--url", running.graphql, token=admin, timeout=30)

    committed = json.loads((ROOT / "possible-types.json").read_text())
    assert result["possibleTypes"] == committed
    assert "NotFound" in result["possibleTypes"]["Problem"]
    assert result["withPossibleTypes"]["__typename"] == "NotFound"
    assert "rec_nope" in result["withPossibleTypes"]["message"]
    # without them Apollo cannot tell that NotFound is a Problem and drops the field
    assert result["withoutPossibleTypes"] == {"__typename": "NotFound"}


def test_one_graphql_ws_connection_survives_bad_documents_and_then_hears_events(
    node_client, server
):
    running, admin = server
    create_workflow(running, admin, "ws-errors")
    result = node_client.run(
        "ws_errors.mjs",
        "--url",
        running.graphql,
        "--workflow",
        "ws-errors",
        "--tokens",
        str(MAX_TOKENS),
        token=admin,
        timeout=30,
    )

    assert "error" in result["syntaxError"], result["syntaxError"]
    assert any("Syntax Error" in message for message in result["syntaxError"]["error"])
    assert "error" in result["overLimit"], result["overLimit"]
    assert any(f"more than {MAX_TOKENS} tokens" in m for m in result["overLimit"]["error"])
    queue_event = result["event"]["next"]["data"]["queueEvents"]
    assert queue_event["kind"] == "ADDED"
    assert queue_event["recommendation"]["id"] in result["submitted"]
    assert (result["connections"], result["closes"]) == (1, 0)

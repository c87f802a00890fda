"""The GraphQL-over-HTTP audit suite (npm `graphql-http`, serverAudits) against `arbiter serve`.

tests/clients/audit.mjs runs every audit once with a bearer token on each request;
every MUST and SHOULD audit passes, except those whose own test document is wrong
(EXCUSED, each with its reason, checked against the audit source below). The MAY
audits about GET are Arbiter's specified behaviour (queries over GET, never
mutations) and must pass too; the other MAY audits are reported, not required.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSyntaxError, build_schema, parse, validate

from tests.clients_live.conftest import ROOT, Deployment
from tests.clients_node import CLIENTS

AUDIT_SOURCE = CLIENTS / "node_modules" / "graphql-http" / "lib" / "audits" / "server.js"

NOT_A_FIELD = "{ 8f31403dfe404bccbb0e835f2629c6a7 }"
UNUSED_VARIABLE = "query CoerceFailure($id: ID!){ __typename }"

# Audits whose test document does not test what the audit's name says; their
# outcome says nothing about the server.
EXCUSED = {
    "51FE": (NOT_A_FIELD, "a validation audit whose document is a syntax error"),
    "74FF": (NOT_A_FIELD, "a validation audit whose document is a syntax error"),
    "5E5B": (NOT_A_FIELD, "a validation audit whose document is a syntax error"),
    "86EE": (UNUSED_VARIABLE, "a coercion audit whose document fails validation first"),
}

# MAY in the GraphQL-over-HTTP spec, required of Arbiter (queries over GET, mutations not).
REQUIRED_MAY = {
    "5A70": "queries over GET",
    "9C48": "no mutations over GET",
    "D6D5": "GET variables as URL-encoded JSON (graphql-response+json)",
    "6A70": "GET variables as URL-encoded JSON (application/json)",
}


@pytest.fixture(scope="module")
def audits(node_client: Any, default_server: Deployment) -> dict[str, dict[str, Any]]:
    """Every audit's outcome by id, run once with an analyst's token (no admin powers)."""
    results = node_client.run(
        "audit.mjs",
        "--url",
        default_server.server.graphql,
        token=default_server.analyst,
        timeout=60,
    )
    return {result["id"]: result for result in results}


def failures(audits: dict[str, dict[str, Any]], level: str) -> dict[str, str]:
    return {
        id: f"{audit['name']}: {audit['reason']}"
        for id, audit in audits.items()
        if audit["name"].startswith(f"{level} ") and audit["status"] != "ok" and id not in EXCUSED
    }


def test_the_suite_ran_every_kind_of_audit(audits):
    levels = {audit["name"].split(" ", 1)[0] for audit in audits.values()}
    assert levels == {"MUST", "SHOULD", "MAY"}
    assert set(EXCUSED) | set(REQUIRED_MAY) <= set(audits)


def test_every_must_audit_passes(audits):
    assert failures(audits, "MUST") == {}


def test_every_should_audit_passes_but_those_whose_document_is_wrong(audits):
    assert failures(audits, "SHOULD") == {}


def test_the_get_audits_pass_because_queries_go_over_get_and_mutations_do_not(audits):
    failed = {
        id: f"{REQUIRED_MAY[id]}: {audits[id]['reason']}"
        for id in REQUIRED_MAY
        if audits[id]["status"] != "ok"
    }
    assert failed == {}


def audit_body(source: str, id: str) -> str:
    """The source of audit `id`, up to the next audit."""
    start = source.index(f"'{id}'")
    following = source.find(".audit)(", start)
    return source[start : following if following != -1 else len(source)]


def test_the_excused_audits_send_the_documents_that_make_them_wrong(node_client):
    source = AUDIT_SOURCE.read_text()
    for id, (document, _) in EXCUSED.items():
        body = audit_body(source, id)
        assert "validation" in body or "coercion" in body, (id, body[:200])
        assert repr(document) in body, (id, body)


def test_the_excused_documents_are_wrong_for_what_they_test():
    # a "validation" document that does not even parse: the name starts with a digit
    with pytest.raises(GraphQLSyntaxError):
        parse(NOT_A_FIELD)
    # a "coercion" document that fails validation ($id is never used) before coercion
    schema = build_schema((ROOT / "schema.graphql").read_text())
    errors = validate(schema, parse(UNUSED_VARIABLE))
    assert [error.message for error in errors] == [
        "Variable '$id' is never used in operation 'CoerceFailure'."
    ]


def test_every_audit_passes_the_excused_and_the_may_ones_included(audits):
    # The excused audits pass too (a syntax error and an unused variable are 400s
    # without data as well); they are excused only because passing them proves less
    # than their names say. No MAY audit fails either.
    failed = {
        id: f"{audit['name']}: {audit['reason']}"
        for id, audit in audits.items()
        if audit["status"] != "ok"
    }
    assert failed == {}

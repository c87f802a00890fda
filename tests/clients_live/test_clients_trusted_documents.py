"""Trusted documents: a graphql-codegen manifest, `arbiter documents load`, clients sending ids.

graphql-codegen's client preset (tests/clients/codegen.mjs, `persistedDocuments: true`)
turns tests/clients/documents/*.graphql into persisted-documents.json (id -> text) at
test time, against schema.graphql; `arbiter documents load` registers it; a server
with ARBITER_TRUSTED_DOCUMENTS_ONLY=true then answers reviewers by id only (POST or
GET `documentId`, or Apollo's `extensions.persistedQuery`), while an admin may still
send documents. Two `arbiter serve` replicas on one database both know a document
loaded once, after they started.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients_live.conftest import (
    Deployment,
    arbiter,
    arbiter_serve,
    create_token,
    graphql_get,
    graphql_post,
    migrated_sqlite,
)
from tests.clients_node import CLIENTS

CODEGEN_TIMEOUT = 60
UNKNOWN_ID = "sha256:" + "0" * 64
OPERATIONS = {"Me", "CreateWorkflow", "SubmitRecommendations", "Decisions"}
# Not among the codegen documents: loaded from a manifest keyed by bare hex.
MY_NAME = "query MyName { me { name } }"


def codegen(node_client: Any, out: Path) -> dict[str, str]:
    """Run graphql-codegen's client preset into `out`; the persisted-documents.json it wrote."""
    binary = CLIENTS / "node_modules" / ".bin" / "graphql-codegen"
    try:
        result = subprocess.run(
            [node_client.node, str(binary), "--config", "codegen.mjs"],
            cwd=CLIENTS,
            env={**os.environ, "ARBITER_CODEGEN_OUT": str(out)},
            capture_output=True,
            text=True,
            timeout=CODEGEN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"graphql-codegen ran over {CODEGEN_TIMEOUT}s", pytrace=False)
    assert result.returncode == 0, f"graphql-codegen failed:\n{result.stdout}\n{result.stderr}"
    return dict(json.loads((out / "persisted-documents.json").read_text()))


def operation_name(text: str) -> str:
    """The name of a one-operation document: "Me" of "query Me { ... }"."""
    return text.split("{", 1)[0].split()[1].split("(")[0]


def operation_id(manifest: dict[str, str], name: str) -> str:
    """The manifest's id of the document defining operation `name`."""
    (found,) = [key for key, text in manifest.items() if operation_name(text) == name]
    return found


@dataclass
class TrustedDeployment(Deployment):
    manifest: dict[str, str]
    load: subprocess.CompletedProcess[str]  # `arbiter documents load` of the manifest


@pytest.fixture(scope="module")
def manifest_file(node_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codegen")
    codegen(node_client, out)
    return out / "persisted-documents.json"


@pytest.fixture(scope="module")
def deployment(
    manifest_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrustedDeployment]:
    """A trusted-documents-only server whose database has the codegen manifest loaded."""
    directory = tmp_path_factory.mktemp("trusted")
    database_url = migrated_sqlite(directory)
    admin = create_token(database_url, "ada", "admin")
    analyst = create_token(database_url, "ann", "analyst")
    load = arbiter(database_url, "documents", "load", str(manifest_file))
    assert load.returncode == 0, f"arbiter documents load failed:\n{load.stdout}\n{load.stderr}"
    manifest = dict(json.loads(manifest_file.read_text()))
    with arbiter_serve(database_url, directory, trusted_documents_only="true") as server:
        yield TrustedDeployment(server, admin, analyst, manifest, load)


def data_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), (response.status_code, body)
    return dict(body["data"])


def refusal(response: httpx.Response) -> tuple[str, str]:
    """The error code and message of a refused request, which must carry no data."""
    body = response.json()
    assert body.get("data") is None, body
    error = body["errors"][0]
    return error.get("extensions", {}).get("code"), error["message"]


def test_codegen_writes_a_manifest_of_sha256_ids_for_the_readme_operations(manifest_file):
    manifest = json.loads(manifest_file.read_text())
    for key, text in manifest.items():
        assert key == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert {operation_name(text) for text in manifest.values()} == OPERATIONS


def test_arbiter_documents_load_says_how_many_documents_it_registered(deployment):
    said = deployment.load.stdout + deployment.load.stderr
    assert str(len(deployment.manifest)) in said, said


def test_an_analyst_runs_a_trusted_query_by_its_id_over_post(deployment):
    identifier = operation_id(deployment.manifest, "Me")
    response = graphql_post(
        deployment.server,
        deployment.analyst,
        {"documentId": identifier, "operationName": "Me", "variables": {}},
    )
    assert data_of(response) == {"me": {"name": "ann", "role": "ANALYST"}}


def test_an_analyst_runs_a_trusted_query_by_its_id_over_get(deployment):
    identifier = operation_id(deployment.manifest, "Me")
    response = graphql_get(
        deployment.server, deployment.analyst, {"documentId": identifier, "operationName": "Me"}
    )
    assert data_of(response) == {"me": {"name": "ann", "role": "ANALYST"}}


def test_apollo_persisted_query_extensions_name_a_trusted_document(deployment):
    digest = operation_id(deployment.manifest, "Me").removeprefix("sha256:")
    response = graphql_post(
        deployment.server,
        deployment.analyst,
        {
            "operationName": "Me",
            "variables": {},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
        },
    )
    assert data_of(response) == {"me": {"name": "ann", "role": "ANALYST"}}


def test_mutations_and_queries_with_variables_run_by_id(deployment):
    server, manifest = deployment.server, deployment.manifest
    created = graphql_post(
        server,
        deployment.admin,
        {
            "documentId": operation_id(manifest, "CreateWorkflow"),
            "operationName": "CreateWorkflow",
            "variables": {
                "input": {
                    "key": "by-id",
                    "name": "By id",
                    "kind": "CLASSIFICATION",
                    "reviewerRole": "EXPERT",
                    "actions": ["A", "B"],
                }
            },
        },
    )
    assert data_of(created)["createWorkflow"]["__typename"] == "WorkflowSuccess"
    submitted = graphql_post(
        server,
        deployment.admin,
        {
            "documentId": operation_id(manifest, "SubmitRecommendations"),
            "operationName": "SubmitRecommendations",
            "variables": {
                "workflow": "by-id",
                "items": [{"payload": {}, "proposedAction": "A", "confidence": 0.95}],
            },
        },
    )
    result = data_of(submitted)["submitRecommendations"]
    assert result["__typename"] == "SubmitSuccess", result
    assert result["recommendations"][0]["status"] == "APPROVED"  # automatically: a decision

    decisions = graphql_post(
        server,
        deployment.analyst,
        {
            "documentId": operation_id(manifest, "Decisions"),
            "operationName": "Decisions",
            "variables": {"workflow": "by-id", "first": 10},
        },
    )
    log = data_of(decisions)["decisions"]
    assert log["totalCount"] == 1
    assert log["edges"][0]["node"]["verdict"] == "APPROVE"
    assert log["edges"][0]["node"]["automated"] is True


def test_a_bare_hex_key_in_a_manifest_answers_to_its_sha256_id(deployment, tmp_path):
    digest = hashlib.sha256(MY_NAME.encode()).hexdigest()
    manifest = tmp_path / "bare.json"
    manifest.write_text(json.dumps({digest: MY_NAME}))
    load = arbiter(deployment.server.database_url, "documents", "load", str(manifest))
    assert load.returncode == 0, load.stderr

    response = graphql_post(
        deployment.server,
        deployment.analyst,
        {"documentId": f"sha256:{digest}", "operationName": "MyName", "variables": {}},
    )
    assert data_of(response) == {"me": {"name": "ann"}}


def test_an_analyst_sending_an_unknown_id_is_told_it_is_not_found(deployment):
    response = graphql_post(
        deployment.server, deployment.analyst, {"documentId": UNKNOWN_ID, "variables": {}}
    )
    code, message = refusal(response)
    assert code == "PERSISTED_QUERY_NOT_FOUND", message


def test_an_analyst_sending_a_document_is_refused_and_nothing_changes(deployment):
    server = deployment.server
    created = graphql_post(
        server,
        deployment.admin,
        {
            "query": 'mutation { createWorkflow(input: {key: "raw", name: "Raw", '
            'kind: CLASSIFICATION, reviewerRole: EXPERT, actions: ["A", "B"]}) { __typename } }'
        },
    )
    assert data_of(created)["createWorkflow"]["__typename"] == "WorkflowSuccess"
    submitted = graphql_post(
        server,
        deployment.admin,
        {
            "query": 'mutation { submitRecommendations(workflow: "raw", items: [{payload: {}, '
            'proposedAction: "A", confidence: 0.8}]) { __typename } }'
        },
    )
    assert data_of(submitted)["submitRecommendations"]["__typename"] == "SubmitSuccess"

    claim = graphql_post(
        server,
        deployment.analyst,
        {"query": 'mutation { claimNext(workflow: "raw") { __typename } }'},
    )
    code, message = refusal(claim)
    assert code == "TRUSTED_DOCUMENT_REQUIRED", message

    queue = graphql_post(
        server,
        deployment.admin,
        {"query": '{ queue(workflow: "raw") { edges { node { status claim { expiresAt } } } } }'},
    )
    (item,) = data_of(queue)["queue"]["edges"]
    assert item["node"] == {"status": "PENDING", "claim": None}


def test_an_admin_may_send_documents_but_an_unknown_id_is_still_not_found(deployment):
    raw = graphql_post(deployment.server, deployment.admin, {"query": "{ me { role } }"})
    assert data_of(raw) == {"me": {"role": "ADMIN"}}

    unknown = graphql_post(
        deployment.server, deployment.admin, {"documentId": UNKNOWN_ID, "variables": {}}
    )
    code, message = refusal(unknown)
    assert code == "PERSISTED_QUERY_NOT_FOUND", message


def test_a_manifest_with_one_wrong_hash_is_refused_whole(deployment, tmp_path):
    text = "query Role { me { role } }"
    right = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    manifest = tmp_path / "wrong.json"
    manifest.write_text(json.dumps({right: text, "sha256:" + "1" * 64: "query X { me { name } }"}))

    load = arbiter(deployment.server.database_url, "documents", "load", str(manifest))

    assert load.returncode != 0
    assert "1111" in load.stderr, load.stderr  # names the wrong entry
    response = graphql_post(
        deployment.server, deployment.admin, {"documentId": right, "variables": {}}
    )
    code, message = refusal(response)
    assert code == "PERSISTED_QUERY_NOT_FOUND", message


def test_a_document_loaded_once_is_known_to_every_replica(deployment, tmp_path):
    text = "query MyRole { me { role } }"
    identifier = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    manifest = tmp_path / "later.json"
    manifest.write_text(json.dumps({identifier: text}))
    first, database_url = deployment.server, deployment.server.database_url
    request = {"documentId": identifier, "variables": {}}

    with arbiter_serve(database_url, tmp_path, trusted_documents_only="true") as second:
        # loaded after both started: neither can have read it at startup
        load = arbiter(database_url, "documents", "load", str(manifest))
        assert load.returncode == 0, load.stderr
        answers = [
            data_of(graphql_post(replica, deployment.analyst, request))
            for replica in (first, second)
        ]

    assert answers == [{"me": {"role": "ANALYST"}}] * 2

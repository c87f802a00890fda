"""Trusted documents: registered from a manifest, sent by id, and with
ARBITER_TRUSTED_DOCUMENTS_ONLY the only documents anyone but an admin may run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import api.trusted_documents
from api.documents_command import load_documents
from domain.errors import InvalidInputError
from tests.api.test_hardening import http_with
from tests.factories import create_user

ME = "query Me { me { name role } }"
WORKFLOW = "query Workflow($key: String!) { workflow(key: $key) { key } }"
NEW = {"Accept": "application/graphql-response+json"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest_file(tmp_path: Path, entries: dict[str, str], name: str = "documents.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(entries))
    return path


async def registered(gql: Any) -> set[str]:
    async with gql.services.read_session() as session:
        rows = await session.execute(sa.text("SELECT id FROM trusted_documents"))
        return {row[0] for row in rows}


async def load(gql: Any, tmp_path: Path, *documents: str) -> tuple[int, int]:
    path = manifest_file(tmp_path, {f"sha256:{sha(d)}": d for d in documents})
    return await load_documents(gql.services.settings, path)


async def send(gql: Any, token: str, body: dict[str, Any], **headers: str) -> Any:
    return await gql.http.post(
        "/graphql",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers},
    )


async def test_a_client_sends_only_the_id_of_a_registered_document(gql, tmp_path):
    admin = await create_user(gql.services, "admin", name="by-id")
    assert await load(gql, tmp_path, ME, WORKFLOW) == (2, 2)

    response = await send(gql, admin, {"documentId": f"sha256:{sha(ME)}"})

    assert response.json() == {"data": {"me": {"name": "by-id", "role": "ADMIN"}}}


async def test_an_id_is_also_taken_by_get_and_from_apollos_persisted_query_extension(gql, tmp_path):
    admin = await create_user(gql.services, "admin", name="apollo")
    await load(gql, tmp_path, ME)

    by_get = await gql.http.get(
        "/graphql",
        params={"documentId": f"sha256:{sha(ME)}"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    apollo = await send(
        gql, admin, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(ME)}}}
    )

    assert by_get.json() == apollo.json() == {"data": {"me": {"name": "apollo", "role": "ADMIN"}}}


async def test_a_manifest_with_bare_hex_keys_answers_to_sha256_ids(gql, tmp_path):
    admin = await create_user(gql.services, "admin", name="bare")
    await load_documents(gql.services.settings, manifest_file(tmp_path, {sha(ME): ME}))

    response = await send(gql, admin, {"documentId": f"sha256:{sha(ME).upper()}"})

    assert response.json()["data"]["me"]["name"] == "bare"


async def test_an_unknown_id_is_persisted_query_not_found(gql):
    admin = await create_user(gql.services, "admin")
    unknown = f"sha256:{sha('{ me { id } }')}"

    as_json = await send(gql, admin, {"documentId": unknown})
    as_new = await send(gql, admin, {"documentId": unknown}, **NEW)

    assert as_json.status_code == 200 and as_json.json()["data"] is None
    assert as_new.status_code == 400 and "data" not in as_new.json()
    for response in (as_json, as_new):
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert unknown in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "md5:abc"},
        {"documentId": 12},
        {"documentId": "sha256:xyz"},
        {"extensions": {"persistedQuery": {"version": 1}}},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(ME)}}},
    ],
)
async def test_an_id_that_cannot_be_a_document_id_is_a_bad_request(gql, body):
    admin = await create_user(gql.services, "admin")

    response = await send(gql, admin, body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_query_that_is_not_the_document_its_id_names_is_refused(gql, tmp_path):
    admin = await create_user(gql.services, "admin")
    await load(gql, tmp_path, ME)

    response = await send(gql, admin, {"documentId": f"sha256:{sha(ME)}", "query": "{ me { id } }"})

    assert response.status_code == 400


async def test_a_manifest_with_a_wrong_hash_registers_nothing(gql, tmp_path):
    path = manifest_file(tmp_path, {f"sha256:{sha(ME)}": ME, f"sha256:{sha('x')}": WORKFLOW})

    with pytest.raises(InvalidInputError, match="not the SHA-256 of its document"):
        await load_documents(gql.services.settings, path)

    assert await registered(gql) == set()


async def test_a_manifest_with_a_document_the_schema_cannot_run_registers_nothing(gql, tmp_path):
    wrong = "query Nick { me { nickname } }"

    with pytest.raises(InvalidInputError, match="nickname"):
        await load(gql, tmp_path, ME, wrong)

    assert await registered(gql) == set()


@pytest.mark.parametrize("content", ["not json", "[1, 2]", "{}"])
async def test_a_file_that_is_not_a_manifest_registers_nothing(gql, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)

    with pytest.raises(InvalidInputError):
        await load_documents(gql.services.settings, path)

    assert await registered(gql) == set()


async def test_loading_a_manifest_again_adds_nothing(gql, tmp_path):
    await load(gql, tmp_path, ME, WORKFLOW)

    assert await load(gql, tmp_path, ME, WORKFLOW) == (0, 2)
    assert len(await registered(gql)) == 2


async def test_a_trusted_document_is_parsed_once_per_process(gql, tmp_path, monkeypatch):
    admin = await create_user(gql.services, "admin")
    await load(gql, tmp_path, ME)
    parses = []
    real_parse = api.trusted_documents.parse
    monkeypatch.setattr(
        api.trusted_documents, "parse", lambda *a, **k: parses.append(1) or real_parse(*a, **k)
    )

    for _ in range(3):
        response = await send(gql, admin, {"documentId": f"sha256:{sha(ME)}"})
        assert response.json()["data"]["me"]["role"] == "ADMIN"

    assert len(parses) == 1


async def test_another_replica_on_the_same_database_knows_a_loaded_document(
    gql, database_url, tmp_path
):
    admin = await create_user(gql.services, "admin", name="replicated")
    await load(gql, tmp_path, ME)

    async with http_with(database_url) as other:
        response = await send(other, admin, {"documentId": f"sha256:{sha(ME)}"})

    assert response.json()["data"]["me"]["name"] == "replicated"


async def test_with_trusted_documents_only_a_reviewer_may_run_nothing_else(
    gql, database_url, tmp_path
):
    analyst = await create_user(gql.services, "analyst", name="reviewer")
    await load(gql, tmp_path, ME)

    async with http_with(database_url, trusted_documents_only=True) as strict:
        by_id = await send(strict, analyst, {"documentId": f"sha256:{sha(ME)}"})
        same_text = await send(strict, analyst, {"query": ME})
        raw = await send(strict, analyst, {"query": "{ me { id } }"})
        raw_new = await send(strict, analyst, {"query": "{ me { id } }"}, **NEW)
        unknown = await send(strict, analyst, {"documentId": f"sha256:{sha('{ me { id } }')}"})

    assert by_id.json()["data"]["me"]["name"] == "reviewer"
    assert same_text.json()["data"]["me"]["name"] == "reviewer"
    for refused in (raw, raw_new):
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_trusted_documents_only_an_admin_still_runs_any_document(gql, database_url):
    admin = await create_user(gql.services, "admin", name="keeper")

    async with http_with(database_url, trusted_documents_only=True) as strict:
        raw = await send(strict, admin, {"query": "{ me { name } }"})

    assert raw.json() == {"data": {"me": {"name": "keeper"}}}

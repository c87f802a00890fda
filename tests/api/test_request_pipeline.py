"""A repeated query is parsed and validated once; the limits still hold for new ones."""

from __future__ import annotations

import uuid

import strawberry.schema.schema as strawberry_schema

from tests.api.test_hardening import chain
from tests.factories import create_user


async def test_the_same_query_twice_is_validated_once(gql, monkeypatch):
    token = await create_user(gql.services, "analyst")
    calls = []
    validate = strawberry_schema.validate

    def counting(*args, **kwargs):
        calls.append(1)
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    query = f"query Unique{uuid.uuid4().hex} {{ me {{ name }} }}"  # new to the caches
    for _ in range(3):
        assert (await gql(query, token=token))["me"]["name"]
    assert len(calls) == 1


async def test_a_too_deep_query_is_refused_again_when_it_comes_from_the_caches(gql):
    token = await create_user(gql.services, "analyst")
    query = f'{{ recommendation(id: "rec_x") {{ {chain(12)} }} }}'
    for _ in range(2):
        response = await gql.post(query, token=token)
        errors = response.json()["errors"]
        assert "depth" in errors[0]["message"], errors

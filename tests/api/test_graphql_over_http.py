"""GraphQL over HTTP as its spec describes it: queries by GET, and the
application/graphql-response+json media type with its status codes, next to the
application/json answers existing clients rely on."""

from __future__ import annotations

import json

import pytest

from api.media_types import GRAPHQL_RESPONSE_JSON, JSON, response_media_type
from tests.factories import create_user, create_workflow

NEW = {"Accept": GRAPHQL_RESPONSE_JSON}


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


async def post(gql, token: str, body: object, **headers: str):
    return await gql.http.post(
        "/graphql",
        content=json.dumps(body),
        headers=bearer(token, **{"Content-Type": "application/json"}, **headers),
    )


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=zero, */*", JSON),
        ("text/html", JSON),
        (f"text/html, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_the_answer_uses_the_media_type_the_client_prefers(accept, chosen):
    assert response_media_type(accept) == chosen


async def test_a_query_sent_by_get_is_answered_as_by_post(gql):
    admin = await create_user(gql.services, "admin", name="getter")
    query = "query Me { me { name role } }"

    by_get = await gql.http.get(
        "/graphql", params={"query": query, "operationName": "Me"}, headers=bearer(admin)
    )
    by_post = await post(gql, admin, {"query": query, "operationName": "Me"})

    assert by_get.status_code == 200, by_get.text
    assert by_get.json() == by_post.json() == {"data": {"me": {"name": "getter", "role": "ADMIN"}}}
    assert by_get.headers["content-type"] == JSON
    assert by_get.headers["cache-control"] == "no-store"


async def test_a_query_by_get_takes_its_variables_as_url_encoded_json(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin, key="by-get")

    response = await gql.http.get(
        "/graphql",
        params={
            "query": "query W($key: String!) { workflow(key: $key) { key } }",
            "variables": json.dumps({"key": workflow["key"]}),
        },
        headers=bearer(admin),
    )

    assert response.json() == {"data": {"workflow": {"key": "by-get"}}}


async def test_a_query_by_get_keeps_the_limits_of_a_post(gql):
    admin = await create_user(gql.services, "admin")
    deep = "{ me " + "{ id " * 12 + "}" * 13
    many = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"

    for query in (deep, many):
        by_get = await gql.http.get("/graphql", params={"query": query}, headers=bearer(admin))
        by_post = await post(gql, admin, {"query": query})
        assert by_get.json() == by_post.json()
        assert by_get.json()["data"] is None and by_get.json()["errors"]


async def test_a_subscription_sent_by_get_is_refused_with_405(gql):
    admin = await create_user(gql.services, "admin")

    response = await gql.http.get(
        "/graphql",
        params={"query": 'subscription { queueEvents(workflow: "x") { id } }'},
        headers=bearer(admin),
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_with_the_new_media_type_a_syntax_error_is_a_400_without_data(gql):
    admin = await create_user(gql.services, "admin")

    response = await post(gql, admin, {"query": "{ me { id }"}, **NEW)

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_with_the_new_media_type_a_validation_failure_is_a_400_without_data(gql):
    admin = await create_user(gql.services, "admin")

    response = await post(gql, admin, {"query": "{ me { nickname } }"}, **NEW)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert "nickname" in body["errors"][0]["message"]


async def test_with_the_new_media_type_variables_that_do_not_coerce_are_a_400(gql):
    admin = await create_user(gql.services, "admin")
    query = "query W($key: String!) { workflow(key: $key) { key } }"

    response = await post(gql, admin, {"query": query, "variables": {"key": None}}, **NEW)

    assert response.status_code == 400
    assert "data" not in response.json()


async def test_with_the_new_media_type_a_problem_is_data_with_200(gql):
    admin = await create_user(gql.services, "admin")
    query = 'mutation { approve(id: "rec_nope") { __typename ... on Problem { message } } }'

    response = await post(gql, admin, {"query": query}, **NEW)

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json()["data"]["approve"]["__typename"] == "NotFound"


async def test_with_json_a_document_that_never_ran_is_still_a_200_with_null_data(gql):
    admin = await create_user(gql.services, "admin")

    for query in ("{ me { id }", "{ me { nickname } }"):
        response = await post(gql, admin, {"query": query}, Accept="application/json")
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON
        body = response.json()
        assert body["data"] is None and body["errors"]


async def test_refusals_before_graphql_use_the_media_type_asked_for(gql):
    response = await gql.http.post(
        "/graphql",
        content=b'{"query": "{ me { id } }"}',
        headers={"Content-Type": "application/json", **NEW},
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON


@pytest.mark.parametrize("operation_name", [{"obj": "ect"}, 0, False, ["array"]])
async def test_an_operation_name_that_is_not_a_string_is_a_400(gql, operation_name):
    admin = await create_user(gql.services, "admin")

    response = await post(gql, admin, {"query": "{ __typename }", "operationName": operation_name})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_subscription_sent_by_post_is_refused_and_runs_nothing(gql):
    admin = await create_user(gql.services, "admin")
    query = 'subscription { queueEvents(workflow: "x") { id } }'

    response = await post(gql, admin, {"query": query})

    assert response.status_code == 400
    assert "subscription" in response.json()["errors"][0]["message"]

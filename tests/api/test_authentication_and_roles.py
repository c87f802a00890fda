"""Who is asking, and what each role may do: bearer tokens, createUser, and Forbidden answers."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from store.tables import metadata
from tests.factories import create_user, create_workflow, submit_one

ME = "query { me { id name role } }"

CREATE_USER = """
mutation($name: String!, $role: Role!) {
  createUser(name: $name, role: $role) {
    __typename
    ... on UserSuccess { user { id name role } token }
    ... on InvalidInput { field }
    ... on Problem { message }
  }
}
"""

DECISION_RESULT = """
  __typename
  ... on DecisionSuccess { decision { verdict actor { name } } recommendation { id status } }
  ... on Problem { message }
"""

RECOMMENDATION = """
query($id: ID!) {
  recommendation(id: $id) { id tier status }
  node(id: $id) { id }
}
"""

QUEUE = """
query($wf: String!, $tiers: [Tier!]) {
  queue(workflow: $wf, tiers: $tiers) { totalCount edges { node { id tier } } }
}
"""


async def snapshot(database: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: compare two to prove nothing was written.

    The outbox's published_at is left out: the publisher stamps it in the background.
    """
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with database.read_engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [c for c in table.c if c.name != "published_at"]
            rows = (await connection.execute(sa.select(*columns))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def count(database: Any, table_name: str) -> int:
    table = metadata.tables[table_name]
    async with database.read_engine.connect() as connection:
        return int(
            (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


# ---------------------------------------------------------------- authentication


async def test_a_request_without_an_authorization_header_is_a_401_with_errors_and_no_data(
    gql, database
):
    response = await gql.post(
        'mutation { createUser(name: "intruder", role: ADMIN) { __typename } }'
    )

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("www-authenticate") == "Bearer"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count(database, "users") == 0


async def test_a_token_nobody_holds_is_a_401(gql, database):
    await create_user(gql.services, "admin")

    response = await gql.post(ME, token="not-a-token-anyone-was-given")

    assert response.status_code == 401
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header", ["Basic x", "Bearer ", "Bearer", "Token abc", "bearer"], ids=repr
)
async def test_a_malformed_authorization_header_is_a_401(gql, header):
    admin = await create_user(gql.services, "admin")

    response = await gql.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": header}
    )
    # The admin's own token behind a wrong scheme is still refused.
    basic = await gql.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Basic {admin}"}
    )

    for answer in (response, basic):
        assert answer.status_code == 401
        body = answer.json()
        assert "data" not in body
        assert body["errors"]


async def test_me_returns_the_caller_its_token_belongs_to(gql):
    token = await create_user(gql.services, "senior", name="sam")

    me = (await gql(ME, token=token))["me"]

    assert me["name"] == "sam"
    assert me["role"] == "SENIOR"
    assert me["id"].startswith("usr_")


# ---------------------------------------------------------------- createUser


async def test_an_admin_creates_a_user_whose_token_then_works_for_me(gql, database):
    admin = await create_user(gql.services, "admin")

    result = (await gql(CREATE_USER, {"name": "ana", "role": "ANALYST"}, token=admin))["createUser"]

    assert result["__typename"] == "UserSuccess", result
    assert result["user"]["name"] == "ana"
    assert result["user"]["role"] == "ANALYST"
    token = result["token"]
    assert token
    me = (await gql(ME, token=token))["me"]
    assert me == result["user"]

    users, tokens = metadata.tables["users"], metadata.tables["api_tokens"]
    async with database.read_engine.connect() as connection:
        row = (await connection.execute(sa.select(users).where(users.c.name == "ana"))).one()
        kept = (
            (
                await connection.execute(
                    sa.select(tokens.c.token_hash).where(tokens.c.user_id == row.id)
                )
            )
            .scalars()
            .all()
        )
    assert row.role == "ANALYST"
    assert len(kept) == 1 and token not in kept[0]  # only a digest of the token is kept


@pytest.mark.parametrize("role", ["analyst", "senior", "service"])
async def test_only_an_admin_may_create_users(gql, database, role):
    caller = await create_user(gql.services, role)
    before = await count(database, "users")

    result = (await gql(CREATE_USER, {"name": "mallory", "role": "ADMIN"}, token=caller))[
        "createUser"
    ]

    assert result["__typename"] == "Forbidden", result
    assert result["message"]
    assert await count(database, "users") == before


async def test_a_user_name_in_use_is_a_conflict(gql, database):
    admin = await create_user(gql.services, "admin")
    first = (await gql(CREATE_USER, {"name": "ana", "role": "ANALYST"}, token=admin))["createUser"]
    assert first["__typename"] == "UserSuccess"

    again = (await gql(CREATE_USER, {"name": "ana", "role": "SENIOR"}, token=admin))["createUser"]
    padded = (await gql(CREATE_USER, {"name": "  ana ", "role": "SENIOR"}, token=admin))[
        "createUser"
    ]

    assert again["__typename"] == "Conflict", again
    assert padded["__typename"] == "Conflict", padded
    assert await count(database, "users") == 2


@pytest.mark.parametrize("name", ["", "   ", "n" * 101], ids=["empty", "spaces", "too long"])
async def test_a_blank_or_overlong_user_name_is_invalid_input_naming_the_field(gql, database, name):
    admin = await create_user(gql.services, "admin")

    result = (await gql(CREATE_USER, {"name": name, "role": "ANALYST"}, token=admin))["createUser"]

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == "name"
    assert await count(database, "users") == 1


# ---------------------------------------------------------------- what each role may not call

PROBLEM = "{ __typename ... on Problem { message } }"

# name: the mutation, with the variables it uses ($wf: workflow key, $id: a PENDING
# ANALYST_REVIEW item, $needsData: a NEEDS_DATA item).
CALLS: dict[str, str] = {
    "claimNext": f"mutation($wf: String!) {{ claimNext(workflow: $wf) {PROBLEM} }}",
    "claim": f"mutation($id: ID!) {{ claim(id: $id) {PROBLEM} }}",
    "release": f"mutation($id: ID!) {{ release(id: $id) {PROBLEM} }}",
    "approve": f"mutation($id: ID!) {{ approve(id: $id) {PROBLEM} }}",
    "reject": f'mutation($id: ID!) {{ reject(id: $id, reason: "no") {PROBLEM} }}',
    "flag": f'mutation($id: ID!) {{ flag(id: $id, note: "later") {PROBLEM} }}',
    "override": (
        f'mutation($id: ID!) {{ override(id: $id, action: "B", reason: "because") {PROBLEM} }}'
    ),
    "submitRecommendations": (
        "mutation($wf: String!) { submitRecommendations(workflow: $wf, items: "
        '[{payload: {amount: 1}, proposedAction: "A", confidence: 0.95}]) ' + PROBLEM + " }"
    ),
    "provideData": (
        "mutation($needsData: ID!) { provideData(id: $needsData, payload: {more: 1}) "
        + PROBLEM
        + " }"
    ),
    "createWorkflow": (
        'mutation { createWorkflow(input: {key: "sneaky", name: "Sneaky", kind: CLASSIFICATION, '
        'reviewerRole: VERIFIER, actions: ["A", "B"]}) ' + PROBLEM + " }"
    ),
    "updateEscalationPolicy": (
        "mutation($wf: String!) { updateEscalationPolicy(workflow: $wf, input: "
        "{autoApproveAt: 0.5, analystAt: 0.4, seniorAt: 0.3}) " + PROBLEM + " }"
    ),
    "createUser": f'mutation {{ createUser(name: "mallory", role: ADMIN) {PROBLEM} }}',
}


def _variables_of(text: str, every: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in every.items() if f"${name}" in text}


FORBIDDEN_CALLS = [
    *(
        ("service", call)
        for call in (
            "claimNext",
            "claim",
            "release",
            "approve",
            "reject",
            "flag",
            "override",
            "createWorkflow",
            "updateEscalationPolicy",
            "createUser",
        )
    ),
    *(
        (role, call)
        for role in ("analyst", "senior")
        for call in (
            "submitRecommendations",
            "provideData",
            "createWorkflow",
            "updateEscalationPolicy",
            "createUser",
        )
    ),
]


@pytest.mark.parametrize(
    ("role", "call"), FORBIDDEN_CALLS, ids=[f"{r}-{c}" for r, c in FORBIDDEN_CALLS]
)
async def test_a_role_calling_a_mutation_it_may_not_gets_forbidden_and_nothing_is_stored(
    gql, database, role, call
):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    caller = await create_user(services, role)
    workflow = await create_workflow(gql, admin, policy={"belowFloor": "REQUEST_MORE_DATA"})
    pending = await submit_one(gql, model, workflow["key"], confidence=0.8)
    needs_data = await submit_one(gql, model, workflow["key"], confidence=0.3)
    assert needs_data["status"] == "NEEDS_DATA"
    before = await snapshot(database)

    text = CALLS[call]
    every = {"wf": workflow["key"], "id": pending["id"], "needsData": needs_data["id"]}
    result = (await gql(text, _variables_of(text, every), token=caller))[call]

    assert result["__typename"] == "Forbidden", result
    assert result["message"]
    assert await snapshot(database) == before


# ---------------------------------------------------------------- tiers: analysts and seniors


async def test_an_analyst_may_not_decide_a_senior_review_item_and_it_stays_unchanged(gql, database):
    """An item outside the caller's visible tiers is answered as absent (NotFound, not
    Forbidden; domain/usecases/review.load_visible), so that its existence does not leak."""
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    item = await submit_one(gql, model, workflow["key"], confidence=0.6)
    assert item["tier"] == "SENIOR_REVIEW"
    before = await snapshot(database)

    approve = (
        await gql(
            f"mutation($id: ID!) {{ approve(id: $id) {{ {DECISION_RESULT} }} }}",
            {"id": item["id"]},
            token=analyst,
        )
    )["approve"]
    claim = (
        await gql(
            "mutation($id: ID!) { claim(id: $id) { __typename } }",
            {"id": item["id"]},
            token=analyst,
        )
    )["claim"]

    assert approve["__typename"] == "NotFound", approve
    assert claim["__typename"] == "NotFound", claim
    assert await snapshot(database) == before


async def test_an_analyst_does_not_see_senior_review_items_by_id_or_in_the_queue(gql):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin)
    mine = await submit_one(gql, model, workflow["key"], confidence=0.8)
    senior_only = await submit_one(gql, model, workflow["key"], confidence=0.6)

    hidden = await gql(RECOMMENDATION, {"id": senior_only["id"]}, token=analyst)
    visible = await gql(RECOMMENDATION, {"id": mine["id"]}, token=analyst)
    queue = (await gql(QUEUE, {"wf": workflow["key"]}, token=analyst))["queue"]
    asked = (await gql(QUEUE, {"wf": workflow["key"], "tiers": ["SENIOR_REVIEW"]}, token=analyst))[
        "queue"
    ]
    claimed = (
        await gql(
            "mutation($wf: String!) { claimNext(workflow: $wf, tiers: [SENIOR_REVIEW]) "
            "{ __typename } }",
            {"wf": workflow["key"]},
            token=analyst,
        )
    )["claimNext"]

    assert hidden == {"recommendation": None, "node": None}
    assert visible["recommendation"]["id"] == mine["id"]
    assert [e["node"]["id"] for e in queue["edges"]] == [mine["id"]]
    assert queue["totalCount"] == 1
    assert asked == {"totalCount": 0, "edges": []}
    assert claimed["__typename"] == "QueueEmpty"

    # A senior sees both.
    senior = await create_user(services, "senior")
    seen = (await gql(QUEUE, {"wf": workflow["key"]}, token=senior))["queue"]
    assert {e["node"]["id"] for e in seen["edges"]} == {mine["id"], senior_only["id"]}


async def test_a_senior_decides_senior_review_and_needs_data_items(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    senior = await create_user(services, "senior", name="sen")
    workflow = await create_workflow(gql, admin, policy={"belowFloor": "REQUEST_MORE_DATA"})
    senior_item = await submit_one(gql, model, workflow["key"], confidence=0.6)
    needs_data = await submit_one(gql, model, workflow["key"], confidence=0.3)
    assert (needs_data["tier"], needs_data["status"]) == ("BELOW_FLOOR", "NEEDS_DATA")

    approved = (
        await gql(
            f"mutation($id: ID!) {{ approve(id: $id) {{ {DECISION_RESULT} }} }}",
            {"id": senior_item["id"]},
            token=senior,
        )
    )["approve"]
    rejected = (
        await gql(
            'mutation($id: ID!) { reject(id: $id, reason: "no data coming") { '
            + DECISION_RESULT
            + " } }",
            {"id": needs_data["id"]},
            token=senior,
        )
    )["reject"]

    assert approved["__typename"] == "DecisionSuccess", approved
    assert approved["decision"] == {"verdict": "APPROVE", "actor": {"name": "sen"}}
    assert approved["recommendation"]["status"] == "APPROVED"
    assert rejected["__typename"] == "DecisionSuccess", rejected
    assert rejected["decision"] == {"verdict": "REJECT", "actor": {"name": "sen"}}
    assert rejected["recommendation"]["status"] == "REJECTED"

    recs = metadata.tables["recommendations"]
    async with database.read_engine.connect() as connection:
        rows = {
            row.id: row.status
            for row in await connection.execute(sa.select(recs.c.id, recs.c.status))
        }
    assert rows == {senior_item["id"]: "APPROVED", needs_data["id"]: "REJECTED"}


async def test_an_analyst_may_not_decide_a_needs_data_item(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    analyst = await create_user(services, "analyst")
    workflow = await create_workflow(gql, admin, policy={"belowFloor": "REQUEST_MORE_DATA"})
    needs_data = await submit_one(gql, model, workflow["key"], confidence=0.3)
    before = await snapshot(database)

    result = (
        await gql(
            f"mutation($id: ID!) {{ reject(id: $id) {{ {DECISION_RESULT} }} }}",
            {"id": needs_data["id"]},
            token=analyst,
        )
    )["reject"]

    assert result["__typename"] in ("Forbidden", "NotFound"), result
    assert await snapshot(database) == before

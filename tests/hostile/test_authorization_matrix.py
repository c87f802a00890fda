"""Every Query and Mutation field x every role x own / other's item: the contract's answer.

The table below is read off the contract's doc strings (shared/contract/schema.graphql)
and domain/rights.py:

- SERVICE and ADMIN submit, provide data, submit cases and record outcomes; SERVICE
  reviews nothing (a reviewer mutation is Forbidden), whatever the item.
- ANALYST reads and decides AUTO_APPROVE and ANALYST_REVIEW; an item outside the tiers
  it may read is answered as absent (NotFound, or null / left out of lists) so that its
  existence does not leak. SENIOR and ADMIN read and decide every tier.
- Ownership: a claim is its holder's. Claiming or deciding an item another reviewer
  holds is a Conflict (the item is taken); releasing someone else's lease is a Conflict
  (tests/api/test_decisions.py), except for an ADMIN, who may release anyone's. Undoing
  someone else's decision is Forbidden, except for an ADMIN.
- ADMIN only: users, teams and workflows' teams, workflows, policies, webhooks,
  retraining, theme mining, jobs. assign: ADMIN, and SENIOR in workflows they review.
- divergence, agreement: not SERVICE; reviewerStats: not SERVICE, an ANALYST gets only its own
  row; simulatePolicy and recommendThreshold: SENIOR and ADMIN; webhooks: ADMIN
  (FORBIDDEN errors otherwise).

Scopes: "own" means the caller holds the claim on the item (or made the decision);
"other" means another reviewer does; "hidden" means the item is in a tier the caller
may not read; "-" means ownership does not apply (any SERVICE may submit to any
workflow: workflows have no owner). A refused mutation must leave every table as it was.

SQLite only: the matrix is about rules that live above the store (domain/ and api/),
and its ~200 cases each build a fresh world; the API tests run the same paths on both
backends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import graphql
import pytest
import pytest_asyncio

from api.schema import build_schema
from tests.api.test_authentication_and_roles import snapshot
from tests.conftest import GraphQLClient, make_settings, settle
from tests.factories import create_user, create_workflow, proposal, submit

ROLES = ("SERVICE", "ANALYST", "SENIOR", "ADMIN")


@pytest.fixture
def backend() -> str:
    return "sqlite"


# ------------------------------------------------------------------ the world


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    webhook: str = ""
    job: str = ""
    ids: dict[str, str] = field(default_factory=dict)


CLAIM = "mutation($id: ID!) { claim(id: $id) { __typename } }"
CREATE_TEAM = """mutation($key: String!, $name: String!, $members: [ID!]!) {
  createTeam(key: $key, name: $name, members: $members) { __typename } }"""
APPROVE = """mutation($id: ID!) { approve(id: $id) {
  __typename ... on DecisionSuccess { decision { id } } } }"""
OVERRIDE = """mutation($id: ID!) { override(id: $id, action: "B", reason: "too costly") {
  __typename ... on DecisionSuccess { decision { id } } } }"""
WEBHOOK = """mutation { createWebhook(workflow: "shop", url: "http://127.0.0.1:9/hook",
  events: [ESCALATED]) { __typename ... on WebhookSuccess { webhook { id } } } }"""
MINE = """mutation { mineOverrideThemes(workflow: "shop") {
  __typename ... on JobSuccess { job { id } } } }"""


async def _ok(gql: GraphQLClient, query: str, variables: dict[str, Any], token: str) -> Any:
    data = await gql(query, variables, token=token)
    result = next(iter(data.values()))
    assert result["__typename"] in (
        "ClaimSuccess",
        "DecisionSuccess",
        "WebhookSuccess",
        "JobSuccess",
        "TeamSuccess",
    ), result
    return result


async def build_world(gql: GraphQLClient) -> World:
    """Two workflows (shop: CLASSIFICATION/EXPERT; mail: DRAFT/EDITOR, low confidence asks
    for more data), a user per role plus a second ANALYST and SENIOR, and items:

    analyst, senior     open items in ANALYST_REVIEW / SENIOR_REVIEW (shop)
    draft_analyst, draft_senior   open draft items (mail)
    needs_data          a NEEDS_DATA item (mail); shipped: an auto-approved draft (mail)
    done_analyst, done_senior     items the ANALYST / the SENIOR overrode
    done_admin          an ANALYST_REVIEW item the ADMIN approved
    (the three decisions, in `decisions`, can still be undone)
    """
    world = World()
    services = gql.services
    for role in ROLES:
        world.names[role] = role.lower()
        world.tokens[role] = await create_user(services, role, name=role.lower())
    for role in ("ANALYST", "SENIOR"):
        world.names[f"other-{role}"] = f"other-{role.lower()}"
        world.tokens[f"other-{role}"] = await create_user(
            services, role, name=f"other-{role.lower()}"
        )
    for who, token in world.tokens.items():
        world.ids[who] = (await gql("{ me { id } }", token=token))["me"]["id"]
    admin, model = world.tokens["ADMIN"], world.tokens["SERVICE"]
    await create_workflow(gql, admin, key="shop")
    await create_workflow(
        gql,
        admin,
        key="mail",
        kind="DRAFT",
        reviewerRole="EDITOR",
        actions=["send", "hold"],
        policy={"belowFloor": "REQUEST_MORE_DATA"},
    )
    shop = await submit(
        gql, model, "shop", *(proposal(c, action="A") for c in (0.8, 0.6, 0.8, 0.6, 0.8))
    )
    names = ["analyst", "senior", "done_analyst", "done_senior", "done_admin"]
    for name, item in zip(names, shop["recommendations"], strict=True):
        world.items[name] = item["id"]
    mail = await submit(
        gql,
        model,
        "mail",
        *(proposal(c, action="send", draft="Dear customer") for c in (0.8, 0.6, 0.3, 0.95)),
    )
    names = ["draft_analyst", "draft_senior", "needs_data", "shipped"]
    for name, item in zip(names, mail["recommendations"], strict=True):
        world.items[name] = item["id"]
    for role, name in (("ANALYST", "done_analyst"), ("SENIOR", "done_senior")):
        token, rec = world.tokens[role], world.items[name]
        await _ok(gql, CLAIM, {"id": rec}, token)
        decided = await _ok(gql, OVERRIDE, {"id": rec}, token)
        world.decisions[name] = decided["decision"]["id"]
    await _ok(gql, CLAIM, {"id": world.items["done_admin"]}, admin)
    approved = await _ok(gql, APPROVE, {"id": world.items["done_admin"]}, admin)
    world.decisions["done_admin"] = approved["decision"]["id"]
    night = {"key": "night", "name": "Night", "members": [world.ids["other-ANALYST"]]}
    await _ok(gql, CREATE_TEAM, night, admin)
    world.webhook = (await _ok(gql, WEBHOOK, {}, admin))["webhook"]["id"]
    world.job = (await _ok(gql, MINE, {}, admin))["job"]["id"]
    await settle(services)  # the job runs now, not in the middle of a test's snapshots
    return world


@pytest_asyncio.fixture(loop_scope="session")
async def world(gql: GraphQLClient) -> World:
    return await build_world(gql)


# ------------------------------------------------------------------ the table

OTHER = {"ANALYST": "other-ANALYST", "SENIOR": "other-SENIOR", "ADMIN": "other-SENIOR"}
"""Whose claim an item holds in scope "other"."""

DECIDABLE_ITEM = {"SERVICE": "analyst", "ANALYST": "analyst", "SENIOR": "senior", "ADMIN": "senior"}
DRAFT_ITEM = {
    "SERVICE": "draft_analyst",
    "ANALYST": "draft_analyst",
    "SENIOR": "draft_senior",
    "ADMIN": "draft_senior",
}
OWN_DECISION = {"ANALYST": "done_analyst", "SENIOR": "done_senior", "ADMIN": "done_admin"}
OTHERS_DECISION = {
    "SERVICE": "done_analyst",
    "ANALYST": "done_admin",
    "SENIOR": "done_analyst",
    "ADMIN": "done_senior",
}


@dataclass(frozen=True)
class Case:
    """One call: its text and variables (filled from the world), what it needs set up first,
    and the answer expected: a __typename, an error code, or a check of the data."""

    query: str
    expected: Any = None  # queries: an error code, a check, or by role one of those
    variables: Callable[[World, str], dict[str, Any]] = lambda w, r: {}
    writes: bool = True


def item(name: str) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, r: {"id": w.items[name]}


def role_item(table: dict[str, str]) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, r: {"id": w.items[table[r]]}


RESULT = "{ __typename ... on Problem { message } }"
DECIDE_MUTATIONS = {
    "approve": "approve(id: $id)",
    "reject": 'reject(id: $id, reason: "no")',
    "flag": 'flag(id: $id, note: "later")',
    "override": 'override(id: $id, action: "B", reason: "too costly")',
}


def decide(call: str) -> str:
    return f"mutation($id: ID!) {{ {call} {RESULT} }}"


def by_role(**answers: Any) -> dict[str, Any]:
    return {role: answers[role] for role in ROLES}


def reviewers(
    own: Any,
    other: Any,
    *,
    service: Any = "Forbidden",
    admin_other: Any = None,
    hidden: Any = "NotFound",
) -> dict[tuple[str, str], Any]:
    """A reviewer mutation on an item: SERVICE is refused; reviewers by ownership; an
    ANALYST on a SENIOR_REVIEW item finds nothing."""
    table: dict[tuple[str, str], Any] = {("SERVICE", "-"): service}
    for role in ("ANALYST", "SENIOR", "ADMIN"):
        table[(role, "own")] = own
        table[(role, "other")] = admin_other if role == "ADMIN" and admin_other else other
    table[("ANALYST", "hidden")] = hidden
    return table


# --- data checks for queries


def is_me(data: Any, world: World, role: str) -> None:
    assert data["name"] == world.names[role], data


def null(data: Any, world: World, role: str) -> None:
    assert data is None, data


def tiers_seen(data: Any, world: World, role: str) -> None:
    tiers = {edge["node"]["tier"] for edge in data["edges"]}
    if role == "ANALYST":
        assert tiers <= {"AUTO_APPROVE", "ANALYST_REVIEW"} and "ANALYST_REVIEW" in tiers, tiers
    else:
        assert "SENIOR_REVIEW" in tiers, tiers


def override_tiers_seen(data: Any, world: World, role: str) -> None:
    ids = {edge["node"]["recommendation"]["id"] for edge in data["edges"]}
    expected = {world.items["done_analyst"]}
    if role != "ANALYST":
        expected.add(world.items["done_senior"])
    assert ids == expected, ids


def visible_unless_analyst(data: Any, world: World, role: str) -> None:
    if role == "ANALYST":
        assert data is None, data
    else:
        assert data is not None and data["id"], data


def present(data: Any, world: World, role: str) -> None:
    assert data is not None and data["id"], data


def the_night_team(data: Any, world: World, role: str) -> None:
    assert data == [{"key": "night", "members": [{"name": "other-analyst"}]}], data


def both_workflows(data: Any, world: World, role: str) -> None:
    assert {w["key"] for w in data} == {"shop", "mail"}, data


def admin_only_node(data: Any, world: World, role: str) -> None:
    if role == "ADMIN":
        assert data is not None and data["id"], data
    else:
        assert data is None, data


def stats_rows(data: Any, world: World, role: str) -> None:
    names = {row["reviewer"]["name"] for row in data}
    if role == "ANALYST":
        assert names == {"analyst"}, names
    else:
        assert names == {"analyst", "senior", "admin"}, names


def one_review_per_item(data: Any, world: World, role: str) -> None:
    """shop needs one review per item: no votes, so nothing to agree on."""
    assert (data["items"], data["krippendorffAlpha"], data["reviewers"]) == (0, None, []), data


def divergence_seen(data: Any, world: World, role: str) -> None:
    tiers = {row["tier"] for row in data["byTier"]}
    names = {row["reviewer"]["name"] for row in data["byReviewer"]}
    if role == "ANALYST":
        assert tiers <= {"AUTO_APPROVE", "ANALYST_REVIEW"} and names == {"analyst"}, data
    else:
        assert "SENIOR_REVIEW" in tiers and names == {"analyst", "senior", "admin"}, data


def a_report(data: Any, world: World, role: str) -> None:
    assert data is not None, data


def six_months(data: Any, world: World, role: str) -> None:
    # What an analyst counts (its tiers only) is tested in tests/api/test_learning_by_month.
    assert len(data) == 6 and data[-1]["submitted"] > 0, data


def anything(data: Any, world: World, role: str) -> None:
    pass


def a_public_key(data: Any, world: World, role: str) -> None:
    assert isinstance(data, str) and len(data) == 44, data


def a_checkpoint(data: Any, world: World, role: str) -> None:
    assert data is not None and data["treeSize"] >= 1, data


def proof_unless_analyst(data: Any, world: World, role: str) -> None:
    if role == "ANALYST":
        assert data is None, data
    else:
        assert data is not None and data["leafIndex"] >= 0, data


def an_empty_proof(data: Any, world: World, role: str) -> None:
    assert data == [], data


def the_webhook(data: Any, world: World, role: str) -> None:
    assert [w["id"] for w in data] == [world.webhook], data


def every_user(data: Any, world: World, role: str) -> None:
    assert {u["name"] for u in data} == set(world.names.values()), data


def the_admin_record(data: Any, world: World, role: str) -> None:
    newest = [a["action"] for a in data][:4]
    assert newest == ["createWebhook", "createTeam", "createWorkflow", "createWorkflow"], newest


QUERY_CASES: dict[str, dict[str, Case]] = {
    "node": {
        "item": Case(
            "query($id: ID!) { node(id: $id) { id } }", visible_unless_analyst, item("senior")
        ),
        "decision": Case(
            "query($id: ID!) { node(id: $id) { id } }",
            visible_unless_analyst,
            lambda w, r: {"id": w.decisions["done_senior"]},
        ),
        "webhook": Case(
            "query($id: ID!) { node(id: $id) { id } }",
            admin_only_node,
            lambda w, r: {"id": w.webhook},
        ),
    },
    "me": {"-": Case("{ me { name } }", is_me)},
    "logPublicKey": {"-": Case("{ logPublicKey }", a_public_key)},
    "logCheckpoint": {"-": Case('{ logCheckpoint(workflow: "shop") { treeSize } }', a_checkpoint)},
    "inclusionProof": {
        "hidden": Case(
            "query($id: ID!) { inclusionProof(decisionId: $id) { leafIndex } }",
            proof_unless_analyst,
            lambda w, r: {"id": w.decisions["done_senior"]},
        )
    },
    "consistencyProof": {
        "-": Case('{ consistencyProof(workflow: "shop", fromSize: 1, toSize: 1) }', an_empty_proof)
    },
    "workflows": {"-": Case("{ workflows { key } }", both_workflows)},
    "teams": {"-": Case("{ teams { key members { name } } }", the_night_team)},
    "workflow": {"-": Case('{ workflow(key: "shop") { id } }', present)},
    "recommendation": {
        "hidden": Case(
            "query($id: ID!) { recommendation(id: $id) { id } }",
            visible_unless_analyst,
            item("senior"),
        ),
        "visible": Case(
            "query($id: ID!) { recommendation(id: $id) { id } }", present, item("analyst")
        ),
    },
    "queue": {
        "-": Case(
            '{ queue(workflow: "shop", statuses: [PENDING, OVERRIDDEN]) '
            "{ edges { node { tier } } } }",
            tiers_seen,
        )
    },
    "decisions": {
        "-": Case('{ decisions(workflow: "shop") { edges { node { tier } } } }', tiers_seen)
    },
    "overrides": {
        "-": Case(
            '{ overrides(workflow: "shop") { edges { node { recommendation { id } } } } }',
            override_tiers_seen,
        )
    },
    "job": {
        "-": Case(
            "query($id: ID!) { job(id: $id) { id } }",
            admin_only_node,
            lambda w, r: {"id": w.job},
        )
    },
    "webhooks": {
        "-": Case(
            '{ webhooks(workflow: "shop") { id } }',
            by_role(
                SERVICE="FORBIDDEN", ANALYST="FORBIDDEN", SENIOR="FORBIDDEN", ADMIN=the_webhook
            ),
        )
    },
    "users": {
        "-": Case(
            "{ users { name } }",
            by_role(SERVICE="FORBIDDEN", ANALYST="FORBIDDEN", SENIOR="FORBIDDEN", ADMIN=every_user),
        )
    },
    "adminActions": {
        "-": Case(
            "{ adminActions { action } }",
            by_role(
                SERVICE="FORBIDDEN",
                ANALYST="FORBIDDEN",
                SENIOR="FORBIDDEN",
                ADMIN=the_admin_record,
            ),
        )
    },
    "overrideThemes": {"-": Case('{ overrideThemes(workflow: "shop") { id } }', anything)},
    "feedbackReport": {"-": Case('{ feedbackReport(workflow: "shop") { message } }', null)},
    "divergence": {
        "-": Case(
            '{ divergence(workflow: "shop", window: WEEK) '
            "{ byTier { tier } byReviewer { reviewer { name } } } }",
            by_role(
                SERVICE="FORBIDDEN",
                ANALYST=divergence_seen,
                SENIOR=divergence_seen,
                ADMIN=divergence_seen,
            ),
        )
    },
    "agreement": {
        "-": Case(
            '{ agreement(workflow: "shop") { items krippendorffAlpha reviewers { reviews } } }',
            by_role(
                SERVICE="FORBIDDEN",
                ANALYST=one_review_per_item,
                SENIOR=one_review_per_item,
                ADMIN=one_review_per_item,
            ),
        )
    },
    "reviewerStats": {
        "-": Case(
            '{ reviewerStats(workflow: "shop") { reviewer { name } } }',
            by_role(SERVICE="FORBIDDEN", ANALYST=stats_rows, SENIOR=stats_rows, ADMIN=stats_rows),
        )
    },
    "simulatePolicy": {
        "-": Case(
            '{ simulatePolicy(workflow: "shop", input: {autoApproveAt: 0.95}) '
            "{ decisionsReplayed } }",
            by_role(SERVICE="FORBIDDEN", ANALYST="FORBIDDEN", SENIOR=a_report, ADMIN=a_report),
        )
    },
    "learningByMonth": {
        "-": Case(
            '{ learningByMonth(workflow: "shop") { submitted humanDecisions } }',
            by_role(SERVICE="FORBIDDEN", ANALYST=six_months, SENIOR=six_months, ADMIN=six_months),
        )
    },
    "recommendThreshold": {
        "-": Case(
            '{ recommendThreshold(workflow: "shop", maxAutoApproveError: 0.05) { message } }',
            by_role(SERVICE="FORBIDDEN", ANALYST="FORBIDDEN", SENIOR=a_report, ADMIN=a_report),
        )
    },
}
"""Query field -> scope -> the call, with what each role gets."""


def _only_admin(success: str) -> dict[tuple[str, str], Any]:
    return {(role, "-"): success if role == "ADMIN" else "Forbidden" for role in ROLES}


def _self_or_admin(success: str) -> dict[tuple[str, str], Any]:
    """Any user for themselves (scope "self"); only an ADMIN for another user."""
    table: dict[tuple[str, str], Any] = {(role, "self"): success for role in ROLES}
    table.update({(role, "another"): success if role == "ADMIN" else "Forbidden" for role in ROLES})
    return table


ANOTHER_USER = {
    "SERVICE": "ANALYST",
    "ANALYST": "other-ANALYST",
    "SENIOR": "other-SENIOR",
    "ADMIN": "other-SENIOR",
}
"""Whose tokens a caller issues or revokes in scope "another"."""


def _service_and_admin(success: str) -> dict[tuple[str, str], Any]:
    return {(role, "-"): success if role in ("SERVICE", "ADMIN") else "Forbidden" for role in ROLES}


SUBMIT = (
    """mutation { submitRecommendations(workflow: "shop",
  items: [{payload: {amount: 1}, proposedAction: "A", confidence: 0.8}]) """
    + RESULT
    + " }"
)

MUTATIONS: dict[str, tuple[Case, dict[tuple[str, str], Any]]] = {
    "submitRecommendations": (Case(SUBMIT), _service_and_admin("SubmitSuccess")),
    "provideData": (
        Case(
            "mutation($id: ID!) { provideData(id: $id, payload: {more: 1}) " + RESULT + " }",
            variables=item("needs_data"),
        ),
        _service_and_admin("RecommendationSuccess"),
    ),
    "submitCases": (
        Case(
            'mutation { submitCases(workflow: "shop", cases: [{payload: {amount: 1}}]) '
            + RESULT
            + " }",
        ),
        # Allowed for SERVICE and ADMIN; the workflow has no model yet, which is InvalidInput.
        _service_and_admin("InvalidInput"),
    ),
    "recordOutcome": (
        Case(
            "mutation($id: ID!) { recordOutcome(id: $id, value: 0.3) " + RESULT + " }",
            variables=item("shipped"),
        ),
        _service_and_admin("RecommendationSuccess"),
    ),
    "claimNext": (
        Case('mutation { claimNext(workflow: "shop") ' + RESULT + " }"),
        {(r, "-"): "Forbidden" if r == "SERVICE" else "ClaimSuccess" for r in ROLES},
    ),
    "claim": (
        Case(decide("claim(id: $id)"), variables=role_item(DECIDABLE_ITEM)),
        reviewers("ClaimSuccess", "Conflict"),
    ),
    "release": (
        Case(decide("release(id: $id)"), variables=role_item(DECIDABLE_ITEM)),
        reviewers("RecommendationSuccess", "Conflict", admin_other="RecommendationSuccess"),
    ),
    **{
        name: (
            Case(decide(call), variables=role_item(DECIDABLE_ITEM)),
            reviewers("DecisionSuccess", "Conflict"),
        )
        for name, call in DECIDE_MUTATIONS.items()
    },
    "edit": (
        Case(decide('edit(id: $id, content: "Dear reader")'), variables=role_item(DRAFT_ITEM)),
        reviewers("DecisionSuccess", "Conflict"),
    ),
    "previewEdit": (
        Case(
            decide('previewEdit(id: $id, content: "Dear reader")'),
            variables=role_item(DRAFT_ITEM),
            writes=False,
        ),
        reviewers("DraftPreview", "DraftPreview"),
    ),
    "undo": (
        Case(
            "mutation($id: ID!) { undo(decisionId: $id) " + RESULT + " }"
        ),  # the decision is chosen by scope in the test
        reviewers("DecisionSuccess", "Forbidden", admin_other="DecisionSuccess"),
    ),
    "createUser": (
        Case('mutation { createUser(name: "newcomer", role: ANALYST) ' + RESULT + " }"),
        _only_admin("UserSuccess"),
    ),
    "deactivateUser": (
        Case(
            "mutation($id: ID!) { deactivateUser(id: $id) " + RESULT + " }",
            variables=lambda w, r: {"id": w.ids["other-ANALYST"]},
        ),
        _only_admin("UserUpdated"),
    ),
    "issueToken": (
        Case(
            "mutation($user: ID!) { issueToken(user: $user, expiresInSeconds: 60) " + RESULT + " }"
        ),
        _self_or_admin("TokenSuccess"),
    ),
    "revokeTokens": (
        Case("mutation($user: ID!) { revokeTokens(user: $user) " + RESULT + " }"),
        _self_or_admin("UserUpdated"),
    ),
    "createTeam": (
        Case('mutation { createTeam(key: "day", name: "Day") ' + RESULT + " }"),
        _only_admin("TeamSuccess"),
    ),
    "setTeamMembers": (
        Case('mutation { setTeamMembers(team: "night", members: []) ' + RESULT + " }"),
        _only_admin("TeamSuccess"),
    ),
    "setWorkflowTeams": (
        Case('mutation { setWorkflowTeams(workflow: "mail", teams: ["night"]) ' + RESULT + " }"),
        _only_admin("WorkflowSuccess"),
    ),
    "assign": (
        Case(
            'mutation($id: ID!) { assign(id: $id, team: "night") ' + RESULT + " }",
            variables=role_item(DECIDABLE_ITEM),
        ),
        {
            ("SERVICE", "-"): "Forbidden",
            ("ANALYST", "-"): "Forbidden",
            ("SENIOR", "-"): "RecommendationSuccess",
            ("ADMIN", "-"): "RecommendationSuccess",
        },
    ),
    "createWorkflow": (
        Case(
            'mutation { createWorkflow(input: {key: "new", name: "New", kind: CLASSIFICATION, '
            'reviewerRole: VERIFIER, actions: ["x", "y"]}) ' + RESULT + " }",
            "",
        ),
        _only_admin("WorkflowSuccess"),
    ),
    "updateEscalationPolicy": (
        Case(
            'mutation { updateEscalationPolicy(workflow: "shop", input: {autoApproveAt: 0.95}) '
            + RESULT
            + " }",
        ),
        _only_admin("PolicySuccess"),
    ),
    "createWebhook": (
        Case(
            'mutation { createWebhook(workflow: "shop", url: "http://127.0.0.1:9/other", '
            "events: [ADDED]) " + RESULT + " }",
            "",
        ),
        _only_admin("WebhookSuccess"),
    ),
    "deleteWebhook": (
        Case(
            "mutation($id: ID!) { deleteWebhook(id: $id) " + RESULT + " }",
            variables=lambda w, r: {"id": w.webhook},
        ),
        _only_admin("WebhookSuccess"),
    ),
    "startRetraining": (
        Case('mutation { startRetraining(workflow: "shop") ' + RESULT + " }"),
        _only_admin("JobSuccess"),
    ),
    "mineOverrideThemes": (
        Case('mutation { mineOverrideThemes(workflow: "shop") ' + RESULT + " }"),
        _only_admin("JobSuccess"),
    ),
}
"""Mutation field -> (the call, (role, scope) -> the union member expected)."""

MUTATION_ROWS = [
    (name, role, scope, expected)
    for name, (_, table) in MUTATIONS.items()
    for (role, scope), expected in table.items()
]
QUERY_ROWS = [
    (name, scope, role)
    for name, scopes in QUERY_CASES.items()
    for scope in scopes
    for role in ROLES
]


# ------------------------------------------------------------------ completeness


def test_the_matrix_covers_every_query_and_mutation_field_and_every_role() -> None:
    schema = build_schema(make_settings("sqlite+aiosqlite://"))._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    assert set(schema.query_type.fields) == set(QUERY_CASES), (
        "add the new Query field to QUERY_CASES",
        set(schema.query_type.fields) ^ set(QUERY_CASES),
    )
    assert set(schema.mutation_type.fields) == set(MUTATIONS), (
        "add the new Mutation field to MUTATIONS",
        set(schema.mutation_type.fields) ^ set(MUTATIONS),
    )
    for name, (_, table) in MUTATIONS.items():
        assert {role for role, _ in table} == set(ROLES), name
    for name, (case, _) in MUTATIONS.items():
        document = graphql.parse(case.query)
        errors = graphql.validate(schema, document)
        assert not errors, (name, errors)
    for name, scopes in QUERY_CASES.items():
        for case in scopes.values():
            assert not graphql.validate(schema, graphql.parse(case.query)), name


# ------------------------------------------------------------------ the calls


def _name_of(query: str) -> str:
    match = re.search(r"\{\s*(\w+)", query)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("field_name", "role", "scope", "expected"),
    MUTATION_ROWS,
    ids=[f"{n}-{r}-{s}" for n, r, s, _ in MUTATION_ROWS],
)
async def test_a_mutation_answers_each_role_as_the_contract_says(
    gql: GraphQLClient,
    database: Any,
    world: World,
    field_name: str,
    role: str,
    scope: str,
    expected: str,
) -> None:
    case, _ = MUTATIONS[field_name]
    variables = case.variables(world, role)
    if scope in ("self", "another"):
        variables = {"user": world.ids[role if scope == "self" else ANOTHER_USER[role]]}
    elif field_name == "undo":
        chosen = {"own": OWN_DECISION.get(role), "hidden": "done_senior"}.get(scope)
        variables = {"id": world.decisions[chosen or OTHERS_DECISION[role]]}
    elif scope == "hidden":
        hidden = DRAFT_ITEM["SENIOR"] if field_name in ("edit", "previewEdit") else "senior"
        variables = {"id": world.items[hidden]}
    elif scope in ("own", "other"):
        holder = role if scope == "own" else OTHER[role]
        await _ok(gql, CLAIM, {"id": variables["id"]}, world.tokens[holder])
    before = await snapshot(database)

    data = await gql(case.query, variables, token=world.tokens[role])

    result = data[field_name]
    assert result["__typename"] == expected, (field_name, role, scope, result)
    refused = expected in ("Forbidden", "NotFound", "Conflict")
    if refused:
        assert result["message"], result
    if refused or not case.writes:
        assert await snapshot(database) == before


@pytest.mark.parametrize(
    ("field_name", "scope", "role"), QUERY_ROWS, ids=[f"{n}-{s}-{r}" for n, s, r in QUERY_ROWS]
)
async def test_a_query_answers_each_role_as_the_contract_says(
    gql: GraphQLClient, world: World, field_name: str, scope: str, role: str
) -> None:
    case = QUERY_CASES[field_name][scope]
    expected = case.expected
    if isinstance(expected, dict):
        expected = expected[role]

    response = await gql.post(case.query, case.variables(world, role), world.tokens[role])

    assert response.status_code == 200, response.text
    body = response.json()
    if isinstance(expected, str):  # an error code, with no data for the field
        assert body.get("errors"), body
        assert body["errors"][0]["extensions"]["code"] == expected, body
        assert not (body.get("data") or {}).get(field_name), body
    else:
        assert not body.get("errors"), body
        expected(body["data"][field_name], world, role)

"""Plain factories: create_*() functions that go through the same paths users do."""

from __future__ import annotations

import itertools
from typing import Any

from api.services import Services
from domain.enums import Role
from domain.usecases.accounts import create_user as create_user_use_case

_names = itertools.count(1)


async def create_user(services: Services, role: Role | str, name: str | None = None) -> str:
    """A user of `role`; returns its bearer token."""
    role = Role(role.upper()) if isinstance(role, str) else role
    _, token = await services.run(
        create_user_use_case, None, name or f"{role.value.lower()}-{next(_names)}", role
    )
    return token


CREATE_WORKFLOW = """
mutation($input: WorkflowInput!) {
  createWorkflow(input: $input) {
    __typename
    ... on WorkflowSuccess { workflow { id key } }
    ... on Problem { message }
    ... on InvalidInput { field }
  }
}
"""


async def create_workflow(gql: Any, admin: str, **fields: Any) -> dict[str, Any]:
    """A workflow (CLASSIFICATION, EXPERT reviewers, actions A/B/C unless told otherwise)."""
    spec = {
        "key": fields.pop("key", f"wf-{next(_names)}"),
        "name": "Test workflow",
        "kind": "CLASSIFICATION",
        "reviewerRole": "EXPERT",
        "actions": ["A", "B", "C"],
        **fields,
    }
    data = await gql(CREATE_WORKFLOW, {"input": spec}, token=admin)
    result = data["createWorkflow"]
    assert result["__typename"] == "WorkflowSuccess", result
    return dict(result["workflow"])


SUBMIT = """
mutation($workflow: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $workflow, items: $items) {
    __typename
    ... on SubmitSuccess {
      created duplicates
      recommendations { id tier status version externalId slaDueAt sampledForAudit }
    }
    ... on Problem { message }
    ... on InvalidInput { field }
  }
}
"""


def proposal(confidence: float = 0.8, action: str = "A", **fields: Any) -> dict[str, Any]:
    return {
        "payload": {"amount": 100},
        "proposedAction": action,
        "confidence": confidence,
        **fields,
    }


async def submit(gql: Any, token: str, workflow: str, *items: dict[str, Any]) -> dict[str, Any]:
    data = await gql(SUBMIT, {"workflow": workflow, "items": list(items)}, token=token)
    return dict(data["submitRecommendations"])


async def submit_one(gql: Any, token: str, workflow: str, **fields: Any) -> dict[str, Any]:
    result = await submit(gql, token, workflow, proposal(**fields))
    assert result["__typename"] == "SubmitSuccess", result
    return dict(result["recommendations"][0])

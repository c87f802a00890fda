"""What the browser tests and bench/console.py review: workflows, reviewers and items made
through the public GraphQL API over HTTP, exactly as a service or an admin would.

Plain functions (`create_*`) over an `Api`: a server's /graphql with one bearer token.
Every mutation's `__typename` is checked, so a seeding step that the server refuses
fails loudly instead of leaving a half-made world.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

ALIASES_PER_REQUEST = 25  # under the server's 30-alias limit
JOB_TIMEOUT = 120.0


class ApiError(AssertionError):
    """The server answered with top-level errors or an unexpected status."""


@dataclass
class Api:
    """POST GraphQL to `url` (http://host:port, without /graphql) as the holder of `token`."""

    url: str
    token: str
    http: httpx.Client = field(
        default_factory=lambda: httpx.Client(trust_env=False, timeout=30), repr=False
    )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's `data`; raises ApiError on top-level errors."""
        response = self.http.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = response.json() if response.content else {}
        if response.status_code != 200 or body.get("errors"):
            raise ApiError(f"{response.status_code}: {body or response.text}")
        return dict(body["data"])

    def as_user(self, token: str) -> Api:
        return Api(self.url, token, self.http)


_USED: dict[str, int] = {}


def unique(name: str, separator: str = "-") -> str:
    """`name` the first time this process asks, then `name-2`, `name-3`, ...: readable
    names (for the screenshots) that no other call made, so unique in any database this
    process created."""
    _USED[name] = _USED.get(name, 0) + 1
    n = _USED[name]
    return name if n == 1 else f"{name}{separator}{n}"


def _expect(answer: dict[str, Any], typename: str) -> dict[str, Any]:
    if answer.get("__typename") != typename:
        raise ApiError(f"expected {typename}, got {answer}")
    return answer


def create_user(api: Api, name: str, role: str = "ANALYST") -> str:
    """An admin creates a user; their bearer token."""
    answer = api(
        """mutation($name: String!, $role: Role!) { createUser(name: $name, role: $role) {
             __typename ... on UserSuccess { token } ... on Problem { message } } }""",
        {"name": name, "role": role},
    )["createUser"]
    return str(_expect(answer, "UserSuccess")["token"])


def user_id(api: Api, token: str) -> str:
    """The id of the user who holds `token` (as `me` tells them)."""
    return str(api.as_user(token)("{ me { id } }")["me"]["id"])


def create_team(api: Api, key: str, name: str, members: Sequence[str]) -> str:
    """An admin creates a team of these users (ids); its key."""
    answer = api(
        """mutation($key: String!, $name: String!, $members: [ID!]) {
             createTeam(key: $key, name: $name, members: $members) {
               __typename ... on Problem { message } } }""",
        {"key": key, "name": name, "members": list(members)},
    )["createTeam"]
    _expect(answer, "TeamSuccess")
    return key


def set_workflow_teams(api: Api, workflow: str, teams: Sequence[str]) -> None:
    """An admin names the teams that review `workflow` (none: open to every fitting role)."""
    answer = api(
        """mutation($w: String!, $teams: [String!]!) {
             setWorkflowTeams(workflow: $w, teams: $teams) {
               __typename ... on Problem { message } } }""",
        {"w": workflow, "teams": list(teams)},
    )["setWorkflowTeams"]
    _expect(answer, "WorkflowSuccess")


def create_workflow(
    api: Api,
    name: str,
    *,
    kind: str = "CLASSIFICATION",
    reviewer_role: str = "EXPERT",
    actions: Sequence[str] = ("approve_loan", "decline_loan"),
    score_label: str | None = None,
    policy: dict[str, Any] | None = None,
) -> str:
    """An admin creates a workflow named `name`; its key (the name, lower-case)."""
    key = name.lower().replace(" ", "-")
    answer = api(
        """mutation($input: WorkflowInput!) { createWorkflow(input: $input) {
             __typename ... on Problem { message } } }""",
        {
            "input": {
                "key": key,
                "name": name,
                "kind": kind,
                "reviewerRole": reviewer_role,
                "actions": list(actions),
                "scoreLabel": score_label,
                "policy": policy,
            }
        },
    )["createWorkflow"]
    _expect(answer, "WorkflowSuccess")
    return key


SUBMIT = """mutation($workflow: String!, $items: [RecommendationInput!]!) {
  submitRecommendations(workflow: $workflow, items: $items) {
    __typename
    ... on SubmitSuccess { recommendations { id externalId version tier status } }
    ... on Problem { message }
  }
}"""


def create_items(api: Api, workflow: str, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Submit proposals (RecommendationInput dicts) in one batch; the stored items."""
    answer = api(SUBMIT, {"workflow": workflow, "items": list(items)})["submitRecommendations"]
    return list(_expect(answer, "SubmitSuccess")["recommendations"])


def create_queue(
    api: Api, workflow: str, external_ids: Sequence[str], *, confidence: float = 0.8, **extra: Any
) -> list[dict[str, Any]]:
    """One item per external id, submitted one after another so that their SLAs (and so
    the queue's order) follow the list; analyst-tier at the default ladder."""
    created = []
    for n, external_id in enumerate(external_ids):
        item = {
            "externalId": external_id,
            "subject": f"Application {external_id}",
            "payload": {
                "amount": 1000 * (n + 2),
                "industry": ("retail", "healthcare", "construction")[n % 3],
                "applicant": {"name": f"Applicant {n + 1}", "company_age_years": 1 + n},
            },
            "proposedAction": "approve_loan",
            "confidence": confidence,
            "explanation": [
                {"feature": "amount", "contribution": 0.12, "value": 1000 * (n + 2)},
                {"feature": "industry", "contribution": -0.05, "value": "retail"},
            ],
            **extra,
        }
        [stored] = create_items(api, workflow, [item])
        created.append(stored)
        time.sleep(0.002)  # distinct createdAt, hence distinct slaDueAt
    return created


def run_aliased(api: Api, operations: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Run many mutation fields (`field(args) { selection }` strings) a batch of aliases at a
    time; their answers in order."""
    pending = list(operations)
    answers: list[dict[str, Any]] = []
    for start in range(0, len(pending), ALIASES_PER_REQUEST):
        batch = pending[start : start + ALIASES_PER_REQUEST]
        body = " ".join(f"m{i}: {operation}" for i, (operation, _) in enumerate(batch))
        data = api(f"mutation {{ {body} }}")
        for i, (_, typename) in enumerate(batch):
            answers.append(_expect(data[f"m{i}"], typename))
    return answers


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def approve_all(api: Api, ids: Iterable[str]) -> None:
    run_aliased(
        api,
        ((f"approve(id: {_quoted(i)}) {{ __typename }}", "DecisionSuccess") for i in ids),
    )


def override_all(api: Api, decisions: Iterable[tuple[str, str, str]]) -> None:
    """(id, action, reason) overrides."""
    run_aliased(
        api,
        (
            (
                f"override(id: {_quoted(i)}, action: {_quoted(action)}, "
                f"reason: {_quoted(reason)}) {{ __typename }}",
                "DecisionSuccess",
            )
            for i, action, reason in decisions
        ),
    )


def wait_for_job(api: Api, job_id: str) -> dict[str, Any]:
    """Poll `job(id)` until it ends; its final state and message."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = api("query($id: ID!) { job(id: $id) { state message } }", {"id": job_id})["job"]
        if job["state"] in ("SUCCEEDED", "FAILED"):
            return dict(job)
        time.sleep(0.1)
    raise ApiError(f"job {job_id} did not end within {JOB_TIMEOUT}s")


def _job(answer: dict[str, Any]) -> str:
    return str(_expect(answer, "JobSuccess")["job"]["id"])


# Two concerns, each written several ways, about items that differ in the payload: what
# theme mining needs to offer two quick picks.
CONCERNS = (
    (
        {"industry": "healthcare", "company_age_years": 1},
        ("company too young", "young company, founded last year", "company is too young"),
    ),
    (
        {"industry": "retail", "company_age_years": 9, "income_verified": False},
        ("income not verified", "no verified income", "income proof missing"),
    ),
)


def create_reason_suggestions(api: Api, workflow: str, per_concern: int = 12) -> list[str]:
    """Override items for two concerns, approve as many others, mine the themes; the
    workflow's `reasonSuggestions` (at least two)."""
    proposals: list[dict[str, Any]] = []
    reasons: list[str | None] = []
    for concern, (payload, phrasings) in enumerate(CONCERNS):
        for n in range(per_concern):
            proposals.append(
                {
                    "externalId": f"seed-{concern}-{n}",
                    "payload": {**payload, "amount": 1000 + 37 * n},
                    "proposedAction": "approve_loan",
                    "confidence": 0.8,
                }
            )
            reasons.append(phrasings[n % len(phrasings)])
    for n in range(2 * per_concern):
        proposals.append(
            {
                "externalId": f"seed-ok-{n}",
                "payload": {"industry": "construction", "company_age_years": 6, "amount": 500 + n},
                "proposedAction": "approve_loan",
                "confidence": 0.8,
            }
        )
        reasons.append(None)
    items = create_items(api, workflow, proposals)
    override_all(
        api,
        [(i["id"], "decline_loan", r) for i, r in zip(items, reasons, strict=True) if r],
    )
    approve_all(api, [i["id"] for i, r in zip(items, reasons, strict=True) if r is None])
    job = _job(
        api(
            """mutation($w: String!) { mineOverrideThemes(workflow: $w, window: MONTH) {
                 __typename ... on JobSuccess { job { id } } ... on Problem { message } } }""",
            {"w": workflow},
        )["mineOverrideThemes"]
    )
    finished = wait_for_job(api, job)
    if finished["state"] != "SUCCEEDED":
        raise ApiError(f"theme mining failed: {finished}")
    suggestions = api(
        "query($w: String!) { workflow(key: $w) { reasonSuggestions } }", {"w": workflow}
    )
    return list(suggestions["workflow"]["reasonSuggestions"])


def draft_open_rate(subject: str, segment: str) -> float:
    """The planted outcome rule of tests/ml/test_scorer.py (speaking to the reader and
    numbers help; capitals, exclamation marks and length hurt; the vip segment opens more)."""
    from tests.ml.test_scorer import rule

    return float(rule(subject, segment))


DRAFT_SUBJECTS = (
    "Your {n} picks for this week",
    "WEEKLY DIGEST FROM THE WHOLE TEAM {n}!!!",
    "For you: {n} new arrivals",
    "Monthly news and everything that changed this month at our store",
    "You asked for it: {n} deals",
    "PRODUCT UPDATE!!",
    "Spring sale starts now",
    "Account news from the whole team here at our store, with details inside",
)
SEGMENTS = ("vip", "regular", "new", "lapsed")


def create_draft_scorer(api: Api, workflow: str, n: int = 120) -> None:
    """Ship `n` drafts, record their open rates, retrain: the workflow gets an ACTIVE scorer."""
    proposals: list[dict[str, Any]] = []
    for i in range(n):
        subject = DRAFT_SUBJECTS[i % len(DRAFT_SUBJECTS)].format(n=i % 9 + 1)
        proposals.append(
            {
                "externalId": f"sent-{i}",
                "payload": {"segment": SEGMENTS[(i // len(DRAFT_SUBJECTS)) % len(SEGMENTS)]},
                "proposedAction": "send",
                "confidence": 0.8,
                "draft": subject,
            }
        )
    items = create_items(api, workflow, proposals)
    approve_all(api, [i["id"] for i in items])
    run_aliased(
        api,
        (
            (
                f"recordOutcome(id: {_quoted(item['id'])}, "
                f"value: {draft_open_rate(p['draft'], p['payload']['segment'])}) {{ __typename }}",
                "RecommendationSuccess",
            )
            for item, p in zip(items, proposals, strict=True)
        ),
    )
    job = _job(
        api(
            """mutation($w: String!) { startRetraining(workflow: $w) {
                 __typename ... on JobSuccess { job { id } } ... on Problem { message } } }""",
            {"w": workflow},
        )["startRetraining"]
    )
    finished = wait_for_job(api, job)
    if finished["state"] != "SUCCEEDED" or "promoted" not in (finished["message"] or ""):
        raise ApiError(f"the draft scorer was not trained and promoted: {finished}")


def decision_log(api: Api, workflow: str) -> list[dict[str, Any]]:
    """Every decision of the workflow in chain order, with its item's external id."""
    data = api(
        """query($w: String!) { decisions(workflow: $w, first: 500) { edges { node {
             id verdict automated undone finalAction reason reasonTags editedContent
             actor { name } recommendation { id externalId status } } } } }""",
        {"w": workflow},
    )
    return [edge["node"] for edge in data["decisions"]["edges"]]


def item(api: Api, item_id: str) -> dict[str, Any]:
    """One item as stored now, with its claim and decisions."""
    data = api(
        """query($id: ID!) { recommendation(id: $id) { id externalId status version
             claim { reviewer { name } }
             decisions { verdict undone finalAction reason actor { name } } } }""",
        {"id": item_id},
    )
    return dict(data["recommendation"])

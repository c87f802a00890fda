"""The GraphQL documents the simulation sends: only the public schema (schema.graphql)."""

from __future__ import annotations

_SUBMITTED = """
  __typename
  ... on SubmitSuccess {
    recommendations { id externalId version tier status proposedAction confidence
                      modelVersion sampledForAudit }
  }
  ... on Problem { message }
"""

CREATE_USER = """
mutation($name: String!, $role: Role!) {
  createUser(name: $name, role: $role) {
    __typename ... on UserSuccess { token } ... on Problem { message }
  }
}"""

CREATE_WORKFLOW = """
mutation($input: WorkflowInput!) {
  createWorkflow(input: $input) {
    __typename ... on WorkflowSuccess { workflow { key } } ... on Problem { message }
  }
}"""

SUBMIT_RECOMMENDATIONS = f"""
mutation($workflow: String!, $items: [RecommendationInput!]!) {{
  submitRecommendations(workflow: $workflow, items: $items) {{ {_SUBMITTED} }}
}}"""

SUBMIT_CASES = f"""
mutation($workflow: String!, $cases: [CaseInput!]!) {{
  submitCases(workflow: $workflow, cases: $cases) {{ {_SUBMITTED} }}
}}"""

CLAIM_NEXT = """
mutation($workflow: String!, $tiers: [Tier!]) {
  claimNext(workflow: $workflow, tiers: $tiers) {
    __typename
    ... on ClaimSuccess { recommendation { id externalId version tier proposedAction } }
    ... on Problem { message }
  }
}"""

_DECIDED = """
  __typename
  ... on DecisionSuccess { decision { verdict } }
  ... on Problem { message }
"""

APPROVE = f"""
mutation($id: ID!, $version: Int!) {{
  approve(id: $id, expectedVersion: $version) {{ {_DECIDED} }}
}}"""

OVERRIDE = f"""
mutation($id: ID!, $version: Int!, $action: String!, $reason: String!) {{
  override(id: $id, expectedVersion: $version, action: $action, reason: $reason) {{ {_DECIDED} }}
}}"""


def _start_job(field: str) -> str:
    return f"""
mutation($workflow: String!) {{
  {field} {{ __typename ... on JobSuccess {{ job {{ id }} }} ... on Problem {{ message }} }}
}}"""


MINE_THEMES = _start_job("mineOverrideThemes(workflow: $workflow, window: MONTH)")
START_RETRAINING = _start_job("startRetraining(workflow: $workflow)")

JOB = """
query($id: ID!) { job(id: $id) { state message result } }"""

RECOMMEND_THRESHOLD = """
query($workflow: String!, $target: Float!, $level: Float!) {
  recommendThreshold(workflow: $workflow, maxAutoApproveError: $target,
                     confidenceLevel: $level, window: MONTH) {
    autoApproveAt errorUpperBound evidence expectedAutoApproveShare message
  }
}"""

UPDATE_POLICY = """
mutation($workflow: String!, $input: EscalationPolicyInput!) {
  updateEscalationPolicy(workflow: $workflow, input: $input) {
    __typename ... on PolicySuccess { policy { version autoApproveAt } } ... on Problem { message }
  }
}"""

STANDING = """
query($workflow: String!) {
  workflow(key: $workflow) {
    policy { version autoApproveAt auditSampleRate }
    activeModel { version metrics { accuracy baselineAccuracy } }
  }
  feedbackReport(workflow: $workflow) { message periodEnd }
  overrideThemes(workflow: $workflow) { themes { label share } }
}"""

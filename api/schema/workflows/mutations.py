"""createWorkflow, updateEscalationPolicy."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common.problems import Conflict, Forbidden, InvalidInput, NotFound, returns_problems
from api.schema.common.types import Info
from api.schema.workflows.inputs import EscalationPolicyInput, WorkflowInput
from api.schema.workflows.types import EscalationPolicy, Workflow
from domain.usecases.workflows import WorkflowSpec, create_workflow, update_policy


@strawberry.type
class WorkflowSuccess:
    workflow: Workflow


@strawberry.type
class PolicySuccess:
    policy: EscalationPolicy
    rerouted: int = strawberry.field(
        description="Pending items moved to another tier by the new thresholds."
    )


WorkflowResult = Annotated[
    WorkflowSuccess | Forbidden | InvalidInput | Conflict, strawberry.union("WorkflowResult")
]
PolicyResult = Annotated[
    PolicySuccess | NotFound | Forbidden | InvalidInput, strawberry.union("PolicyResult")
]


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(description="ADMIN: create a workflow. A key in use is a Conflict.")
    @returns_problems[WorkflowResult](Forbidden, InvalidInput, Conflict)
    async def create_workflow(self, info: Info, input: WorkflowInput) -> WorkflowResult:
        spec = WorkflowSpec(
            key=input.key,
            name=input.name,
            kind=input.kind,
            reviewer_role=input.reviewer_role,
            actions=list(input.actions),
            score_label=input.score_label,
            policy_changes=input.policy.changes() if input.policy else None,
        )
        workflow = await info.context.run(create_workflow, spec)
        return WorkflowSuccess(workflow=Workflow.from_domain(workflow))

    @strawberry.mutation(
        description="ADMIN: merge the given fields into the policy as a new version and "
        "re-route every PENDING item by it."
    )
    @returns_problems[PolicyResult](NotFound, Forbidden, InvalidInput)
    async def update_escalation_policy(
        self, info: Info, workflow: str, input: EscalationPolicyInput
    ) -> PolicyResult:
        update = await info.context.run(update_policy, workflow, input.changes())
        return PolicySuccess(
            policy=EscalationPolicy.from_domain(update.policy), rerouted=update.rerouted
        )

"""Ports: what the use cases need from storage, as Protocols. The store implements them.

Repositories never commit; the unit of work does, once per use case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.admin_actions import AdminAction
from domain.drift import DriftAlarm
from domain.enums import RecommendationStatus, Role, Tier
from domain.events import QueueEvent
from domain.jobs import Job, JobKind
from domain.learning import ModelArtifact, ModelKind, ModelVersion, ThemeReport
from domain.model import Decision, DraftRevision, Override, Recommendation, User, Workflow
from domain.policy import EscalationPolicy
from domain.teams import ReviewerIdentity, Team
from domain.trusted_documents import TrustedDocument
from domain.webhooks import Webhook, WebhookDelivery


class UserRepository(Protocol):
    async def add(
        self,
        user: User,
        token_hash: str | None,
        *,
        expires_at: datetime | None = None,
        external_id: str | None = None,
    ) -> None:
        """Store a user, with a first bearer token unless `token_hash` is None."""
        ...

    async def add_token(
        self, user_id: str, token_hash: str, created_at: datetime, expires_at: datetime | None
    ) -> None: ...
    async def revoke_tokens(self, user_id: str, now: datetime) -> int:
        """Revoke every token of the user still in force; how many there were."""
        ...

    async def set_active(self, user_id: str, active: bool) -> None: ...
    async def set_role(self, user_id: str, role: Role) -> None: ...
    async def get(self, user_id: str) -> User | None: ...
    async def by_token_hash(self, token_hash: str, now: datetime) -> User | None:
        """The active user whose unexpired, unrevoked token has this digest."""
        ...

    async def by_name(self, name: str) -> User | None: ...
    async def by_external_id(self, external_id: str) -> User | None: ...
    async def all(self, include_inactive: bool = True) -> list[User]: ...


class TeamRepository(Protocol):
    async def add(self, team: Team) -> None: ...
    async def set_members(self, team_id: str, user_ids: Sequence[str]) -> None: ...
    async def by_keys(self, keys: Sequence[str]) -> dict[str, Team]:
        """The teams with these keys (by key); unknown keys are absent."""
        ...

    async def by_key(self, key: str) -> Team | None: ...
    async def get(self, team_id: str) -> Team | None: ...
    async def ids_of_member(self, user_id: str) -> set[str]: ...
    async def may_review(self, workflow_id: str, user_id: str) -> bool:
        """Whether the workflow has no teams, or the user is in one of them."""
        ...

    async def set_workflow_teams(self, workflow_id: str, team_ids: Sequence[str]) -> None: ...


class AdminActionRepository(Protocol):
    async def add(self, action: AdminAction) -> None: ...


class WorkflowRepository(Protocol):
    async def add(self, workflow: Workflow) -> None: ...
    async def get(self, workflow_id: str) -> Workflow | None: ...
    async def by_key(self, key: str) -> Workflow | None: ...
    async def add_policy(self, workflow: Workflow, policy: EscalationPolicy) -> None:
        """Store a new policy version and make it the workflow's current one."""
        ...


class RecommendationRepository(Protocol):
    async def add_many(self, items: Sequence[Recommendation]) -> None: ...
    async def get(self, rec_id: str, *, for_update: bool = False) -> Recommendation | None: ...
    async def get_for_reviewer(
        self, rec_id: str, user_id: str
    ) -> tuple[Recommendation | None, bool]:
        """The item, and whether `user_id` may review its workflow's items (the workflow
        has no teams, or the user is in one of them; TeamRepository.may_review), in one read."""
        ...

    async def by_external_ids(
        self, workflow_id: str, external_ids: Sequence[str]
    ) -> dict[str, Recommendation]: ...
    async def save(
        self, item: Recommendation, expected_version: int, expected_status: RecommendationStatus
    ) -> bool:
        """Compare-and-swap: write `item` only if the stored row still has that version
        and status. False when someone else changed it first."""
        ...

    async def pending_for_reroute(self, workflow_id: str, now: datetime) -> list[Recommendation]:
        """Items waiting unclaimed (PENDING, or CLAIMED with an expired lease), not flagged."""
        ...

    async def next_claimable(
        self,
        workflow_id: str,
        tiers: Sequence[Tier],
        now: datetime,
        skip: Sequence[str],
        reviewer: ReviewerIdentity | None = None,
    ) -> Recommendation | None:
        """The most urgent free item in these tiers; with `reviewer`, none pinned to
        another reviewer or to a team the reviewer is not in."""
        ...

    async def add_revision(self, rec_id: str, revision: DraftRevision) -> None: ...
    async def revisions(self, rec_id: str) -> list[DraftRevision]:
        """The item's draft revisions, oldest first."""
        ...

    async def canary_sources(
        self, workflow_id: str, tiers: Sequence[Tier], limit: int
    ) -> list[Recommendation]:
        """The workflow's latest OVERRIDDEN items (not canaries) in these tiers: what a
        canary may be copied from."""
        ...

    async def due_for_sweep(self, now: datetime, limit: int) -> list[Recommendation]:
        """Items with a lapsed lease or confirmation, or past their SLA (unheld analyst
        items, not yet breached senior items); locked, skipping rows others hold."""
        ...


class DecisionRepository(Protocol):
    async def append(self, decisions: Sequence[Decision]) -> None:
        """Log the decisions; they are sealed into their workflows' hash chains and
        Merkle trees just after commit, before anyone is told they were made."""
        ...

    async def get(self, decision_id: str) -> Decision | None: ...
    async def get_or_seal(self, decision_id: str) -> Decision | None:
        """The decision, even when it still waits to be sealed (sealing it first)."""
        ...

    async def seal_pending_of(self, recommendation_id: str, workflow_id: str) -> None:
        """Seal the workflow's waiting decisions now when the item has one among them."""
        ...

    async def of_recommendation(self, rec_id: str) -> list[Decision]:
        """An item's decisions in chain order, `undone` filled in."""
        ...

    async def human_count_since(self, workflow_id: str, actor_id: str, since: datetime) -> int:
        """A reviewer's decisions in a workflow since a time: human, not UNDO, not undone."""
        ...


class OverrideRepository(Protocol):
    async def add(self, override: Override) -> None: ...


@dataclass(frozen=True)
class ConfirmationGrant:
    token_hash: str
    user_id: str
    recommendation_id: str
    version: int
    verb: str
    expires_at: datetime


class ConfirmationGrantRepository(Protocol):
    async def add(self, grant: ConfirmationGrant) -> None: ...
    async def consume(self, token_hash: str, now: datetime) -> ConfirmationGrant | None:
        """Mark a grant used and return it; None when unknown, used or expired."""
        ...


class EventRepository(Protocol):
    async def add(self, events: Sequence[QueueEvent]) -> None:
        """Write the events to the outbox, as given (domain.outbox decides which)."""
        ...

    async def deliveries_for_decision(self, decision_id: str) -> list[WebhookDelivery]:
        """Webhook deliveries of the events a decision caused, locked for update."""
        ...

    async def cancel_deliveries(self, delivery_ids: Sequence[str], reason: str) -> None:
        """Mark still PENDING deliveries FAILED with `reason`, so that they never go out."""
        ...


class JobRepository(Protocol):
    """Jobs as rows: the rules of their life are domain.jobs.Job's."""

    async def add(self, job: Job) -> None: ...
    async def add_many(self, jobs: Sequence[Job]) -> None: ...
    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None: ...
    async def save(self, job: Job) -> None: ...
    async def beat(self, job_id: str, now: datetime) -> None:
        """Only the heartbeat of the job's worker."""
        ...

    async def running(self) -> list[Job]:
        """Every RUNNING job not being written right now, locked for update."""
        ...

    async def delete_finished(self, kind: JobKind, created_before: datetime) -> None: ...
    async def lost(self, overdue_before: datetime) -> list[str]:
        """Ids of QUEUED jobs that should have started running before that time."""
        ...

    async def has_unfinished(self, kind: JobKind, workflow_id: str) -> bool: ...


class ModelRepository(Protocol):
    """Trained model versions; the ACTIVE one of a kind is found only through `active`."""

    async def next_version(self, workflow_id: str) -> int: ...
    async def add(self, model: ModelVersion, artifact: ModelArtifact) -> None: ...
    async def active(self, workflow_id: str, kind: ModelKind) -> ModelVersion | None: ...
    async def active_by_key(self, workflow_key: str, kind: ModelKind) -> ModelVersion | None: ...
    async def artifact(self, model_id: str) -> ModelArtifact | None: ...
    async def latest_created_at(self, workflow_id: str, kind: ModelKind) -> datetime | None: ...
    async def promote(
        self, model_id: str, workflow_id: str, kind: ModelKind, now: datetime
    ) -> bool:
        """Retire the ACTIVE model of this kind and activate this CANDIDATE; False when
        it is no longer a candidate."""
        ...

    async def add_theme_report(self, report: ThemeReport, members: dict[str, str]) -> None: ...


class WebhookRepository(Protocol):
    async def add(self, hook: Webhook, secret: str) -> None: ...
    async def get(self, hook_id: str) -> tuple[Webhook, str] | None: ...
    async def delete(self, hook_id: str, now: datetime) -> None: ...
    async def delivery(
        self, delivery_id: str, *, for_update: bool = False
    ) -> WebhookDelivery | None: ...
    async def save_delivery(self, delivery: WebhookDelivery, expected_attempts: int) -> bool: ...
    async def event(self, event_id: str) -> QueueEvent | None: ...
    async def active_of(self, workflow_ids: Iterable[str]) -> list[Webhook]:
        """The active webhooks of these workflows."""
        ...

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None: ...


class OutcomeRepository(Protocol):
    async def record(self, rec_id: str, value: float, at: datetime) -> None:
        """A shipped draft's measured result (e.g. its open rate): what the draft scorer
        learns from."""
        ...


class TrustedDocumentRepository(Protocol):
    async def get(self, document_id: str) -> TrustedDocument | None: ...
    async def add_missing(self, documents: Sequence[TrustedDocument]) -> int:
        """Register those not registered yet; how many were new."""
        ...


class DriftAlarmRepository(Protocol):
    """The drift alarms' episodes: at most one open per model and tier."""

    async def open_of(self, workflow_id: str) -> list[DriftAlarm]:
        """The workflow's open episodes, of any of its models."""
        ...

    async def add(self, alarms: Sequence[DriftAlarm]) -> None:
        """Open these episodes; a unique-key conflict when one is open already."""
        ...

    async def clear(self, alarms: Sequence[DriftAlarm]) -> None:
        """End these episodes at their `cleared_at`."""
        ...


class UnitOfWork(Protocol):
    @property
    def users(self) -> UserRepository: ...
    @property
    def teams(self) -> TeamRepository: ...
    @property
    def admin_actions(self) -> AdminActionRepository: ...
    @property
    def workflows(self) -> WorkflowRepository: ...
    @property
    def recommendations(self) -> RecommendationRepository: ...
    @property
    def decisions(self) -> DecisionRepository: ...
    @property
    def overrides(self) -> OverrideRepository: ...
    @property
    def confirmation_grants(self) -> ConfirmationGrantRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def jobs(self) -> JobRepository: ...
    @property
    def models(self) -> ModelRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def outcomes(self) -> OutcomeRepository: ...
    @property
    def trusted_documents(self) -> TrustedDocumentRepository: ...
    @property
    def drift_alarms(self) -> DriftAlarmRepository: ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

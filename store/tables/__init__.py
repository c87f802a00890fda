"""The tables, as typed SQLModel classes that are also each entity's one mapping.

Only the store sees these; the rest of Arbiter sees domain objects. Each row class
says how its entity is written (`of`, from the domain object) and read back
(`to_domain`); the column types convert timestamps and enumerations (see
store.tables.columns). Repositories read whole rows as these classes through
store.loading and write with Core statements over the `*_t` tables below.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from store.tables.columns import BigId, JsonType, table_of, values_of
from store.tables.decisions import ConfirmationGrantRow, DecisionRow, OverrideRow
from store.tables.drift import DriftAlarmRow
from store.tables.items import FAR_FUTURE, DraftRevisionRow, RecommendationRow
from store.tables.learning import ModelVersionRow, ThemeReportRow, TrustedDocumentRow
from store.tables.log import LogCheckpointRow, LogNodeRow, PendingDecisionRow
from store.tables.outbox import EventRow, JobRow, WebhookDeliveryRow, WebhookRow
from store.tables.people import (
    AdminActionRow,
    ApiTokenRow,
    TeamMemberRow,
    TeamRow,
    WorkflowTeamRow,
)
from store.tables.workflows import PolicyRow, UserRow, WorkflowRow

metadata = SQLModel.metadata

# Core tables, for the repositories' and queries' SQL.
users_t = table_of(UserRow)
workflows_t = table_of(WorkflowRow)
policies_t = table_of(PolicyRow)
recs_t = table_of(RecommendationRow)
revisions_t = table_of(DraftRevisionRow)
decisions_t = table_of(DecisionRow)
overrides_t = table_of(OverrideRow)
confirmation_grants_t = table_of(ConfirmationGrantRow)
events_t = table_of(EventRow)
jobs_t = table_of(JobRow)
webhooks_t = table_of(WebhookRow)
deliveries_t = table_of(WebhookDeliveryRow)
models_t = table_of(ModelVersionRow)
theme_reports_t = table_of(ThemeReportRow)
trusted_documents_t = table_of(TrustedDocumentRow)
drift_alarms_t = table_of(DriftAlarmRow)
api_tokens_t = table_of(ApiTokenRow)
teams_t = table_of(TeamRow)
team_members_t = table_of(TeamMemberRow)
workflow_teams_t = table_of(WorkflowTeamRow)
admin_actions_t = table_of(AdminActionRow)
pending_decisions_t = table_of(PendingDecisionRow)
log_nodes_t = table_of(LogNodeRow)
log_checkpoints_t = table_of(LogCheckpointRow)

__all__ = [
    "FAR_FUTURE",
    "AdminActionRow",
    "ApiTokenRow",
    "BigId",
    "ConfirmationGrantRow",
    "DecisionRow",
    "DraftRevisionRow",
    "DriftAlarmRow",
    "EventRow",
    "JobRow",
    "JsonType",
    "LogCheckpointRow",
    "LogNodeRow",
    "ModelVersionRow",
    "OverrideRow",
    "PendingDecisionRow",
    "PolicyRow",
    "RecommendationRow",
    "TeamMemberRow",
    "TeamRow",
    "ThemeReportRow",
    "TrustedDocumentRow",
    "UserRow",
    "WebhookDeliveryRow",
    "WebhookRow",
    "WorkflowRow",
    "WorkflowTeamRow",
    "admin_actions_t",
    "api_tokens_t",
    "confirmation_grants_t",
    "decisions_t",
    "deliveries_t",
    "drift_alarms_t",
    "events_t",
    "jobs_t",
    "log_checkpoints_t",
    "log_nodes_t",
    "metadata",
    "models_t",
    "overrides_t",
    "pending_decisions_t",
    "policies_t",
    "recs_t",
    "revisions_t",
    "table_of",
    "team_members_t",
    "teams_t",
    "theme_reports_t",
    "trusted_documents_t",
    "users_t",
    "values_of",
    "webhooks_t",
    "workflow_teams_t",
    "workflows_t",
]

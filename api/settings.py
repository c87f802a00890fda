"""All configuration, from ARBITER_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.checkpoints import check_origin_part
from domain.drift import DEFAULT_FALSE_ALARM_RATE, DEFAULT_WINDOW, MIN_WINDOW
from domain.errors import InvalidInputError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARBITER_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./arbiter.db"
    redis_url: str | None = None
    redis_channel: str = "arbiter:events"
    """The pub/sub channel of queue and job events. Redis pub/sub channels are shared by
    every database of a Redis server: deployments sharing one server need their own."""
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Origins allowed by CORS and for WebSocket handshakes (comma-separated)."""

    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: bool = True
    console: bool = True
    """Serve the reviewer console at /console (built into console/dist by `make install`)."""
    console_dir: Path | None = None
    """The console's build output; unset: console/dist in the repository."""

    metrics_token: str | None = None
    """When set, /metrics needs `Authorization: Bearer <this token>`."""
    metrics_port: int | None = None
    """When set, /metrics is served on this port (on ARBITER_HOST) and not on the public one."""
    metrics_max_operation_names: int = 100
    """Distinct operation names counted under their own label; later ones are `other`
    (the names of trusted documents always have their own)."""

    trusted_documents_only: bool = False
    """Refuse every document that is not a registered trusted document, for every role but ADMIN."""
    introspection: Literal["authenticated", "admin"] = "authenticated"
    """Who may introspect the schema and read field suggestions in validation errors."""

    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 4_000
    max_body_bytes: int = 8 * 1024 * 1024
    max_variable_values: int = 200_000
    """Values (of any depth) a request's variables may hold; more is a 413."""
    max_subscriptions_per_connection: int = 100

    claim_lease_seconds: int = 900
    confirmation_ttl_seconds: int = 300

    sla_sweep_seconds: float = 30.0
    webhook_retry_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 10.0
    outbox_relay_seconds: float = 2.0
    job_heartbeat_seconds: float = 10.0
    """How often a running job writes its heartbeat."""
    job_stale_seconds: float = 120.0
    """A RUNNING job whose heartbeat is older than this lost its worker: the sweep fails it."""
    job_lost_after_seconds: float = 60.0
    """A job still QUEUED this long after it was due (its enqueue was lost) is enqueued again."""
    log_json: bool = False
    retrain_cron: str = "0 3 1 * *"
    retrain_min_corrections: int = 50
    drift_window: int = Field(default=DEFAULT_WINDOW, ge=MIN_WINDOW)
    """Decisions per tier in each of the drift monitor's two windows (baseline and recent)."""
    drift_false_alarm_rate: float = Field(default=DEFAULT_FALSE_ALARM_RATE, gt=0, lt=1)
    """The drift monitor's false-alarm rate over a served model's whole life on a stable
    world (spent over its looks, domain.drift)."""
    promotion_margin: float = 0.0
    training_threads: int = 2

    token_cache_seconds: float = 30.0
    """How long a resolved bearer token is remembered (0: never). A deactivated user's or
    revoked token is forgotten by every replica within a second all the same
    (api.token_cache); this bounds only a token deleted by hand in the database."""
    token_cache_size: int = 10_000

    oidc_issuer: str | None = None
    """OpenID Connect: when set, a bearer token that is a JWT is verified against this
    issuer's keys (RS256 or ES256) and its user found or created on first sign-in."""
    oidc_audience: str | None = None
    """The `aud` an OpenID Connect token must name (required with oidc_issuer)."""
    oidc_role_claim: str = "arbiter_role"
    """The claim naming the user's role (ANALYST, SENIOR, ADMIN or SERVICE)."""
    oidc_name_claim: str = "preferred_username"
    """The claim naming a new user (else `email`, else the subject)."""
    oidc_jwks_url: str | None = None
    """The issuer's key set; unset: the jwks_uri of <issuer>/.well-known/openid-configuration."""
    oidc_jwks_refetch_seconds: float = 5.0
    """A token naming an unknown key id refetches the key set at most this often."""

    db_pool_size: int = 30
    """Connections one process keeps open once it has opened them."""
    db_max_overflow: int = 0
    """Connections opened beyond the pool when it is all in use, closed again when given
    back. 0 by default: under load such connections were closed and reopened hundreds of
    times a second (each a TLS handshake, an authentication and its prepared statements
    lost), which cost a third of the decisions a process served (BENCHMARKS.md, 9)."""

    log_signing_key_file: Path | None = None
    """The file holding the deployment's Ed25519 key that signs the decision log's
    checkpoints (`arbiter keys create` makes it, mode 0600); never stored in the database."""
    log_origin: str = "arbiter"
    """This deployment's name in checkpoint origin lines (`<log_origin>/<workflow key>`):
    no whitespace, control characters or '+'."""
    log_checkpoint_seconds: float = Field(default=0.0, ge=0.0, le=3600.0)
    """0: a signed checkpoint after every sealed batch of decisions; more: at most one a
    workflow this often, and one covering the newest decisions at most this late."""

    @model_validator(mode="after")
    def _heartbeat_before_stale(self) -> Settings:
        if self.job_stale_seconds <= self.job_heartbeat_seconds:
            raise ValueError(
                "ARBITER_JOB_STALE_SECONDS must be longer than ARBITER_JOB_HEARTBEAT_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _oidc_needs_an_audience(self) -> Settings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("ARBITER_OIDC_ISSUER needs ARBITER_OIDC_AUDIENCE as well")
        return self

    @field_validator("log_origin")
    @classmethod
    def _origin_part(cls, value: str) -> str:
        try:
            check_origin_part(value, "log_origin")
        except InvalidInputError as error:
            raise ValueError(error.message) from error
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()

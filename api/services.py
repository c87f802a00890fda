"""The API process's runtime: the shared Runtime plus the API's settings."""

from __future__ import annotations

from api.metrics import allow_operation_names
from api.oidc import OidcVerifier
from api.settings import Settings
from api.token_cache import TokenCache
from api.token_revocations import TokenRevocations
from api.trusted_documents import TrustedDocumentRegistry
from store.database import Database, connect
from workers.options import RuntimeOptions
from workers.runtime import Runtime


def runtime_options(settings: Settings) -> RuntimeOptions:
    return RuntimeOptions(
        sla_sweep_seconds=settings.sla_sweep_seconds,
        webhook_retry_seconds=settings.webhook_retry_seconds,
        webhook_max_attempts=settings.webhook_max_attempts,
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        relay_seconds=settings.outbox_relay_seconds,
        job_heartbeat_seconds=settings.job_heartbeat_seconds,
        job_stale_seconds=settings.job_stale_seconds,
        job_lost_after_seconds=settings.job_lost_after_seconds,
        retrain_cron=settings.retrain_cron,
        retrain_min_corrections=settings.retrain_min_corrections,
        drift_window=settings.drift_window,
        drift_false_alarm_rate=settings.drift_false_alarm_rate,
        promotion_margin=settings.promotion_margin,
        training_threads=settings.training_threads,
        redis_channel=settings.redis_channel,
        log_signing_key_file=settings.log_signing_key_file,
        log_origin=settings.log_origin,
        log_checkpoint_seconds=settings.log_checkpoint_seconds,
    )


class Services(Runtime):
    """Everything a request may use: settings, database, bus, jobs, use-case runner."""

    def __init__(self, settings: Settings, database: Database) -> None:
        super().__init__(database, settings.redis_url, runtime_options(settings))
        self.settings = settings
        self.token_cache = TokenCache(settings.token_cache_seconds, settings.token_cache_size)
        self.token_revocations = TokenRevocations(
            self.token_cache, settings.redis_url, settings.redis_channel
        )
        self.oidc = OidcVerifier.from_settings(settings)
        self.trusted_documents = TrustedDocumentRegistry(on_new_names=allow_operation_names)

    async def start(self, *, run_jobs: bool = True) -> None:
        await super().start(run_jobs=run_jobs)
        await self.token_revocations.start()

    async def stop(self) -> None:
        await self.token_revocations.stop()
        await super().stop()

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        database = connect(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        return cls(settings, database)

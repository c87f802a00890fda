"""arq WorkerSettings for `arbiter worker`: job functions, arq's cron for the SLA sweep and
the retraining schedule, engine at startup."""

from __future__ import annotations

import logging
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from store.database import connect
from workers.execute import execute_job
from workers.jobqueue import ARQ_FUNCTION
from workers.runtime import Runtime, RuntimeOptions
from workers.schedule import CronFields, arq_cron, scheduled_retraining, sweep_once

log = logging.getLogger("arbiter.worker")

_DIVISORS_OF_60 = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)


def cron_schedule(every_seconds: float) -> CronFields:
    """arq cron fields for "every N seconds", N rounded to a divisor of 60 s or 60 min."""
    seconds = max(1, round(every_seconds))
    if seconds < 60:
        step = min(_DIVISORS_OF_60, key=lambda d: abs(d - seconds))
        return CronFields(second=set(range(0, 60, step)))
    minutes = max(1, round(seconds / 60))
    step = min((*_DIVISORS_OF_60, 60), key=lambda d: abs(d - minutes))
    return CronFields(minute=set(range(0, 60, step)), second={0})


def worker_settings(
    database_url: str, redis_url: str, options: RuntimeOptions | None = None
) -> type:
    """A WorkerSettings class bound to these settings."""
    resolved = options or RuntimeOptions()

    async def startup(ctx: dict[str, Any]) -> None:
        if ctx.get("runtime") is not None:
            # arq runs on_startup on every Worker.main(), and a burst worker may be run
            # again; a second Runtime would leak the first (bus listener, outbox tasks,
            # database engine), since on_shutdown stops only the one in ctx.
            return
        database = connect(database_url)
        runtime = Runtime(database, redis_url, resolved)
        await runtime.start(run_jobs=False)
        ctx["runtime"] = runtime
        log.info("worker ready (database %s)", database.write_engine.url.render_as_string())

    async def shutdown(ctx: dict[str, Any]) -> None:
        runtime: Runtime | None = ctx.pop("runtime", None)
        if runtime is not None:
            await runtime.stop()
            await runtime.database.dispose()

    async def run_job(ctx: dict[str, Any], job_id: str) -> None:
        await execute_job(ctx["runtime"], job_id)

    async def sla_sweep(ctx: dict[str, Any]) -> None:
        await sweep_once(ctx["runtime"])

    async def retrain_due(ctx: dict[str, Any]) -> None:
        await scheduled_retraining(ctx["runtime"])

    class WorkerSettings:
        functions = [func(run_job, name=ARQ_FUNCTION, max_tries=3)]
        cron_jobs = [
            cron(
                sla_sweep,
                name="sla_sweep",
                unique=True,
                **cron_schedule(resolved.sla_sweep_seconds),
            ),
            cron(retrain_due, name="retrain_due", unique=True, **arq_cron(resolved.retrain_cron)),
        ]
        on_startup = startup
        on_shutdown = shutdown
        redis_settings = RedisSettings.from_dsn(redis_url)
        max_jobs = 20
        job_timeout = 6 * 3600
        keep_result = 60
        health_check_interval = 30

    return WorkerSettings

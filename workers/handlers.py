"""Which function runs which kind of job."""

from __future__ import annotations

from domain.jobs import JobKind
from workers.job_runtime import Handler
from workers.retrain import run_retraining
from workers.sweep import run_sla_sweep
from workers.themes_job import run_theme_mining
from workers.webhook_delivery import deliver

HANDLERS: dict[JobKind, Handler] = {
    JobKind.SLA_SWEEP: run_sla_sweep,
    JobKind.WEBHOOK_DELIVERY: deliver,
    JobKind.RETRAIN: run_retraining,
    JobKind.MINE_THEMES: run_theme_mining,
}

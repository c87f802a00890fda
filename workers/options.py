"""The knobs of the runtime (set from ARBITER_* settings by api.services)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.drift import DEFAULT_FALSE_ALARM_RATE, DEFAULT_WINDOW


@dataclass
class RuntimeOptions:
    sla_sweep_seconds: float = 30.0
    webhook_retry_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 10.0
    relay_seconds: float = 2.0
    job_heartbeat_seconds: float = 10.0
    job_stale_seconds: float = 120.0
    job_lost_after_seconds: float = 60.0
    promotion_margin: float = 0.0
    training_threads: int = 2
    retrain_cron: str = "0 3 1 * *"
    retrain_min_corrections: int = 50
    drift_window: int = DEFAULT_WINDOW
    drift_false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE
    redis_channel: str = "arbiter:events"
    log_signing_key_file: Path | None = None
    log_origin: str = "arbiter"
    log_checkpoint_seconds: float = 0.0

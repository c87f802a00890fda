"""Prometheus metrics of the event bus and of jobs, in API processes and workers alike
(one registry per process). The API's own are in api/metrics.py."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENT_LAG_SECONDS = Histogram(
    "arbiter_event_lag_seconds",
    "From an event's commit to its publication on the bus.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WEBHOOK_FAILURES = Counter(
    "arbiter_webhook_failures_total", "Webhook delivery attempts that failed."
)
JOB_SECONDS = Histogram(
    "arbiter_job_duration_seconds",
    "Job run time by kind.",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)

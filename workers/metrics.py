"""Prometheus metrics shared by API processes and workers (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

GRAPHQL_REQUESTS = Counter(
    "arbiter_graphql_requests_total",
    "GraphQL operations by type, name and outcome (ok, problem, error).",
    ["type", "operation", "outcome"],
)
PROBLEMS = Counter(
    "arbiter_problems_total", "Typed problems returned by mutations, by type.", ["type"]
)
DECISION_SECONDS = Histogram(
    "arbiter_decision_seconds",
    "Time to decide an item (the decision use case, database included).",
    ["verdict"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)
QUEUE_DEPTH = Gauge("arbiter_queue_depth", "Open items by workflow and tier.", ["workflow", "tier"])
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

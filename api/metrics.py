"""/metrics in the Prometheus text format, and the GraphQL request counter (its operation
label bounded by api.operation_labels; trusted documents' names are allowed through
allow_operation_names)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionContext

from api.operation_labels import allow_operation_names, operation_label

__all__ = [
    "allow_operation_names",
    "count_problem",
    "count_request",
    "metrics_endpoint",
    "observe_decision",
]

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


async def metrics_endpoint(request: Request) -> Response:
    """Refresh the queue depth from the database, then render every metric."""
    services = request.app.state.services
    try:
        depths = await services.read(lambda model: model.open_counts_by_workflow())
    except Exception:  # a database outage must not hide the other metrics
        depths = None
    if depths is not None:
        QUEUE_DEPTH.clear()
        for (workflow, tier), count in depths.items():
            QUEUE_DEPTH.labels(workflow, tier).set(count)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def count_request(context: ExecutionContext) -> None:
    """arbiter_graphql_requests_total{type, operation, outcome}, once the operation ended."""
    result = context.result
    document = context.graphql_document  # None when the document did not parse
    operation_type = context.operation_type.value if document is not None else "unknown"
    name = operation_label(context.operation_name)
    if result is None or getattr(result, "errors", None):
        outcome = "error"
    elif _has_problem(getattr(result, "data", None)):
        outcome = "problem"
    else:
        outcome = "ok"
    GRAPHQL_REQUESTS.labels(operation_type, name, outcome).inc()


def count_problem(problem_type: str) -> None:
    """arbiter_problems_total{type}: a mutation answered with this typed problem."""
    PROBLEMS.labels(problem_type).inc()


def observe_decision(verdict: str, seconds: float) -> None:
    """arbiter_decision_seconds{verdict}: how long the decision use case took."""
    DECISION_SECONDS.labels(verdict).observe(seconds)


def _has_problem(data: object) -> bool:
    """A mutation answered with a typed problem (when the client asked for __typename)."""
    if not isinstance(data, dict):
        return False
    for value in data.values():
        if isinstance(value, dict) and value.get("__typename") in _PROBLEM_TYPES:
            return True
    return False


_PROBLEM_TYPES = {
    "NotFound",
    "Forbidden",
    "InvalidInput",
    "Conflict",
    "ConfirmationRequired",
    "QueueEmpty",
}

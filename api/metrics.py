"""/metrics in the Prometheus text format, and the GraphQL request counter (its operation
label bounded by api.operation_labels; trusted documents' names are allowed through
allow_operation_names)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionContext

from api.operation_labels import allow_operation_names, operation_label
from workers import metrics

__all__ = [
    "allow_operation_names",
    "count_problem",
    "count_request",
    "metrics_endpoint",
    "observe_decision",
]


async def metrics_endpoint(request: Request) -> Response:
    """Refresh the queue depth from the database, then render every metric."""
    services = request.app.state.services
    try:
        depths = await services.read(lambda model: model.open_counts_by_workflow())
    except Exception:  # a database outage must not hide the other metrics
        depths = None
    if depths is not None:
        metrics.QUEUE_DEPTH.clear()
        for (workflow, tier), count in depths.items():
            metrics.QUEUE_DEPTH.labels(workflow, tier).set(count)
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
    metrics.GRAPHQL_REQUESTS.labels(operation_type, name, outcome).inc()


def count_problem(problem_type: str) -> None:
    """arbiter_problems_total{type}: a mutation answered with this typed problem."""
    metrics.PROBLEMS.labels(problem_type).inc()


def observe_decision(verdict: str, seconds: float) -> None:
    """arbiter_decision_seconds{verdict}: how long the decision use case took."""
    metrics.DECISION_SECONDS.labels(verdict).observe(seconds)


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

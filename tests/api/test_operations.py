"""For operators: /metrics in the Prometheus text format, and JSON log lines."""

from __future__ import annotations

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from api.log_setup import JsonFormatter
from tests.factories import create_user, create_workflow, proposal, submit


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_operations_problems_decisions_and_queue_depth(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin, key="metered")
    result = await submit(gql, admin, "metered", proposal(0.8), proposal(0.6), proposal(0.75))
    first = result["recommendations"][0]["id"]
    approve = "mutation Approve($id: ID!) { approve(id: $id) { __typename } }"
    await gql(approve, {"id": first}, token=admin)
    again = await gql(approve, {"id": first}, token=admin)
    assert again["approve"]["__typename"] == "Conflict"

    response = await gql.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    ok = found[
        (
            "arbiter_graphql_requests_total",
            (("operation", "Approve"), ("outcome", "ok"), ("type", "mutation")),
        )
    ]
    problem = found[
        (
            "arbiter_graphql_requests_total",
            (("operation", "Approve"), ("outcome", "problem"), ("type", "mutation")),
        )
    ]
    assert ok >= 1 and problem >= 1
    assert found[("arbiter_problems_total", (("type", "Conflict"),))] >= 1
    assert found[("arbiter_decision_seconds_count", (("verdict", "APPROVE"),))] >= 1
    depth = {
        labels: value
        for (name, labels), value in found.items()
        if name == "arbiter_queue_depth" and ("workflow", workflow["key"]) in labels
    }
    assert depth == {
        (("tier", "ANALYST_REVIEW"), ("workflow", "metered")): 1.0,
        (("tier", "SENIOR_REVIEW"), ("workflow", "metered")): 1.0,
    }


def test_json_log_lines_carry_level_logger_message_and_extra_fields():
    record = logging.makeLogRecord(
        {
            "name": "arbiter.test",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "queue %s is late",
            "args": ("loans",),
            "workflow": "loans",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning"
    assert line["logger"] == "arbiter.test"
    assert line["message"] == "queue loans is late"
    assert line["workflow"] == "loans"
    assert "ts" in line

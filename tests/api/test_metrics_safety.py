"""/metrics is safe to expose: made-up operation names cannot grow it without end, a
metrics token keeps anonymous scrapers out, and a metrics port takes it off the public
listener."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.documents_command import load_documents
from api.metrics import allow_operation_names
from api.metrics_server import MetricsPortUnavailable
from api.settings import Settings
from tests.conftest import make_settings
from tests.factories import create_user, create_workflow, proposal
from tests.live.conftest import free_port, serve
from tests.live.helpers import create_live_workflow, server_post

BOUND = 40
TOKEN = "metrics-" + uuid.uuid4().hex


@pytest_asyncio.fixture(loop_scope="session")
async def app_settings(database: Any, database_url: str) -> Settings:
    """The `gql` app of these tests, with a small bound on operation names."""
    return make_settings(database_url, metrics_max_operation_names=BOUND)


def request_series(text: str) -> dict[tuple[str, str, str], float]:
    """arbiter_graphql_requests_total by (type, operation, outcome)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "arbiter_graphql_requests_total":
                labels = sample.labels
                key = (labels["type"], labels["operation"], labels["outcome"])
                found[key] = sample.value
    return found


async def scrape(http: httpx.AsyncClient, **headers: str) -> dict[tuple[str, str, str], float]:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return request_series(response.text)


async def ask(gql: Any, token: str, operation: str) -> None:
    response = await gql.post(f"query {operation} {{ __typename }}", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def named(series: dict[tuple[str, str, str], float], prefix: str) -> set[str]:
    return {
        operation for (_, operation, _), _value in series.items() if operation.startswith(prefix)
    }


def others(series: dict[tuple[str, str, str], float]) -> float:
    return series.get(("query", "other", "ok"), 0.0)


async def test_a_thousand_made_up_operation_names_add_at_most_the_bound_and_other(gql):
    admin = await create_user(gql.services, "admin")
    prefix = f"Made_{uuid.uuid4().hex[:8]}_"
    before = await scrape(gql.http)
    names = [f"{prefix}{n}" for n in range(1_000)]

    for name in names:
        await ask(gql, admin, name)

    after = await scrape(gql.http)
    added = set(after) - set(before)
    assert len(added) <= BOUND + 1, sorted(added)[:5]
    assert named(after, prefix) == set(names[:BOUND])
    assert others(after) - others(before) == 1_000 - BOUND
    assert all(after[("query", name, "ok")] == 1 for name in names[:BOUND])


async def test_a_name_seen_before_the_bound_was_reached_keeps_its_label(gql):
    admin = await create_user(gql.services, "admin")
    prefix = f"Early_{uuid.uuid4().hex[:8]}_"
    for n in range(BOUND + 10):
        await ask(gql, admin, f"{prefix}{n}")
    before = await scrape(gql.http)

    await ask(gql, admin, f"{prefix}0")
    await ask(gql, admin, f"{prefix}{BOUND + 20}")

    after = await scrape(gql.http)
    assert after[("query", f"{prefix}0", "ok")] == before[("query", f"{prefix}0", "ok")] + 1
    assert ("query", f"{prefix}{BOUND + 20}", "ok") not in after
    assert others(after) == others(before) + 1


async def test_trusted_operation_names_keep_their_own_label_beyond_the_bound(gql):
    admin = await create_user(gql.services, "admin")
    prefix = f"Filler_{uuid.uuid4().hex[:8]}_"
    for n in range(BOUND):
        await ask(gql, admin, f"{prefix}{n}")
    trusted = f"Trusted_{uuid.uuid4().hex[:8]}"
    untrusted = f"Untrusted_{uuid.uuid4().hex[:8]}"
    before = await scrape(gql.http)

    allow_operation_names([trusted])
    await ask(gql, admin, trusted)
    await ask(gql, admin, trusted)
    await ask(gql, admin, untrusted)

    after = await scrape(gql.http)
    assert after[("query", trusted, "ok")] == 2
    assert ("query", untrusted, "ok") not in after
    assert others(after) == others(before) + 1


async def test_a_loaded_trusted_documents_operation_keeps_its_label_beyond_the_bound(gql, tmp_path):
    admin = await create_user(gql.services, "admin")
    prefix = f"Fill_{uuid.uuid4().hex[:8]}_"
    for n in range(BOUND):
        await ask(gql, admin, f"{prefix}{n}")
    name = f"Loaded_{uuid.uuid4().hex[:8]}"
    text = f"query {name} {{ __typename }}"
    document_id = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({document_id: text}))
    await load_documents(gql.services.settings, manifest)

    response = await gql.http.post(
        "/graphql",
        json={"documentId": document_id},
        headers={"Authorization": f"Bearer {admin}"},
    )

    assert response.json() == {"data": {"__typename": "Query"}}
    assert (await scrape(gql.http))[("query", name, "ok")] == 1


async def test_unnamed_operations_are_anonymous_and_long_names_are_cut_to_64_characters(gql):
    admin = await create_user(gql.services, "admin")
    long_name = "Long_" + uuid.uuid4().hex + "x" * 200
    before = await scrape(gql.http)

    response = await gql.post("{ __typename }", token=admin)
    assert response.json() == {"data": {"__typename": "Query"}}
    await ask(gql, admin, long_name)

    after = await scrape(gql.http)
    anonymous = ("query", "anonymous", "ok")
    assert after[anonymous] == before.get(anonymous, 0.0) + 1
    assert after[("query", long_name[:64], "ok")] == 1
    assert not any(len(operation) > 64 for (_, operation, _) in after)


async def test_operations_counted_by_the_app_keep_their_type_and_outcome(gql):
    admin = await create_user(gql.services, "admin")
    await create_workflow(gql, admin, key="safety")
    name = f"Submit_{uuid.uuid4().hex[:8]}"
    mutation = f"""mutation {name}($items: [RecommendationInput!]!) {{
      submitRecommendations(workflow: "safety", items: $items) {{ __typename }} }}"""

    ok = await gql.post(mutation, {"items": [proposal()]}, token=admin)
    problem = await gql.post(mutation, {"items": [proposal(confidence=7.0)]}, token=admin)

    assert ok.json()["data"]["submitRecommendations"]["__typename"] == "SubmitSuccess"
    assert problem.json()["data"]["submitRecommendations"]["__typename"] == "InvalidInput"
    series = await scrape(gql.http)
    assert series[("mutation", name, "ok")] == 1
    assert series[("mutation", name, "problem")] == 1


# ------------------------------------------------------------------ who may scrape


@contextlib.asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The app with its lifespan, and an HTTP client that calls it in-process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, app.state.services


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert "arbiter_" not in response.text


async def test_with_a_metrics_token_only_a_scrape_bearing_it_reads_the_metrics(
    database, database_url
):
    settings = make_settings(database_url, metrics_token=TOKEN)
    async with in_process(settings) as (http, services):
        admin = await create_user(services, "admin")
        user_token = {"Authorization": f"Bearer {admin}"}

        assert_unauthenticated(await http.get("/metrics"))
        assert_unauthenticated(await http.get("/metrics", headers={"Authorization": "Bearer"}))
        assert_unauthenticated(await http.get("/metrics", headers={"Authorization": TOKEN}))
        assert_unauthenticated(await http.get("/metrics", headers=user_token))
        assert_unauthenticated(
            await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
        )
        assert_unauthenticated(
            await http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        )
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert right.status_code == 200, right.text
    assert right.headers["content-type"].startswith("text/plain")
    assert "arbiter_graphql_requests_total" in right.text


async def test_without_a_metrics_token_anyone_may_scrape_the_public_listener(
    database, database_url
):
    async with in_process(make_settings(database_url)) as (http, _):
        response = await http.get("/metrics")

    assert response.status_code == 200, response.text
    assert "arbiter_queue_depth" in response.text


# ------------------------------------------------------------------ a listener of its own


async def test_with_a_metrics_port_metrics_leave_the_public_port_for_their_own(
    database, database_url
):
    port = free_port()
    settings = make_settings(database_url, metrics_port=port)
    async with serve(settings) as server:
        admin = await create_user(server.services, "admin")
        key = f"metered-{uuid.uuid4().hex[:6]}"
        await create_live_workflow(server, admin, key)
        data = await server_post(
            server,
            admin,
            "mutation($wf: String!, $items: [RecommendationInput!]!) { "
            "submitRecommendations(workflow: $wf, items: $items) { __typename } }",
            {"wf": key, "items": [proposal(0.8), proposal(0.6), proposal(0.75)]},
        )
        assert data["submitRecommendations"]["__typename"] == "SubmitSuccess"
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            public = await http.get(f"{server.url}/metrics")
            scraped = await http.get(f"http://127.0.0.1:{port}/metrics")
            no_graphql = await http.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {admin}"},
            )
            still_public = await http.get(f"{server.url}/healthz")

    assert public.status_code == 404, public.text
    assert "arbiter_" not in public.text
    assert scraped.status_code == 200, scraped.text
    depth = {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        if sample.name == "arbiter_queue_depth" and sample.labels.get("workflow") == key
    }
    assert depth == {
        (("tier", "ANALYST_REVIEW"), ("workflow", key)): 2.0,
        (("tier", "SENIOR_REVIEW"), ("workflow", key)): 1.0,
    }
    assert no_graphql.status_code == 404
    assert still_public.status_code == 200


async def test_the_metrics_token_guards_the_metrics_port_too(database, database_url):
    port = free_port()
    settings = make_settings(database_url, metrics_port=port, metrics_token=TOKEN)
    async with serve(settings) as server, httpx.AsyncClient(timeout=10, trust_env=False) as http:
        anonymous = await http.get(f"http://127.0.0.1:{port}/metrics")
        wrong = await http.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer nope"}
        )
        right = await http.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        public = await http.get(
            f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )

    assert_unauthenticated(anonymous)
    assert_unauthenticated(wrong)
    assert right.status_code == 200, right.text
    assert "arbiter_graphql_requests_total" in right.text
    assert public.status_code == 404


async def test_the_metrics_port_is_free_again_once_the_app_stops(database, database_url):
    port = free_port()
    settings = make_settings(database_url, metrics_port=port)
    async with serve(settings):
        pass

    async with serve(settings), httpx.AsyncClient(timeout=10, trust_env=False) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")

    assert response.status_code == 200, response.text


async def test_a_metrics_port_already_taken_stops_the_app_from_starting_and_says_why(
    database, database_url
):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        app = create_app(make_settings(database_url, metrics_port=port))

        with pytest.raises(MetricsPortUnavailable, match=f"127.0.0.1:{port}"):
            async with app.router.lifespan_context(app):
                pass

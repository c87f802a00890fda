"""Reading through GraphQL: the queue and its pages, counts, the decision log, node(id), and
`arbiter audit verify` against a tampered log."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

import api.cli
import api.settings
from store.tables import DecisionRow, RecommendationRow
from tests.factories import create_user, create_workflow, submit, submit_one

recs = RecommendationRow.__table__
decisions_t = DecisionRow.__table__

QUEUE = """
query(
  $wf: String!, $first: Int!, $after: String, $tiers: [Tier!], $statuses: [RecommendationStatus!]
) {
  queue(workflow: $wf, first: $first, after: $after, tiers: $tiers, statuses: $statuses) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id tier status slaDueAt createdAt } }
  }
}"""
LOG = """
query($wf: String!, $first: Int!, $after: String, $since: DateTime) {
  decisions(workflow: $wf, first: $first, after: $after, since: $since) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id verdict automated sequence auditHash createdAt actor { name } recommendation { id }
    } }
  }
}"""
DECISION = """
  __typename
  ... on DecisionSuccess { decision { id verdict createdAt sequence } }
  ... on Problem { message }
"""
APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {DECISION} }} }}"
REJECT = f'mutation($id: ID!) {{ reject(id: $id, reason: "no") {{ {DECISION} }} }}'
FLAG = f'mutation($id: ID!) {{ flag(id: $id, note: "later") {{ {DECISION} }} }}'
OVERRIDE = f"""
mutation($id: ID!) {{ override(id: $id, action: "B", reason: "young company") {{ {DECISION} }} }}"""
CLAIM = """
mutation($id: ID!) { claim(id: $id) { __typename ... on Problem { message } } }"""


@dataclass
class Shop:
    gql: Any
    admin: str
    model: str
    analyst: str
    senior: str
    key: str
    workflow_id: str

    async def item(self, **fields: Any) -> dict[str, Any]:
        return await submit_one(self.gql, self.model, self.key, **fields)

    async def decide(
        self, mutation: str, rec_id: str, as_user: str | None = None
    ) -> dict[str, Any]:
        data = await self.gql(mutation, {"id": rec_id}, token=as_user or self.senior)
        result = dict(next(iter(data.values())))
        assert result["__typename"] == "DecisionSuccess", result
        return dict(result["decision"])

    async def queue(self, as_user: str | None = None, **variables: Any) -> dict[str, Any]:
        variables = {"wf": self.key, "first": 50, **variables}
        data = await self.gql(QUEUE, variables, token=as_user or self.admin)
        return dict(data["queue"])

    async def log(self, **variables: Any) -> dict[str, Any]:
        variables = {"wf": self.key, "first": 50, **variables}
        return dict((await self.gql(LOG, variables, token=self.admin))["decisions"])


async def open_shop(gql: Any, **workflow_fields: Any) -> Shop:
    services = gql.services
    admin = await create_user(services, "admin", name="admin")
    model = await create_user(services, "service", name="model")
    analyst = await create_user(services, "analyst", name="ana")
    senior = await create_user(services, "senior", name="sen")
    workflow = await create_workflow(gql, admin, **workflow_fields)
    return Shop(gql, admin, model, analyst, senior, workflow["key"], workflow["id"])


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def cursor_of(values: list[Any]) -> str:
    """A cursor in the API's own encoding, with values it never gave out."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# ------------------------------------------------------------------ queue


async def test_the_queue_lists_items_due_soonest_first(gql):
    shop = await open_shop(gql)
    senior_item = await shop.item(confidence=0.6)  # oldest, due in 24 h
    first_analyst = await shop.item(confidence=0.8)  # due in 4 h
    second_analyst = await shop.item(confidence=0.75)  # due in 4 h, a little later

    queue = await shop.queue()

    assert ids_of(queue) == [first_analyst["id"], second_analyst["id"], senior_item["id"]]
    due = [datetime.fromisoformat(e["node"]["slaDueAt"]) for e in queue["edges"]]
    assert due == sorted(due)


async def test_the_queue_puts_the_older_of_two_items_due_together_first(gql, database):
    shop = await open_shop(gql)
    batch = await submit(
        gql, shop.model, shop.key, *[{"payload": {}, "proposedAction": "A", "confidence": 0.8}] * 2
    )
    ids = sorted(r["id"] for r in batch["recommendations"])
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    older = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            recs.update().where(recs.c.id.in_(ids)).values(sla_due_at=due, due_sort=due)
        )
        await connection.execute(recs.update().where(recs.c.id == ids[1]).values(created_at=older))

    queue = await shop.queue()

    assert ids_of(queue) == [ids[1], ids[0]]


async def test_paging_through_the_queue_gives_every_item_once_in_order(gql):
    shop = await open_shop(gql)
    # One batch (same due time: the id breaks ties) and single items (later due times).
    batch = await submit(
        gql,
        shop.model,
        shop.key,
        *[{"payload": {"n": n}, "proposedAction": "A", "confidence": 0.8} for n in range(4)],
    )
    singles = [await shop.item(confidence=0.8) for _ in range(2)]
    senior = await shop.item(confidence=0.6)
    everything = [r["id"] for r in batch["recommendations"]] + [s["id"] for s in singles]
    everything.append(senior["id"])
    whole = await shop.queue()
    assert sorted(ids_of(whole)) == sorted(everything)

    pages, after = [], None
    for _ in range(4):
        page = await shop.queue(first=3, after=after)
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert [len(p["edges"]) for p in pages] == [3, 3, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert {p["totalCount"] for p in pages} == {7}
    for page in pages:
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    paged = [node_id for page in pages for node_id in ids_of(page)]
    assert paged == ids_of(whole)
    assert len(set(paged)) == 7
    keys = [
        (
            datetime.fromisoformat(e["node"]["slaDueAt"]),
            datetime.fromisoformat(e["node"]["createdAt"]),
        )
        for p in pages
        for e in p["edges"]
    ]
    assert keys == sorted(keys)
    assert paged[-1] == senior["id"]


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "!!not base64!!",
        cursor_of(["2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00"]),
        cursor_of(["not a date", "2024-01-01T00:00:00+00:00", "rec_x"]),
        cursor_of([1, 2, 3]),
        cursor_of({"a": 1}),
        cursor_of(["0001-01-01T00:00:00+05:00", "2024-01-01T00:00:00+00:00", "rec_x"]),
    ],
    ids=["word", "punctuation", "short", "bad-date", "numbers", "object", "year-0-in-utc"],
)
async def test_a_queue_cursor_the_api_never_gave_out_is_a_graphql_error(gql, after):
    shop = await open_shop(gql)
    await shop.item()

    response = await gql.post(QUEUE, {"wf": shop.key, "first": 5, "after": after}, token=shop.admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"], body
    assert "cursor" in body["errors"][0]["message"], body
    assert body.get("data") is None


@pytest.mark.parametrize(
    "after",
    ["garbage", cursor_of(["one"]), cursor_of([1, 2]), cursor_of([10**30]), cursor_of([1.5])],
    ids=["word", "string", "pair", "huge-number", "fraction"],
)
async def test_a_decision_log_cursor_the_api_never_gave_out_is_a_graphql_error(gql, after):
    shop = await open_shop(gql)
    await shop.decide(APPROVE, (await shop.item())["id"])

    response = await gql.post(LOG, {"wf": shop.key, "first": 5, "after": after}, token=shop.admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"], body
    assert "cursor" in body["errors"][0]["message"], body


@pytest.mark.parametrize("first", [501, 10_000, -1])
async def test_a_page_size_outside_0_to_500_is_a_graphql_error(gql, first):
    shop = await open_shop(gql)

    for query in (QUEUE, LOG):
        response = await gql.post(query, {"wf": shop.key, "first": first}, token=shop.admin)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["errors"], body
        assert "first" in body["errors"][0]["message"], body


async def test_the_queue_can_be_narrowed_to_one_tier(gql):
    shop = await open_shop(gql)
    await shop.item(confidence=0.8)
    senior = await shop.item(confidence=0.6)

    queue = await shop.queue(tiers=["SENIOR_REVIEW"])

    assert ids_of(queue) == [senior["id"]]
    assert queue["totalCount"] == 1
    assert {e["node"]["tier"] for e in queue["edges"]} == {"SENIOR_REVIEW"}


async def test_the_queue_shows_open_items_by_default_and_decided_ones_when_asked(gql):
    shop = await open_shop(gql)
    pending = await shop.item()
    claimed = await shop.item()
    flagged = await shop.item()
    approved = await shop.item()
    rejected = await shop.item()
    auto = await shop.item(confidence=0.95)
    assert auto["status"] == "APPROVED"
    await shop.gql(CLAIM, {"id": claimed["id"]}, token=shop.analyst)
    await shop.decide(FLAG, flagged["id"])
    await shop.decide(APPROVE, approved["id"])
    await shop.decide(REJECT, rejected["id"])

    open_queue = await shop.queue()
    decided = await shop.queue(statuses=["APPROVED"])

    assert sorted(ids_of(open_queue)) == sorted([pending["id"], claimed["id"], flagged["id"]])
    assert {e["node"]["id"]: e["node"]["status"] for e in open_queue["edges"]} == {
        pending["id"]: "PENDING",
        claimed["id"]: "CLAIMED",
        flagged["id"]: "FLAGGED",
    }
    assert sorted(ids_of(decided)) == sorted([approved["id"], auto["id"]])
    assert decided["totalCount"] == 2


async def test_an_analyst_does_not_see_senior_items_in_the_queue(gql):
    shop = await open_shop(gql)
    mine = await shop.item(confidence=0.8)
    await shop.item(confidence=0.6)

    queue = await shop.queue(as_user=shop.analyst)
    asked = await shop.queue(as_user=shop.analyst, tiers=["SENIOR_REVIEW"])

    assert ids_of(queue) == [mine["id"]]
    assert queue["totalCount"] == 1
    assert asked["edges"] == [] and asked["totalCount"] == 0


async def test_queue_counts_count_open_items_by_tier_and_status(gql):
    shop = await open_shop(gql, policy={"belowFloor": "REQUEST_MORE_DATA"})
    for _ in range(2):
        await shop.item(confidence=0.8)
    claimed = await shop.item(confidence=0.8)
    decided = await shop.item(confidence=0.8)
    flagged = await shop.item(confidence=0.6)
    await shop.item(confidence=0.6)
    needs_data = await shop.item(confidence=0.3)
    assert needs_data["status"] == "NEEDS_DATA"
    await shop.item(confidence=0.95)  # auto-approved: not counted
    await shop.gql(CLAIM, {"id": claimed["id"]}, token=shop.analyst)
    await shop.decide(APPROVE, decided["id"])
    await shop.decide(FLAG, flagged["id"])

    data = await gql(
        "query($wf: String!) { workflow(key: $wf) { queueCounts { tier status count } } }",
        {"wf": shop.key},
        token=shop.admin,
    )

    counts = {(c["tier"], c["status"]): c["count"] for c in data["workflow"]["queueCounts"]}
    assert counts == {
        ("ANALYST_REVIEW", "PENDING"): 2,
        ("ANALYST_REVIEW", "CLAIMED"): 1,
        ("SENIOR_REVIEW", "PENDING"): 1,
        ("SENIOR_REVIEW", "FLAGGED"): 1,
        ("BELOW_FLOOR", "NEEDS_DATA"): 1,
    }


# ------------------------------------------------------------------ the decision log


async def _five_decisions(shop: Shop) -> list[str]:
    """Five log records: one automatic approval, then approve, reject, flag, approve."""
    await shop.item(confidence=0.95)
    items = [await shop.item() for _ in range(3)]
    await shop.decide(APPROVE, items[0]["id"])
    await shop.decide(REJECT, items[1]["id"])
    await shop.decide(FLAG, items[2]["id"])
    await shop.decide(APPROVE, items[2]["id"])
    return [i["id"] for i in items]


async def test_the_decision_log_is_in_chain_order_and_pages(gql):
    shop = await open_shop(gql)
    items = await _five_decisions(shop)

    whole = await shop.log()
    pages, after = [], None
    for _ in range(4):
        page = await shop.log(first=2, after=after)
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    nodes = [e["node"] for e in whole["edges"]]
    assert whole["totalCount"] == 5
    assert [n["sequence"] for n in nodes] == [1, 2, 3, 4, 5]
    assert [n["verdict"] for n in nodes] == ["APPROVE", "APPROVE", "REJECT", "FLAG", "APPROVE"]
    assert nodes[0]["automated"] is True and nodes[0]["actor"] is None
    assert [n["actor"]["name"] for n in nodes[1:]] == ["sen"] * 4
    assert [n["recommendation"]["id"] for n in nodes[1:]] == [
        items[0],
        items[1],
        items[2],
        items[2],
    ]
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert {p["totalCount"] for p in pages} == {5}
    assert [e["node"]["id"] for p in pages for e in p["edges"]] == [n["id"] for n in nodes]


async def test_audit_hashes_are_distinct_sha256_hex_digests(gql):
    shop = await open_shop(gql)
    await _five_decisions(shop)

    hashes = [e["node"]["auditHash"] for e in (await shop.log())["edges"]]

    assert len(hashes) == 5
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), hashes
    assert len(set(hashes)) == 5


async def _log_with_a_gap(shop: Shop) -> tuple[list[dict[str, Any]], datetime]:
    first = await shop.decide(APPROVE, (await shop.item())["id"])
    await asyncio.sleep(0.05)
    second = await shop.decide(APPROVE, (await shop.item())["id"])
    third = await shop.decide(REJECT, (await shop.item())["id"])
    return [first, second, third], datetime.fromisoformat(second["createdAt"])


async def test_the_decision_log_since_a_time_leaves_out_older_records(gql):
    shop = await open_shop(gql)
    decided, since = await _log_with_a_gap(shop)

    log = await shop.log(since=since.isoformat())
    later = await shop.log(since=(since + timedelta(days=1)).isoformat())

    assert [e["node"]["id"] for e in log["edges"]] == [decided[1]["id"], decided[2]["id"]]
    assert log["totalCount"] == 2
    assert later["edges"] == [] and later["totalCount"] == 0


async def test_the_decision_log_since_a_time_in_another_offset_means_the_same_instant(gql):
    shop = await open_shop(gql)
    decided, since = await _log_with_a_gap(shop)
    in_berlin = since.astimezone(timezone(timedelta(hours=2)))
    in_new_york = since.astimezone(timezone(timedelta(hours=-5)))

    berlin = await shop.log(since=in_berlin.isoformat())
    new_york = await shop.log(since=in_new_york.isoformat())

    expected = [decided[1]["id"], decided[2]["id"]]
    assert [e["node"]["id"] for e in berlin["edges"]] == expected
    assert [e["node"]["id"] for e in new_york["edges"]] == expected


# ------------------------------------------------------------------ node(id) and nesting

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on User { name role }
    ... on Workflow { key }
    ... on Recommendation { status }
    ... on Decision { verdict }
    ... on Override { chosenAction reason }
  }
}"""


async def test_node_resolves_each_kind_of_id_to_its_type(gql):
    shop = await open_shop(gql)
    item = await shop.item()
    decision = await shop.decide(OVERRIDE, item["id"])
    overrides = await gql(
        "query($wf: String!) { overrides(workflow: $wf) { edges { node { id } } } }",
        {"wf": shop.key},
        token=shop.admin,
    )
    override_id = overrides["overrides"]["edges"][0]["node"]["id"]
    me = (await gql("{ me { id } }", token=shop.senior))["me"]["id"]

    async def node(node_id: str) -> Any:
        return (await gql(NODE, {"id": node_id}, token=shop.admin))["node"]

    assert await node(me) == {"__typename": "User", "id": me, "name": "sen", "role": "SENIOR"}
    assert await node(shop.workflow_id) == {
        "__typename": "Workflow",
        "id": shop.workflow_id,
        "key": shop.key,
    }
    assert await node(item["id"]) == {
        "__typename": "Recommendation",
        "id": item["id"],
        "status": "OVERRIDDEN",
    }
    assert await node(decision["id"]) == {
        "__typename": "Decision",
        "id": decision["id"],
        "verdict": "OVERRIDE",
    }
    assert await node(override_id) == {
        "__typename": "Override",
        "id": override_id,
        "chosenAction": "B",
        "reason": "young company",
    }


@pytest.mark.parametrize(
    "node_id",
    ["", "nonsense", "rec_", "rec_0000", "usr_unknown", "wf_unknown", "dec_nope", "ovr_x", "job_1"],
)
async def test_node_of_an_unknown_id_is_null(gql, node_id):
    admin = await create_user(gql.services, "admin")

    data = await gql(NODE, {"id": node_id}, token=admin)

    assert data["node"] is None


async def test_an_analyst_cannot_see_a_senior_item_or_its_decisions_by_id(gql):
    shop = await open_shop(gql)
    item = await shop.item(confidence=0.6)
    decision = await shop.decide(REJECT, item["id"])

    data = await gql(
        """query($rec: ID!, $dec: ID!) {
             item: node(id: $rec) { id } decision: node(id: $dec) { id }
             recommendation(id: $rec) { id }
           }""",
        {"rec": item["id"], "dec": decision["id"]},
        token=shop.analyst,
    )

    assert data == {"item": None, "decision": None, "recommendation": None}


async def test_a_recommendation_reads_its_decisions_and_workflow(gql):
    shop = await open_shop(gql)
    item = await shop.item()
    await shop.decide(FLAG, item["id"])
    await shop.decide(APPROVE, item["id"], as_user=shop.analyst)

    data = await gql(
        """query($id: ID!) { recommendation(id: $id) {
             id status workflow { key }
             decisions { verdict reason actor { name } recommendation { id status } }
           } }""",
        {"id": item["id"]},
        token=shop.admin,
    )

    read = data["recommendation"]
    assert read["workflow"] == {"key": shop.key}
    assert read["status"] == "APPROVED"
    assert [(d["verdict"], d["reason"], d["actor"]["name"]) for d in read["decisions"]] == [
        ("FLAG", "later", "sen"),
        ("APPROVE", None, "ana"),
    ]
    assert {d["recommendation"]["id"] for d in read["decisions"]} == {item["id"]}


# ------------------------------------------------------------------ arbiter audit verify


async def verify(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, database_url: str
) -> tuple[int, str]:
    """`arbiter audit verify` on the test database: its exit code and what it printed."""
    monkeypatch.setenv("ARBITER_DATABASE_URL", database_url)

    def run() -> int:
        api.settings.get_settings.cache_clear()
        try:
            return api.cli.main(["audit", "verify"])
        finally:
            api.settings.get_settings.cache_clear()

    capsys.readouterr()
    code = await asyncio.to_thread(run)  # the command runs its own event loop
    return code, capsys.readouterr().out


async def _logged(shop: Shop, database: Any) -> list[Any]:
    await _five_decisions(shop)
    async with database.read_engine.connect() as connection:
        rows = await connection.execute(
            sa.select(decisions_t)
            .where(decisions_t.c.workflow_id == shop.workflow_id)
            .order_by(decisions_t.c.seq)
        )
        return list(rows)


async def test_audit_verify_passes_after_real_decisions(
    gql, database, database_url, monkeypatch, capsys
):
    shop = await open_shop(gql)
    await _logged(shop, database)

    code, out = await verify(monkeypatch, capsys, database_url)

    assert code == 0, out
    assert f"ok      {shop.key}: 5 records, chain holds" in out


async def test_audit_verify_names_a_record_whose_reason_was_edited(
    gql, database, database_url, monkeypatch, capsys
):
    shop = await open_shop(gql)
    rows = await _logged(shop, database)
    target = rows[2]  # the REJECT with reason "no"
    async with database.write_engine.begin() as connection:
        await connection.execute(
            decisions_t.update().where(decisions_t.c.id == target.id).values(reason="yes")
        )

    code, out = await verify(monkeypatch, capsys, database_url)

    assert code != 0, out
    assert "BROKEN" in out
    assert f"record 3 (decision {target.id})" in out, out
    assert "edited" in out


async def test_audit_verify_names_the_gap_where_a_middle_record_was_deleted(
    gql, database, database_url, monkeypatch, capsys
):
    shop = await open_shop(gql)
    rows = await _logged(shop, database)
    async with database.write_engine.begin() as connection:
        await connection.execute(decisions_t.delete().where(decisions_t.c.id == rows[2].id))

    code, out = await verify(monkeypatch, capsys, database_url)

    assert code != 0, out
    assert "BROKEN" in out
    assert f"(decision {rows[3].id})" in out, out
    assert "deleted or reordered" in out


async def test_audit_verify_names_records_whose_order_was_swapped(
    gql, database, database_url, monkeypatch, capsys
):
    shop = await open_shop(gql)
    rows = await _logged(shop, database)
    second, third = rows[1], rows[2]
    async with database.write_engine.begin() as connection:
        where = decisions_t.c.id
        await connection.execute(decisions_t.update().where(where == second.id).values(seq=-1))
        await connection.execute(decisions_t.update().where(where == third.id).values(seq=2))
        await connection.execute(decisions_t.update().where(where == second.id).values(seq=3))

    code, out = await verify(monkeypatch, capsys, database_url)

    assert code != 0, out
    assert "BROKEN" in out
    assert f"record 2 (decision {third.id})" in out, out


async def test_audit_verify_notices_a_deleted_last_record(
    gql, database, database_url, monkeypatch, capsys
):
    shop = await open_shop(gql)
    rows = await _logged(shop, database)
    async with database.write_engine.begin() as connection:
        await connection.execute(decisions_t.delete().where(decisions_t.c.id == rows[-1].id))

    code, out = await verify(monkeypatch, capsys, database_url)

    assert code != 0, out
    assert "BROKEN" in out
    assert "chain head" in out


async def test_node_resolves_webhooks_and_jobs_for_admins_and_nobody_else(gql):
    from domain.clock import utcnow
    from domain.jobs import Job, JobKind

    admin = await create_user(gql.services, "admin")
    senior = await create_user(gql.services, "senior")
    await create_workflow(gql, admin, key="hooked")
    created = await gql(
        """mutation { createWebhook(workflow: "hooked", url: "https://svc.example/hook",
                                    events: [DECIDED]) {
             ... on WebhookSuccess { webhook { id } } } }""",
        token=admin,
    )
    hook_id = created["createWebhook"]["webhook"]["id"]
    job = Job.new(JobKind.SLA_SWEEP, utcnow())
    async with gql.services.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    query = """query($id: ID!) { node(id: $id) { __typename id
        ... on Webhook { url events active } ... on Job { kind state } } }"""

    hook = (await gql(query, {"id": hook_id}, token=admin))["node"]
    found_job = (await gql(query, {"id": job.id}, token=admin))["node"]

    assert hook == {
        "__typename": "Webhook",
        "id": hook_id,
        "url": "https://svc.example/hook",
        "events": ["DECIDED"],
        "active": True,
    }
    assert found_job == {"__typename": "Job", "id": job.id, "kind": "SLA_SWEEP", "state": "QUEUED"}
    assert (await gql(query, {"id": hook_id}, token=senior))["node"] is None
    assert (await gql(query, {"id": job.id}, token=senior))["node"] is None

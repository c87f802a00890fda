"""divergence, reviewerStats and simulatePolicy over a decision history made through GraphQL.

Decisions are placed in time by moving their created_at (the hash chain is not checked
here); expected numbers are counted by hand from the history each test builds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from domain import analytics
from domain.clock import utcnow
from store.tables import decisions_t
from tests.factories import create_user, create_workflow, proposal, submit

RESULT = """
  __typename
  ... on DecisionSuccess { decision { id } }
  ... on ConfirmationRequired { token }
  ... on Problem { message }
"""
CLAIM = "mutation($id: ID!) { claim(id: $id) { __typename ... on Problem { message } } }"
APPROVE = (
    f"mutation($id: ID!, $t: String) {{ approve(id: $id, confirmationToken: $t) {{ {RESULT} }} }}"
)
REJECT = f'mutation($id: ID!) {{ reject(id: $id, reason: "not this one") {{ {RESULT} }} }}'
FLAG = f'mutation($id: ID!) {{ flag(id: $id, note: "ask the team") {{ {RESULT} }} }}'
OVERRIDE = f"""mutation($id: ID!, $a: String!) {{
  override(id: $id, action: $a, reason: "the payload says otherwise") {{ {RESULT} }}
}}"""

STATS = """
  reviewer { name } decisions decisionsToday medianDwellMs agreementRate fastDecisions
  auditAccuracy fatigueWarning
"""
DIVERGENCE = f"""
query($wf: String!, $window: Window!) {{
  divergence(workflow: $wf, window: $window) {{
    workflow {{ key }} window since decisions automatedDecisions
    agreementRate overrideRate rejectRate editRate autoApprovePrecision
    byAction {{ proposedAction decisions approvals rejections edits overrides overrideRate
                topReplacement }}
    byTier {{ tier decisions agreementRate }}
    byReviewer {{ {STATS} }}
    series {{ start decisions overrideRate agreementRate }}
  }}
}}"""
REVIEWER_STATS = f"query($wf: String!) {{ reviewerStats(workflow: $wf) {{ {STATS} }} }}"
SIMULATE = """
query($wf: String!, $input: EscalationPolicyInput!, $window: Window) {
  simulatePolicy(workflow: $wf, input: $input, window: $window) {
    decisionsReplayed autoApproveShare analystShare seniorShare belowFloorShare
    estimatedAutoErrorRate estimatedReviewsPerDay
  }
}"""
SIMULATE_MONTH = """
query($wf: String!, $input: EscalationPolicyInput!) {
  simulatePolicy(workflow: $wf, input: $input) { decisionsReplayed autoApproveShare }
}"""

MIN_DWELL_MS = 2000


@dataclass
class History:
    key: str
    tokens: dict[str, str]
    started: datetime
    placed: dict[str, datetime] = field(default_factory=dict)


async def _decide(gql: Any, token: str, mutation: str, rec_id: str, **variables: Any) -> str:
    data = await gql(mutation, {"id": rec_id, **variables}, token=token)
    (result,) = data.values()
    if result["__typename"] == "ConfirmationRequired":  # high stakes: confirm
        data = await gql(mutation, {"id": rec_id, "t": result["token"], **variables}, token=token)
        (result,) = data.values()
    assert result["__typename"] == "DecisionSuccess", result
    return str(result["decision"]["id"])


async def _claim(gql: Any, token: str, rec_id: str) -> None:
    result = (await gql(CLAIM, {"id": rec_id}, token=token))["claim"]
    assert result["__typename"] == "ClaimSuccess", result


async def _update(database: Any, decision_id: str, **values: Any) -> None:
    async with database.write_engine.begin() as connection:
        await connection.execute(
            sa.update(decisions_t).where(decisions_t.c.id == decision_id).values(**values)
        )


async def _undo(database: Any, decision_id: str) -> None:
    """An UNDO that reverts `decision_id`, written straight into the log."""
    async with database.write_engine.begin() as connection:
        row = (
            await connection.execute(sa.select(decisions_t).where(decisions_t.c.id == decision_id))
        ).one()
        values = dict(row._mapping)
        values.update(
            id=f"dec_undo_{decision_id[-8:]}",
            seq=100_000,
            verdict="UNDO",
            final_action=None,
            reverts_id=decision_id,
            created_at=utcnow(),
        )
        await connection.execute(sa.insert(decisions_t).values(**values))


async def build_history(gql: Any, database: Any) -> History:
    """The decision log the divergence tests count by hand.

    stamp (ANALYST): 12 approvals of A, each claimed and approved at once (fast).
    care (ANALYST), on claims with 3-12 s dwell: c1-c4 approve A (c1, c2 2.5 days ago),
      c5, c6 override A -> B, c7 override B -> C, c8 reject B; audit items a1 approve A,
      a2 override A -> C.
    sen (SENIOR), without claims: sn4 approve C now; f1 (B, ANALYST_REVIEW) flagged, then
      approved; u1 approve A, then undone; sn1 approve A and sn2 override A -> C 10.5
      days ago; sn3 reject C 40 days ago.
    The ladder: two items below the floor rejected automatically.
    """
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    tokens = {
        "admin": admin,
        "service": model,
        "stamp": await create_user(services, "analyst", name="stamp"),
        "care": await create_user(services, "analyst", name="care"),
        "sen": await create_user(services, "senior", name="sen"),
    }
    policy = {"minDwellMs": MIN_DWELL_MS, "auditSampleRate": 1.0}
    key = (await create_workflow(gql, admin, policy=policy))["key"]
    plan = (
        [(f"s{i}", 0.8, "A") for i in range(1, 13)]
        + [(f"c{i}", 0.8, "A") for i in range(1, 7)]
        + [("c7", 0.8, "B"), ("c8", 0.8, "B"), ("a1", 0.95, "A"), ("a2", 0.95, "A")]
        + [("f1", 0.8, "B"), ("u1", 0.8, "A")]
        + [("sn1", 0.6, "A"), ("sn2", 0.6, "A"), ("sn3", 0.6, "C"), ("sn4", 0.6, "C")]
        + [("low1", 0.3, "A"), ("low2", 0.2, "B")]
    )
    items = [proposal(c, a, externalId=name) for name, c, a in plan]
    result = await submit(gql, model, key, *items)
    assert result["__typename"] == "SubmitSuccess", result
    ids = {r["externalId"]: r["id"] for r in result["recommendations"]}
    assert [r["sampledForAudit"] for r in result["recommendations"]].count(True) == 2
    history = History(key, tokens, utcnow())

    stamp, care, sen = tokens["stamp"], tokens["care"], tokens["sen"]
    for i in range(1, 13):
        await _claim(gql, stamp, ids[f"s{i}"])
        await _decide(gql, stamp, APPROVE, ids[f"s{i}"])

    careful = [
        ("c1", APPROVE, {}),
        ("c2", APPROVE, {}),
        ("c3", APPROVE, {}),
        ("c4", APPROVE, {}),
        ("c5", OVERRIDE, {"a": "B"}),
        ("c6", OVERRIDE, {"a": "B"}),
        ("c7", OVERRIDE, {"a": "C"}),
        ("c8", REJECT, {}),
        ("a1", APPROVE, {}),
        ("a2", OVERRIDE, {"a": "C"}),
    ]
    for index, (name, mutation, variables) in enumerate(careful):
        await _claim(gql, care, ids[name])
        decision = await _decide(gql, care, mutation, ids[name], **variables)
        await _update(database, decision, dwell_ms=3000 + 1000 * index)  # read for 3-12 s
        if name in ("c1", "c2"):
            history.placed[name] = utcnow() - timedelta(days=2, hours=12)
            await _update(database, decision, created_at=history.placed[name])

    await _decide(gql, sen, APPROVE, ids["sn4"])
    await _decide(gql, sen, FLAG, ids["f1"])
    await _decide(gql, sen, APPROVE, ids["f1"])
    await _undo(database, await _decide(gql, sen, APPROVE, ids["u1"]))
    for name, mutation, variables, days in (
        ("sn1", APPROVE, {}, 10.5),
        ("sn2", OVERRIDE, {"a": "C"}, 10.5),
        ("sn3", REJECT, {}, 40),
    ):
        decision = await _decide(gql, sen, mutation, ids[name], **variables)
        history.placed[name] = utcnow() - timedelta(days=days)
        await _update(database, decision, created_at=history.placed[name])
    return history


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["reviewer"]["name"]: row for row in rows}


def _same_day(history: History) -> bool:
    """Whether the test ran within one UTC day (else 'today' counts are ambiguous)."""
    return analytics.utc_day_start(history.started) == analytics.utc_day_start(utcnow())


async def test_divergence_over_a_week_counts_human_calls_by_action_tier_reviewer_and_day(
    gql, database
):
    history = await build_history(gql, database)
    data = await gql(DIVERGENCE, {"wf": history.key, "window": "WEEK"}, token=history.tokens["sen"])
    report = data["divergence"]

    # In the week: stamp 12 (12 approvals), care 10 (5 approvals, 4 overrides, 1 reject),
    # sen 2 (sn4, f1: approvals). Not counted: f1's flag, u1 (undone), the undo itself,
    # sn1-sn3 (older), the ladder's two rejections (counted apart).
    assert report["workflow"] == {"key": history.key}
    assert report["window"] == "WEEK"
    assert (report["decisions"], report["automatedDecisions"]) == (24, 2)
    assert report["agreementRate"] == pytest.approx(19 / 24)
    assert report["overrideRate"] == pytest.approx(4 / 24)
    assert report["rejectRate"] == pytest.approx(1 / 24)
    assert report["editRate"] == 0.0
    assert report["autoApprovePrecision"] == pytest.approx(0.5)  # a1 approved, a2 overridden
    since = datetime.fromisoformat(report["since"])
    assert abs(since - (utcnow() - timedelta(days=7))) < timedelta(minutes=1)

    assert report["byAction"] == [
        {
            "proposedAction": "A",
            "decisions": 20,
            "approvals": 17,
            "rejections": 0,
            "edits": 0,
            "overrides": 3,
            "overrideRate": pytest.approx(3 / 20),
            "topReplacement": "B",  # c5, c6 -> B; a2 -> C
        },
        {
            "proposedAction": "B",
            "decisions": 3,
            "approvals": 1,
            "rejections": 1,
            "edits": 0,
            "overrides": 1,
            "overrideRate": pytest.approx(1 / 3),
            "topReplacement": "C",
        },
        {
            "proposedAction": "C",
            "decisions": 1,
            "approvals": 1,
            "rejections": 0,
            "edits": 0,
            "overrides": 0,
            "overrideRate": 0.0,
            "topReplacement": None,
        },
    ]
    assert report["byTier"] == [
        {"tier": "ANALYST_REVIEW", "decisions": 23, "agreementRate": pytest.approx(18 / 23)},
        {"tier": "SENIOR_REVIEW", "decisions": 1, "agreementRate": 1.0},
    ]

    series = report["series"]
    assert len(series) == 7
    starts = [datetime.fromisoformat(p["start"]) for p in series]
    assert starts[0] == since
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(starts))
    assert [p["decisions"] for p in series] == [0, 0, 0, 0, 2, 0, 22]  # c1, c2 2.5 days ago
    assert (series[4]["agreementRate"], series[4]["overrideRate"]) == (1.0, 0.0)
    assert series[6]["agreementRate"] == pytest.approx(17 / 22)
    assert series[6]["overrideRate"] == pytest.approx(4 / 22)
    assert series[0] == {
        "start": series[0]["start"],
        "decisions": 0,
        "overrideRate": 0.0,
        "agreementRate": 0.0,
    }

    reviewers = _by_name(report["byReviewer"])
    assert [r["reviewer"]["name"] for r in report["byReviewer"]] == ["stamp", "care", "sen"]
    stamp, care, sen = reviewers["stamp"], reviewers["care"], reviewers["sen"]
    assert (stamp["decisions"], stamp["agreementRate"], stamp["fastDecisions"]) == (12, 1.0, 12)
    assert stamp["medianDwellMs"] is not None and stamp["medianDwellMs"] < MIN_DWELL_MS
    assert stamp["auditAccuracy"] is None
    assert "12 approvals in a row" in stamp["fatigueWarning"]
    assert (care["decisions"], care["agreementRate"], care["fastDecisions"]) == (10, 0.5, 0)
    assert care["medianDwellMs"] == 7500  # 3000 ... 12000: the mean of 7000 and 8000
    assert care["auditAccuracy"] == 0.5
    assert care["fatigueWarning"] is None
    assert (sen["decisions"], sen["agreementRate"], sen["medianDwellMs"]) == (2, 1.0, None)
    assert sen["fatigueWarning"] is None
    if _same_day(history):
        assert [stamp["decisionsToday"], care["decisionsToday"], sen["decisionsToday"]] == [
            12,
            8,
            2,
        ]


async def test_longer_windows_reach_older_decisions_and_quarters_are_weekly(gql, database):
    history = await build_history(gql, database)
    admin = history.tokens["admin"]
    month = (await gql(DIVERGENCE, {"wf": history.key, "window": "MONTH"}, token=admin))[
        "divergence"
    ]
    # + sn1 (approve A) and sn2 (override A -> C), 10.5 days ago.
    assert (month["decisions"], month["automatedDecisions"]) == (26, 2)
    assert month["agreementRate"] == pytest.approx(20 / 26)
    assert month["overrideRate"] == pytest.approx(5 / 26)
    by_action = {a["proposedAction"]: a for a in month["byAction"]}
    assert (by_action["A"]["decisions"], by_action["A"]["overrides"]) == (22, 4)
    assert by_action["A"]["topReplacement"] == "B"  # B twice, C twice: a tie, B first
    assert len(month["series"]) == 30
    counts = [p["decisions"] for p in month["series"]]
    assert (counts[19], counts[27], counts[29], sum(counts)) == (2, 2, 22, 26)
    assert month["byTier"][1] == {
        "tier": "SENIOR_REVIEW",
        "decisions": 3,
        "agreementRate": pytest.approx(2 / 3),
    }

    quarter = (await gql(DIVERGENCE, {"wf": history.key, "window": "QUARTER"}, token=admin))[
        "divergence"
    ]
    # + sn3 (reject C), 40 days ago.
    assert quarter["decisions"] == 27
    assert quarter["rejectRate"] == pytest.approx(2 / 27)
    series = quarter["series"]
    assert len(series) == 13
    starts = [datetime.fromisoformat(p["start"]) for p in series]
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(starts))
    # 91 days back: 40 days ago is week 7 (day 51), 10.5 days ago week 11 (day 80.5).
    expected = [0] * 13
    expected[7], expected[11], expected[12] = 1, 2, 24
    assert [p["decisions"] for p in series] == expected
    assert (series[7]["agreementRate"], series[7]["overrideRate"]) == (0.0, 0.0)
    assert series[11]["overrideRate"] == 0.5

    # reviewerStats: the last 30 days, busiest first.
    stats = (await gql(REVIEWER_STATS, {"wf": history.key}, token=admin))["reviewerStats"]
    assert [s["reviewer"]["name"] for s in stats] == ["stamp", "care", "sen"]
    sen = _by_name(stats)["sen"]
    assert (sen["decisions"], sen["agreementRate"], sen["auditAccuracy"]) == (4, 0.75, None)
    assert _by_name(stats)["stamp"]["fatigueWarning"] is not None
    assert _by_name(stats)["care"]["fatigueWarning"] is None
    if _same_day(history):
        assert sen["decisionsToday"] == 2


async def test_an_analyst_sees_its_tiers_and_its_own_row_and_a_service_sees_nothing(gql, database):
    history = await build_history(gql, database)
    stamp = history.tokens["stamp"]
    report = (await gql(DIVERGENCE, {"wf": history.key, "window": "WEEK"}, token=stamp))[
        "divergence"
    ]
    # Without sn4 (SENIOR_REVIEW) and the ladder's BELOW_FLOOR rejections.
    assert (report["decisions"], report["automatedDecisions"]) == (23, 0)
    assert [t["tier"] for t in report["byTier"]] == ["ANALYST_REVIEW"]
    assert [r["reviewer"]["name"] for r in report["byReviewer"]] == ["stamp"]
    assert sum(p["decisions"] for p in report["series"]) == 23
    stats = await gql(REVIEWER_STATS, {"wf": history.key}, token=history.tokens["care"])
    assert [s["reviewer"]["name"] for s in stats["reviewerStats"]] == ["care"]

    service = history.tokens["service"]
    for query, variables in (
        (DIVERGENCE, {"wf": history.key, "window": "WEEK"}),
        (REVIEWER_STATS, {"wf": history.key}),
        (SIMULATE, {"wf": history.key, "input": {}}),
    ):
        body = (await gql.post(query, variables, service)).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = (await gql.post(SIMULATE, {"wf": history.key, "input": {}}, stamp)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = (await gql.post(DIVERGENCE, {"wf": "nope", "window": "WEEK"}, stamp)).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_simulate_policy_replays_human_decided_items_under_new_thresholds(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    senior = await create_user(services, "senior")
    policy = {"auditSampleRate": 1.0, "highStakesAt": 100.0, "belowFloor": "REQUEST_MORE_DATA"}
    key = (await create_workflow(gql, admin, policy=policy))["key"]
    # (confidence, stakes, how a person decided). Under the current ladder every item
    # went to a person: 0.95 and 0.92 as audit samples, 0.91 for its high stakes, 0.30
    # after the ladder asked for data.
    plan = [
        (0.95, None, APPROVE),
        (0.92, None, REJECT),
        (0.91, 500.0, APPROVE),
        (0.85, None, APPROVE),
        (0.80, None, OVERRIDE),
        (0.75, None, APPROVE),
        (0.65, None, APPROVE),
        (0.60, None, REJECT),
        (0.30, None, APPROVE),
        (0.52, None, APPROVE),
        (0.99, None, APPROVE),  # decided 40 days ago
    ]
    items = [proposal(c, "A", stakes=s) for c, s, _ in plan]
    result = await submit(gql, model, key, *items)
    assert result["__typename"] == "SubmitSuccess", result
    recs = result["recommendations"]
    assert [r["tier"] for r in recs][:3] == ["ANALYST_REVIEW"] * 3
    for rec, (_, _, mutation) in zip(recs, plan, strict=True):
        variables = {"a": "B"} if mutation is OVERRIDE else {}
        decision = await _decide(gql, admin, mutation, rec["id"], **variables)
    await _update(database, decision, created_at=utcnow() - timedelta(days=40))

    proposed = {"autoApproveAt": 0.8, "analystAt": 0.6, "seniorAt": 0.5, "auditSampleRate": 0}
    sim = (await gql(SIMULATE, {"wf": key, "input": proposed}, token=senior))["simulatePolicy"]
    # auto: 0.95 ok, 0.92 rejected, 0.85 ok, 0.80 overridden (>= 0.8); 0.91 is high stakes.
    # analyst: 0.91, 0.75, 0.65, 0.60; senior: 0.52; below the floor: 0.30.
    assert sim == {
        "decisionsReplayed": 10,
        "autoApproveShare": pytest.approx(0.4),
        "analystShare": pytest.approx(0.4),
        "seniorShare": pytest.approx(0.1),
        "belowFloorShare": pytest.approx(0.1),
        "estimatedAutoErrorRate": pytest.approx(0.5),
        "estimatedReviewsPerDay": pytest.approx(5 / 30),
    }

    sampled = {**proposed, "auditSampleRate": 0.5}
    sim = (await gql(SIMULATE, {"wf": key, "input": sampled, "window": "WEEK"}, token=admin))[
        "simulatePolicy"
    ]
    assert (sim["autoApproveShare"], sim["analystShare"]) == (
        pytest.approx(0.2),
        pytest.approx(0.6),
    )
    assert sim["estimatedReviewsPerDay"] == pytest.approx(7 / 7)

    # The current policy: every would-be auto-approval is an audit sample.
    sim = (await gql(SIMULATE, {"wf": key, "input": {}}, token=admin))["simulatePolicy"]
    assert (sim["autoApproveShare"], sim["analystShare"]) == (0.0, pytest.approx(0.6))
    assert (sim["seniorShare"], sim["belowFloorShare"]) == (
        pytest.approx(0.3),
        pytest.approx(0.1),
    )
    assert sim["estimatedAutoErrorRate"] == pytest.approx(0.5)  # 0.95 ok, 0.92 rejected

    quarter = await gql(SIMULATE, {"wf": key, "input": {}, "window": "QUARTER"}, token=admin)
    assert quarter["simulatePolicy"]["decisionsReplayed"] == 11
    default = await gql(SIMULATE_MONTH, {"wf": key, "input": {}}, token=admin)
    assert default["simulatePolicy"] == {"decisionsReplayed": 10, "autoApproveShare": 0.0}


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"analystAt": 0.95}, "analystAt"),  # above autoApproveAt (0.90)
        ({"autoApproveAt": 1.5}, "autoApproveAt"),
        ({"minDwellMs": -1}, "minDwellMs"),
        ({"seniorAt": None}, "seniorAt"),
    ],
)
async def test_invalid_simulation_input_is_an_error_naming_the_field(
    gql, database, changes, field_name
):
    admin = await create_user(gql.services, "admin")
    key = (await create_workflow(gql, admin))["key"]
    body = (await gql.post(SIMULATE, {"wf": key, "input": changes}, admin)).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field_name}
    assert field_name in error["message"]

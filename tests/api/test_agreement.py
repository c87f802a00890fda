"""`agreement` through GraphQL on SQLite and PostgreSQL, its figures checked against the
reference implementations (the krippendorff package, scikit-learn's cohen_kappa_score)
on the same votes, cast by three simulated reviewers on a 3-of-3 workflow."""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from domain.agreement_report import REJECTED
from tests.api.test_consensus import APPROVE, OVERRIDE, REJECT, a_desk
from tests.factories import create_workflow, proposal, submit

AGREEMENT = """query($wf: String!) { agreement(workflow: $wf) {
  workflow { key } window items percentAgreement krippendorffAlpha
  pairs { first { name } second { name } items agreement cohenKappa }
  reviewers { reviewer { name } reviews agreementWithConsensus estimatedAccuracy } } }"""

STATS = """query($wf: String!) { reviewerStats(workflow: $wf) {
  reviewer { name } agreementWithConsensus estimatedAccuracy reliabilityWarning } }"""

# One call per item for each reviewer: A approves the proposal (action "A"), B overrides
# to "B", R rejects. Ana is careful, bob slips now and then, cal often goes his own way.
CALLS = {
    "ana": "AAAABAAAAAAB",
    "bob": "AAABBAAARAAB",
    "cal": "ARABBRAAABAA",
}
RULING = 1  # the disputed item the senior settles, by overriding to "B"
LABEL = {"A": "A", "B": "B", "R": REJECTED}


def _labels(name: str) -> list[str]:
    return [LABEL[c] for c in CALLS[name]]


def _consensus() -> dict[int, str]:
    """Item -> its outcome when it has one: the unanimous call, or the senior's ruling."""
    settled = {}
    for item, calls in enumerate(zip(*(_labels(n) for n in CALLS), strict=True)):
        if len(set(calls)) == 1:
            settled[item] = calls[0]
    settled[RULING] = "B"
    return settled


async def _vote(gql: Any, token: str, item_id: str, call: str) -> None:
    """Approve the proposal "A" (call "A"), reject (call "R"), or override to `call`."""
    if call == "A":
        answer = (await gql(APPROVE, {"id": item_id}, token=token))["approve"]
    elif call == "R":
        answer = (await gql(REJECT, {"id": item_id}, token=token))["reject"]
    else:
        answer = (await gql(OVERRIDE, {"id": item_id, "action": call}, token=token))["override"]
    assert answer["__typename"] == "DecisionSuccess", answer


async def _voted_desk(gql: Any) -> dict[str, Any]:
    desk = await a_desk(gql, reviewsRequired=3, agreementRequired=3)
    n = len(CALLS["ana"])
    submitted = await submit(
        gql, desk["model"], desk["key"], *(proposal(externalId=f"x{i}") for i in range(n))
    )
    assert submitted["__typename"] == "SubmitSuccess", submitted
    ids = [r["id"] for r in submitted["recommendations"]]
    tokens = dict(zip(CALLS, desk["reviewers"], strict=True))
    # Each reviewer votes in turn on every item; the three of them at once.
    await asyncio.gather(
        *(asyncio.create_task(_votes_of(gql, tokens[name], ids, CALLS[name])) for name in CALLS)
    )
    await _vote(gql, desk["senior"], ids[RULING], "B")
    return desk


async def _votes_of(gql: Any, token: str, ids: list[str], calls: str) -> None:
    for item_id, call in zip(ids, calls, strict=True):
        await _vote(gql, token, item_id, call)


def _codes() -> np.ndarray:
    """The votes as krippendorff's reliability data: one row per reviewer, codes per item."""
    code = {label: i for i, label in enumerate(sorted(set(LABEL.values())))}
    return np.array([[code[label] for label in _labels(name)] for name in CALLS], dtype=float)


async def test_agreement_matches_the_reference_implementations_on_the_same_votes(gql, database):
    desk = await _voted_desk(gql)
    report = (await gql(AGREEMENT, {"wf": desk["key"]}, token=desk["admin"]))["agreement"]

    _alpha_and_percent_agreement_match(report)
    _each_pair_gets_scikit_learns_kappa(report)
    _each_reviewer_is_compared_with_the_consensus_and_estimated(report)
    await _a_service_may_not_read_it_and_an_analyst_reads_its_own_row(gql, desk)
    await _reviewer_stats_carry_the_same_reliability(gql, desk, report)


def _alpha_and_percent_agreement_match(report: dict[str, Any]) -> None:
    expected_alpha = krippendorff.alpha(reliability_data=_codes(), level_of_measurement="nominal")
    per_item = [
        sum(a == b for a, b in itertools.combinations(calls, 2)) / 3
        for calls in zip(*(_labels(n) for n in CALLS), strict=True)
    ]

    assert report["items"] == len(CALLS["ana"])
    assert report["window"] == "MONTH"
    assert math.isclose(report["krippendorffAlpha"], expected_alpha, abs_tol=1e-9)
    assert math.isclose(report["percentAgreement"], sum(per_item) / len(per_item), abs_tol=1e-9)


def _each_pair_gets_scikit_learns_kappa(report: dict[str, Any]) -> None:
    pairs = {(p["first"]["name"], p["second"]["name"]): p for p in report["pairs"]}

    assert len(pairs) == 3
    for first, second in itertools.combinations(CALLS, 2):
        pair = pairs.get((first, second)) or pairs[second, first]
        mine, theirs = _labels(first), _labels(second)
        assert pair["items"] == len(mine)
        assert math.isclose(pair["agreement"], np.mean(np.array(mine) == np.array(theirs)))
        assert math.isclose(pair["cohenKappa"], cohen_kappa_score(mine, theirs), abs_tol=1e-9)


def _each_reviewer_is_compared_with_the_consensus_and_estimated(report: dict[str, Any]) -> None:
    rows = {r["reviewer"]["name"]: r for r in report["reviewers"]}
    settled = _consensus()

    assert set(rows) == set(CALLS)
    for name, row in rows.items():
        labels = _labels(name)
        matched = [labels[item] == label for item, label in settled.items()]
        assert row["reviews"] == len(labels)
        assert math.isclose(row["agreementWithConsensus"], sum(matched) / len(matched))
        assert 0.0 < row["estimatedAccuracy"] < 1.0
    assert rows["cal"]["estimatedAccuracy"] < rows["ana"]["estimatedAccuracy"]


async def _reviewer_stats_carry_the_same_reliability(
    gql: Any, desk: dict[str, Any], report: dict[str, Any]
) -> None:
    stats = (await gql(STATS, {"wf": desk["key"]}, token=desk["admin"]))["reviewerStats"]
    own = (await gql(STATS, {"wf": desk["key"]}, token=desk["reviewers"][2]))["reviewerStats"]
    expected = {
        r["reviewer"]["name"]: (r["agreementWithConsensus"], r["estimatedAccuracy"], None)
        for r in report["reviewers"]
    }

    rows = {
        r["reviewer"]["name"]: (
            r["agreementWithConsensus"],
            r["estimatedAccuracy"],
            r["reliabilityWarning"],  # 12 votes each: too few to warn about anyone
        )
        for r in stats
    }
    assert {name: rows[name] for name in CALLS} == expected
    assert rows["sam"] == (None, None, None)  # the senior ruled; he did not vote
    assert [(r["reviewer"]["name"], r["estimatedAccuracy"]) for r in own] == [
        ("cal", expected["cal"][1])
    ]


async def test_a_workflow_reviewed_once_per_item_reports_no_items_and_no_figures(gql, database):
    desk = await a_desk(gql)
    once = await create_workflow(gql, desk["admin"])
    submitted = await submit(gql, desk["model"], once["key"], proposal())
    await _vote(gql, desk["reviewers"][0], submitted["recommendations"][0]["id"], "A")

    report = (await gql(AGREEMENT, {"wf": once["key"]}, token=desk["admin"]))["agreement"]

    assert report["items"] == 0
    assert report["percentAgreement"] is None and report["krippendorffAlpha"] is None
    assert report["pairs"] == [] and report["reviewers"] == []


async def _a_service_may_not_read_it_and_an_analyst_reads_its_own_row(
    gql: Any, desk: dict[str, Any]
) -> None:
    refused = (await gql.post(AGREEMENT, {"wf": desk["key"]}, desk["model"])).json()
    own = (await gql(AGREEMENT, {"wf": desk["key"]}, token=desk["reviewers"][1]))["agreement"]

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    assert [r["reviewer"]["name"] for r in own["reviewers"]] == ["bob"]
    assert all("bob" in (p["first"]["name"], p["second"]["name"]) for p in own["pairs"])
    assert own["items"] == len(CALLS["bob"])

"""overrideThemes through GraphQL: overrides with reasons, mined by the job, read back with
their ranked suggestions (suggestedFeatures) and a label that reads as a phrase."""

from __future__ import annotations

from typing import Any

from tests.conftest import settle
from tests.factories import create_user, create_workflow, submit

DECIDED = """
  __typename
  ... on DecisionSuccess { decision { id } }
  ... on Problem { message }
"""
CLAIM = "mutation($id: ID!) { claim(id: $id) { __typename ... on Problem { message } } }"
OVERRIDE = f"""mutation($id: ID!, $reason: String!) {{
  override(id: $id, action: "decline", reason: $reason) {{ {DECIDED} }}
}}"""
APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {DECIDED} }} }}"
MINE = """mutation($wf: String!) { mineOverrideThemes(workflow: $wf) {
  __typename ... on JobSuccess { job { id } } ... on Problem { message } } }"""
THEMES = """query($wf: String!) { overrideThemes(workflow: $wf) {
  overridesAnalysed
  themes { label conditions suggestedFeature
           suggestedFeatures { field score evidence usedByModel } } } }"""
YOUNG = ("too young", "founded {age} years ago", "under two years old", "company is too young")
NOISE = ("duplicate application", "customer withdrew", "fraud team hold", "wrong product")


def _payload(k: int, young: bool) -> dict[str, Any]:
    age = 0.5 + (k % 5) * 0.3 if young else 4.0 + (k * 7) % 15
    industries = ("retail", "software", "construction", "healthcare")
    return {
        "industry": "healthcare" if young else industries[k % 4],
        "company_age_years": round(age, 1),
        "employees": 3 + (k * 11) % 40,
    }


async def _decide(gql, token: str, item: str, reason: str | None) -> None:
    claimed = (await gql(CLAIM, {"id": item}, token=token))["claim"]
    assert claimed["__typename"] == "ClaimSuccess", claimed
    if reason is None:
        result = (await gql(APPROVE, {"id": item}, token=token))["approve"]
    else:
        result = (await gql(OVERRIDE, {"id": item, "reason": reason}, token=token))["override"]
    assert result["__typename"] == "DecisionSuccess", result


async def test_themes_are_served_with_ranked_suggestions_and_a_phrase_label(gql, database):
    services = gql.services
    admin = await create_user(services, "admin")
    model = await create_user(services, "service")
    expert = await create_user(services, "senior")
    workflow = await create_workflow(gql, admin, actions=["approve", "decline"])
    young = [(k, True) for k in range(16)]
    rest = [(k, False) for k in range(40)]
    items = [
        {"payload": _payload(k, y), "proposedAction": "approve", "confidence": 0.8}
        for k, y in young + rest
    ]
    created = await submit(gql, model, workflow["key"], *items)
    assert created["__typename"] == "SubmitSuccess", created
    ids = [r["id"] for r in created["recommendations"]]
    for n, (item, (k, is_young)) in enumerate(zip(ids, young + rest, strict=True)):
        if is_young:
            age = items[n]["payload"]["company_age_years"]
            reason: str | None = YOUNG[k % len(YOUNG)].format(age=age)
        else:
            reason = NOISE[k % len(NOISE)] if k < 8 else None
        await _decide(gql, expert, item, reason)

    mined = (await gql(MINE, {"wf": workflow["key"]}, token=admin))["mineOverrideThemes"]
    assert mined["__typename"] == "JobSuccess", mined
    await settle(services)
    report = (await gql(THEMES, {"wf": workflow["key"]}, token=admin))["overrideThemes"]
    assert report["overridesAnalysed"] == 24
    top = report["themes"][0]
    assert "company_age_years < 2" in top["conditions"], top
    ranked = top["suggestedFeatures"]
    assert ranked[0]["field"] == "company_age_years"
    assert "company_age_years < 2 holds for 100% of the theme" in ranked[0]["evidence"]
    assert [s["score"] for s in ranked] == sorted((s["score"] for s in ranked), reverse=True)
    assert all(0.0 <= s["score"] <= 1.0 and s["usedByModel"] is False for s in ranked)
    assert top["suggestedFeature"] == "company_age_years"  # no model: the first ranked
    assert "," not in top["label"] and "healthcare" in top["label"]

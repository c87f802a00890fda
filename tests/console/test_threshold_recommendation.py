"""The ladder editor's recommended threshold: the admin asks for at most 5% wrong
auto-approvals at 95% confidence, reads the guarantee beside the simulation, applies it
(the slider moves, the simulation runs, the note cites the guarantee) and saves it as a new
policy version whose note says so."""

from __future__ import annotations

import re
from typing import Any

from tests.console import world
from tests.console.conftest import ConsoleServer, OpenConsole, expect
from tests.console.world import Api

# Everything reviewed (nothing is auto-approved at 1.0), so every item is a human label.
POLICY = {"autoApproveAt": 1.0, "analystAt": 0.5, "seniorAt": 0.3}
RECOMMEND = """query($w: String!, $e: Float!, $c: Float!) {
  recommendThreshold(workflow: $w, maxAutoApproveError: $e, confidenceLevel: $c, window: MONTH) {
    autoApproveAt errorUpperBound evidence expectedAutoApproveShare message } }"""
SIMULATE = """query($w: String!, $input: EscalationPolicyInput!) {
  simulatePolicy(workflow: $w, input: $input, window: MONTH) { autoApproveShare } }"""
CURRENT_POLICY = """query($w: String!) { workflow(key: $w) { policy {
  version autoApproveAt analystAt seniorAt note } } }"""


def labelled_workflow(api: Api, policy: dict[str, float] = POLICY) -> str:
    """Model m1's proposals, all decided by people: 300 at 0.93 of which 3 overridden (1%
    wrong), 60 at 0.75 of which 20 overridden. At most 5% wrong at 95% confidence holds
    from 0.93 up (bound 2.6% from 300 labels), not at 0.75."""
    workflow = world.create_workflow(api, world.unique("Guaranteed loans", " "), policy=policy)

    def proposals(prefix: str, n: int, confidence: float) -> list[dict[str, Any]]:
        return [
            {
                "externalId": f"{prefix}-{i}",
                "payload": {"amount": 100 * i},
                "proposedAction": "approve_loan",
                "confidence": confidence,
                "modelVersion": "m1",
            }
            for i in range(n)
        ]

    sure = world.create_items(api, workflow, proposals("sure", 300, 0.93))
    unsure = world.create_items(api, workflow, proposals("unsure", 60, 0.75))
    wrong = sure[:3] + unsure[:20]
    world.override_all(api, [(i["id"], "decline_loan", "wrong") for i in wrong])
    world.approve_all(api, [i["id"] for i in sure[3:] + unsure[20:]])
    return workflow


def pct(share: float) -> str:
    """As the console writes a share: at most one decimal."""
    rounded = round(share * 1000) / 10
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


def test_the_admin_applies_the_recommended_threshold_and_saves_it_with_its_guarantee(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = labelled_workflow(admin_api)
    expected = admin_api(RECOMMEND, {"w": workflow, "e": 0.05, "c": 0.95})["recommendThreshold"]
    assert expected["autoApproveAt"] == 0.93, expected
    bound, evidence = expected["errorUpperBound"], expected["evidence"]
    share = expected["expectedAutoApproveShare"]
    guarantee = (
        f"with 95% confidence, at most 5% of auto-approvals are wrong; bound {pct(bound)} "
        f"from {evidence} labels; {pct(share)} of items would be auto-approved"
    )

    screen = console(console_server.url, console_server.admin, path=f"/console/#/admin/{workflow}")
    ladder = screen.page.get_by_role("region", name="Escalation ladder")
    panel = ladder.get_by_role("region", name="Recommended threshold")
    expect(panel.get_by_label("Maximum auto-approve error (%)")).to_have_value("5")
    expect(panel.get_by_label("Confidence level (%)")).to_have_value("95")
    expect(panel).to_contain_text(f"Auto-approve at 0.93: {guarantee} (last month).")
    slider = ladder.get_by_role("slider", name="Auto-approve at")
    expect(slider).to_have_value("1")
    screen.look("admin-ladder-recommendation", region=ladder)

    # By keyboard: from the confidence level, Tab reaches Apply.
    panel.get_by_label("Confidence level (%)").focus()
    screen.press("Tab")
    apply = panel.get_by_role("button", name="Apply recommended threshold")
    expect(apply).to_be_focused()
    screen.press("Enter")

    expect(slider).to_have_value("0.93")
    note = ladder.get_by_label("Note")
    expect(note).to_have_value(
        re.compile(
            r"^Auto-approve at 0\.93 as recommended by Learn-then-Test: with 95% confidence "
            rf"at most 5% of auto-approvals are wrong \(error bound {re.escape(pct(bound))} "
            rf"from {evidence} labels of people's decisions in the last month\)\.$"
        )
    )
    simulated = admin_api(SIMULATE, {"w": workflow, "input": {"autoApproveAt": 0.93}})
    proposed = ladder.get_by_role("row", name=re.compile("Auto-approved share"))
    expect(proposed.get_by_role("cell").last).to_have_text(
        f"{100 * simulated['simulatePolicy']['autoApproveShare']:.1f}%"
    )
    policy = admin_api(CURRENT_POLICY, {"w": workflow})["workflow"]["policy"]
    assert (policy["version"], policy["autoApproveAt"]) == (1, 1.0), "nothing saved by Apply"

    ladder.get_by_role("button", name="Save policy").click()

    expect(ladder).to_contain_text("Saved as version 2")
    policy = admin_api(CURRENT_POLICY, {"w": workflow})["workflow"]["policy"]
    assert (policy["version"], policy["autoApproveAt"]) == (2, 0.93)
    assert (policy["analystAt"], policy["seniorAt"]) == (0.5, 0.3)
    assert "Learn-then-Test" in policy["note"]
    assert "with 95% confidence at most 5% of auto-approvals are wrong" in policy["note"]
    assert f"error bound {pct(bound)} from {evidence} labels" in policy["note"]


def test_a_target_without_a_guarantee_says_why_and_bad_input_is_refused(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = labelled_workflow(admin_api)
    expected = admin_api(RECOMMEND, {"w": workflow, "e": 0.001, "c": 0.99})["recommendThreshold"]
    assert expected["autoApproveAt"] is None

    screen = console(console_server.url, console_server.admin, path=f"/console/#/admin/{workflow}")
    panel = screen.page.get_by_role("region", name="Recommended threshold")
    expect(panel).to_contain_text("Auto-approve at 0.93")
    panel.get_by_label("Maximum auto-approve error (%)").fill("0.1")
    panel.get_by_label("Confidence level (%)").fill("99")
    expect(panel).to_contain_text(expected["message"])
    apply = panel.get_by_role("button", name="Apply recommended threshold")
    expect(apply).to_be_disabled()

    panel.get_by_label("Confidence level (%)").fill("40")
    expect(panel.get_by_role("alert")).to_have_text(
        "Invalid input: The confidence level must be a percentage above 50% and below 100%."
    )
    expect(panel.get_by_label("Confidence level (%)")).to_have_attribute("aria-invalid", "true")
    expect(apply).to_be_disabled()
    screen.check_accessibility("admin-ladder-recommendation-refused")


def test_a_recommendation_below_the_analyst_threshold_is_announced_and_lowers_it_when_applied(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = labelled_workflow(
        admin_api, {"autoApproveAt": 1.0, "analystAt": 0.95, "seniorAt": 0.3}
    )
    screen = console(console_server.url, console_server.admin, path=f"/console/#/admin/{workflow}")
    ladder = screen.page.get_by_role("region", name="Escalation ladder")
    panel = ladder.get_by_role("region", name="Recommended threshold")
    expect(panel).to_contain_text("Auto-approve at 0.93")
    warning = (
        "0.93 is below the analyst threshold (0.95): applying it lowers it to 0.93 (the server "
        "refuses a lower tier above a higher one); check the simulation before saving."
    )
    expect(panel).to_contain_text(warning)
    apply = panel.get_by_role("button", name="Apply recommended threshold")
    expect(apply).to_have_accessible_description(warning)

    apply.click()

    expect(ladder.get_by_role("slider", name="Auto-approve at")).to_have_value("0.93")
    expect(ladder.get_by_role("slider", name=re.compile("^Analyst"))).to_have_value("0.93")
    ladder.get_by_role("button", name="Save policy").click()
    expect(ladder).to_contain_text("Saved as version 2")
    policy = admin_api(CURRENT_POLICY, {"w": workflow})["workflow"]["policy"]
    assert (policy["autoApproveAt"], policy["analystAt"], policy["seniorAt"]) == (0.93, 0.93, 0.3)

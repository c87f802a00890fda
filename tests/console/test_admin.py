"""The admin's screens: moving a threshold shows the simulation before anything is saved."""

from __future__ import annotations

import re

from tests.console.conftest import ConsoleServer, OpenConsole, expect
from tests.console.world import (
    Api,
    approve_all,
    create_items,
    create_workflow,
    override_all,
    unique,
)

SECTIONS = ("Escalation ladder", "Learning", "Themes", "Divergence", "Webhooks", "Users")
POLICY = {"autoApproveAt": 0.95, "analystAt": 0.7, "seniorAt": 0.5}
SIMULATE = """query($w: String!, $input: EscalationPolicyInput!) {
  simulatePolicy(workflow: $w, input: $input, window: MONTH) {
    decisionsReplayed autoApproveShare analystShare estimatedAutoErrorRate } }"""
CURRENT_POLICY = """query($w: String!) { workflow(key: $w) { policy {
  version autoApproveAt analystAt seniorAt note changedBy { name } } } }"""


def decided_workflow(api: Api) -> str:
    """A workflow whose reviewers decided 40 items across the confidence scale, overriding
    one in four."""
    name = unique("Loan applications", " ")
    workflow = create_workflow(api, name, policy=POLICY)
    items = create_items(
        api,
        workflow,
        [
            {
                "externalId": f"past-{n}",
                "payload": {"amount": 100 * n},
                "proposedAction": "approve_loan",
                "confidence": round(0.5 + n * 0.011, 3),
            }
            for n in range(40)
        ],
    )
    override_all(api, [(i["id"], "decline_loan", "wrong") for i in items[3::4]])
    approve_all(api, [i["id"] for n, i in enumerate(items) if n % 4 != 3])
    return workflow


def test_the_admin_moves_a_threshold_and_sees_the_simulation_before_saving(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = decided_workflow(admin_api)
    screen = console(console_server.url, console_server.admin)
    page = screen.page
    admin_link = page.get_by_role("link", name="Admin").or_(
        page.get_by_role("button", name="Admin", exact=True)
    )
    admin_link.first.click()
    page.get_by_label("Workflow").select_option(workflow)
    ladder = page.get_by_role("region", name="Escalation ladder")
    expect(ladder).to_be_visible()
    slider = ladder.get_by_role("slider", name="Auto-approve at")
    expect(slider).to_have_value("0.95")

    slider.focus()
    screen.press(*["ArrowLeft"] * 10)

    expect(slider).to_have_value("0.85")
    expected = admin_api(SIMULATE, {"w": workflow, "input": {"autoApproveAt": 0.85}})[
        "simulatePolicy"
    ]
    assert expected["autoApproveShare"] > 0 and expected["estimatedAutoErrorRate"] > 0
    for row, share in (
        ("Auto-approved share", expected["autoApproveShare"]),
        ("Analyst review share", expected["analystShare"]),
        ("Estimated auto-approval error", expected["estimatedAutoErrorRate"]),
    ):
        proposed = ladder.get_by_role("row", name=re.compile(row)).get_by_role("cell").last
        expect(proposed).to_have_text(re.compile(rf"^{100 * share:.1f}\s*%$"))
    screen.look("admin-ladder-simulation", region=ladder)
    policy = admin_api(CURRENT_POLICY, {"w": workflow})["workflow"]["policy"]
    assert (policy["version"], policy["autoApproveAt"]) == (1, 0.95)

    ladder.get_by_label("Note").fill("fewer reviews: the model is right above 0.85")
    ladder.get_by_role("button", name="Save policy").click()

    expect(ladder).to_contain_text("version 2")
    policy = admin_api(CURRENT_POLICY, {"w": workflow})["workflow"]["policy"]
    assert policy["version"] == 2
    assert (policy["autoApproveAt"], policy["analystAt"], policy["seniorAt"]) == (0.85, 0.7, 0.5)
    assert policy["note"] == "fewer reviews: the model is right above 0.85"
    assert policy["changedBy"]["name"] == "ada"


def test_every_admin_screen_is_accessible_and_pictured(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = decided_workflow(admin_api)
    screen = console(console_server.url, console_server.admin)
    page = screen.page
    page.get_by_role("link", name="Admin").or_(
        page.get_by_role("button", name="Admin", exact=True)
    ).first.click()
    page.get_by_label("Workflow").select_option(workflow)

    for section in SECTIONS:
        expect(page.get_by_role("region", name=section)).to_be_visible()
    screen.check_accessibility("admin")
    for section in SECTIONS:
        slug = section.lower().replace(" ", "-")
        screen.screenshot(f"admin-{slug}", region=page.get_by_role("region", name=section))

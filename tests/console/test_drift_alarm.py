"""A drift alarm on the Learning screen, produced for real: a classifier retrained and
promoted through the API proposes, people agree with its proposals and then mostly
override them while the admin watches, the server's SLA sweep (every second here) runs
the drift monitor, and the DRIFT model event it announces on modelEvents appears as an
alert with its message and time; the loop by month, read again, counts it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients_live.conftest import arbiter_serve, create_token, migrated_sqlite
from tests.console import world
from tests.console.conftest import ConsoleServer, OpenConsole, check_console_is_served, expect

NONE = "\N{EN DASH}"  # how the console prints a figure there is none of
WINDOW = 20  # decisions per drift window: the smallest the settings allow
RETRAIN = """mutation($w: String!) { startRetraining(workflow: $w) {
  __typename ... on JobSuccess { job { id } } ... on Problem { message } } }"""
ACTIVE = "query($w: String!) { workflow(key: $w) { activeModel { version status } } }"
DRIFT = re.compile(
    r"^Drift in v1: (agreement|calibration) on ANALYST_REVIEW .+ since \d+ \w+.* "
    r"\(p [<=] [0-9.e-]+\) \(heard \d+ \w+ \d{4}, \d\d:\d\d UTC\)$"
)


@pytest.fixture(scope="module")
def drift_server(
    console_build: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """`arbiter serve` sweeping every second with drift windows of 20 decisions."""
    directory: Path = tmp_path_factory.mktemp("console-drift")
    database_url = migrated_sqlite(directory)
    admin = create_token(database_url, "ada", "admin")
    settings = {**console_build, "drift_window": WINDOW, "sla_sweep_seconds": 1}
    with arbiter_serve(database_url, directory, **settings) as server:
        check_console_is_served(server.url)
        yield ConsoleServer(server, admin, directory)


def served_classifier(api: world.Api) -> str:
    """A workflow whose classifier v1, retrained on 200 corrected proposals (people decline
    large amounts the upstream model approved), is ACTIVE."""
    workflow = world.create_workflow(api, world.unique("Drifting loans", " "))
    items = world.create_items(
        api,
        workflow,
        [
            {
                "externalId": f"past-{n}",
                "payload": {"amount": 50 * n},
                "proposedAction": "approve_loan",
                "confidence": 0.8,
            }
            for n in range(200)
        ],
    )
    world.override_all(api, [(i["id"], "decline_loan", "too large") for i in items[100:]])
    world.approve_all(api, [i["id"] for i in items[:100]])
    job = api(RETRAIN, {"w": workflow})["startRetraining"]
    finished = world.wait_for_job(api, job["job"]["id"])
    active = api(ACTIVE, {"w": workflow})["workflow"]["activeModel"]
    assert active == {"version": 1, "status": "ACTIVE"}, finished
    return workflow


def decide_its_proposals(api: world.Api, workflow: str, agreements: list[bool]) -> None:
    """Model v1's proposals (analyst tier), approved (agreed) or overridden, in order."""
    proposals: list[dict[str, Any]] = [
        {
            "externalId": f"served-{n}",
            "payload": {"amount": 1000 + n},
            "proposedAction": "approve_loan",
            "confidence": 0.8,
            "modelVersion": "v1",
        }
        for n in range(len(agreements))
    ]
    items = world.create_items(api, workflow, proposals)
    assert {i["tier"] for i in items} == {"ANALYST_REVIEW"}
    for item, agreed in zip(items, agreements, strict=True):
        if agreed:
            world.approve_all(api, [item["id"]])
        else:
            world.override_all(api, [(item["id"], "decline_loan", "new rule")])


def test_a_drift_alarm_appears_on_the_learning_screen(
    console: OpenConsole, drift_server: ConsoleServer
) -> None:
    api = drift_server.api()
    workflow = served_classifier(api)
    screen = console(drift_server.url, drift_server.admin, path=f"/console/#/admin/{workflow}")
    learning = screen.page.get_by_role("region", name="Learning")
    expect(learning.get_by_role("cell", name="Active ★")).to_be_visible()
    for _ in range(100):  # the modelEvents subscription is on its way (not replayed)
        if any(v.get("workflow") == workflow for v in screen.subscriptions.values()):
            break
        screen.page.wait_for_timeout(50)
    else:
        pytest.fail("the Learning screen never subscribed to modelEvents")
    screen.page.wait_for_timeout(500)  # the server registers it
    alert = learning.get_by_role("alert")
    expect(alert).to_have_text("")

    decide_its_proposals(api, workflow, [True] * (WINDOW + 4) + [False] * (WINDOW - 4))

    expect(alert).to_have_text(DRIFT, timeout=30_000)
    screen.page.wait_for_timeout(2500)  # two more sweeps: the episode is announced once
    expect(learning.get_by_role("heading", name="Earlier drift alarms")).to_have_count(0)
    expect(alert).to_have_text(DRIFT)
    screen.look("admin-drift-alarm", region=learning)

    # The loop by month: this month's row, read again when the alarm was heard.
    months = learning.get_by_role("table", name=re.compile("^The last 6 months"))
    rows = months.get_by_role("row")
    expect(rows).to_have_count(7)  # the header and six months
    this_month = rows.last
    expect(this_month.get_by_role("cell")).to_have_text(
        ["240", "240", "51.7%", "0 (0.0%)", "no audit samples", "none given, v1", "v1", "1"]
    )
    expect(rows.nth(1).get_by_role("cell")).to_have_text(
        ["0", "0", NONE, f"0 ({NONE})", "no audit samples", NONE, NONE, "0"]
    )
    chart = learning.get_by_role("img", name=re.compile("^People's agreement"))
    expect(chart).to_have_attribute("aria-label", re.compile("Agreement \\(people\\) latest 51.7%"))
    screen.look("admin-learning-by-month", region=learning)

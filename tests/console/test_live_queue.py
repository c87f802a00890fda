"""The queue is live: changes made elsewhere show within a second, two reviewers never
decide one item twice, and a server that died and came back is picked up again without
reloading the page."""

from __future__ import annotations

import re

from tests.console.conftest import ConsoleServer, OpenConsole, Restartable, expect
from tests.console.test_review_by_keyboard import start_review
from tests.console.world import (
    Api,
    approve_all,
    create_items,
    create_queue,
    create_user,
    create_workflow,
    decision_log,
    item,
    unique,
)

WITHIN_A_SECOND = 1500  # ms: a second, plus Playwright's polling
CONNECTION_LOST = "Connection lost — reconnecting…"
RECONNECTED_WITHIN = 20_000  # ms: graphql-ws retries at most 4 s apart


def test_an_item_decided_or_claimed_elsewhere_changes_in_an_open_queue_within_a_second(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    review = start_review(console, console_server, admin_api, ["q-1", "q-2", "q-3", "q-4"])
    screen = review.screen
    for external_id in ("q-2", "q-3", "q-4"):
        expect(screen.queue_row(external_id)).to_have_count(1)
    screen.until_live(review.workflow, lambda: create_queue(admin_api, review.workflow, ["q-5"]))
    other = unique("otto")
    other_api = admin_api.as_user(create_user(admin_api, other, "ANALYST"))

    approve_all(admin_api, [review.items[2]["id"]])
    other_api("mutation($id: ID!) { claim(id: $id) { __typename } }", {"id": review.items[3]["id"]})

    expect(screen.queue_row("q-3")).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(screen.queue_row("q-4")).to_contain_text(other, timeout=WITHIN_A_SECOND)
    expect(screen.queue_row("q-2")).to_have_count(1)
    screen.wait_for_item("q-1")


def test_the_workflow_list_counts_items_per_tier_live(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("Loan applications", " ")
    workflow = create_workflow(admin_api, name)
    create_queue(admin_api, workflow, ["w-1"])
    screen = console(console_server.url, create_user(admin_api, unique("rita"), "SENIOR"))
    page = screen.page
    expect(page.get_by_role("columnheader", name="Analyst review")).to_be_visible()
    headers = page.get_by_role("columnheader").all_inner_texts()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
    analyst = row.locator("th, td").nth(headers.index("Analyst review"))
    senior = row.locator("th, td").nth(headers.index("Senior review"))
    expect(analyst).to_have_text("1")
    pokes = screen.until_live(workflow, lambda: create_queue(admin_api, workflow, [unique("poke")]))
    expect(analyst).to_have_text(str(1 + pokes))
    expect(senior).to_have_text("0")

    create_queue(admin_api, workflow, ["w-2", "w-3"])
    create_queue(admin_api, workflow, ["w-4"], confidence=0.6)

    expect(analyst).to_have_text(str(3 + pokes), timeout=WITHIN_A_SECOND)
    expect(senior).to_have_text("1", timeout=WITHIN_A_SECOND)


def test_two_reviewers_on_one_item_the_second_is_told_and_nothing_is_decided_twice(
    console: OpenConsole, postgres_console_server: ConsoleServer
) -> None:
    server = postgres_console_server
    admin_api = server.api()
    workflow = create_workflow(admin_api, unique("Loan applications", " "))
    items = create_queue(admin_api, workflow, ["x-1", "x-2"])
    names = [unique("alice"), unique("bob")]
    tokens = [create_user(admin_api, name, "ANALYST") for name in names]
    # Both open the queue at once: each claims the most urgent item nobody holds.
    pages = [console(server.url, token, path=None) for token in tokens]
    for page in pages:
        page.page.goto(f"{server.url}/console/#/review/{workflow}", wait_until="commit")
    for page in pages:
        expect(page.item).to_contain_text(re.compile("x-1|x-2"))
    holders = {
        e: item(admin_api, i["id"])["claim"]["reviewer"]["name"]
        for e, i in zip(("x-1", "x-2"), items, strict=True)
    }
    assert sorted(holders.values()) == sorted(names)
    first = names.index(holders["x-1"])
    a, b = pages[first], pages[1 - first]
    alice = names[first]
    a.wait_for_item("x-1")
    b.wait_for_item("x-2")

    b.queue_row("x-1").click()
    b.wait_for_item("x-1")
    expect(b.item).to_contain_text(f"Claimed by {alice}")
    b.press("a")
    a.press("a")

    told = b.page.get_by_role("status").filter(has_text=alice).filter(has_text="x-1")
    expect(told).to_be_visible(timeout=WITHIN_A_SECOND)
    b.look("told-decided-elsewhere")
    expect(b.queue_row("x-1")).to_have_count(0, timeout=WITHIN_A_SECOND)
    log = decision_log(admin_api, workflow)
    assert [(d["verdict"], d["actor"]["name"], d["recommendation"]["externalId"]) for d in log] == [
        ("APPROVE", alice, "x-1")
    ]


def test_the_console_recovers_by_itself_when_the_server_is_killed_and_started_again(
    console: OpenConsole, restartable_server: tuple[Restartable, str]
) -> None:
    server, admin = restartable_server
    admin_api = Api(server.url, admin)
    name = unique("Loan applications", " ")
    workflow = create_workflow(admin_api, name)
    items = create_queue(admin_api, workflow, ["r-1", "r-2", "r-3"])
    reviewer = unique("ann")
    screen = console(server.url, create_user(admin_api, reviewer, "ANALYST"))
    screen.excuse(r"ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE", "killed")
    screen.excuse(r"WebSocket connection to .* failed", "the server was killed on purpose")
    screen.open_workflow(name)
    screen.wait_for_item("r-1")
    screen.page.evaluate("window.__sameDocument = true")
    banner = screen.page.get_by_role("status").filter(has_text=CONNECTION_LOST)

    server.kill()
    expect(banner).to_be_visible(timeout=RECONNECTED_WITHIN)
    screen.look("connection-lost")
    server.start()
    expect(banner).to_have_count(0, timeout=RECONNECTED_WITHIN)

    assert screen.page.evaluate("window.__sameDocument") is True
    create_items(
        admin_api,
        workflow,
        [{"externalId": "r-4", "payload": {}, "proposedAction": "approve_loan", "confidence": 0.8}],
    )
    approve_all(admin_api, [items[2]["id"]])
    expect(screen.queue_row("r-4")).to_have_count(1)
    expect(screen.queue_row("r-3")).to_have_count(0)
    screen.press("a")
    expect(screen.button("Undo")).to_be_visible()
    decided = [d for d in decision_log(admin_api, workflow) if not d["automated"]]
    assert [(d["recommendation"]["externalId"], d["actor"]["name"]) for d in decided] == [
        ("r-3", "ada"),
        ("r-1", reviewer),
    ]

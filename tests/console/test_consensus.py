"""Several reviewers per item in the console: three analysts review a 2-of-3 workflow,
each in a browser of their own, under blind review; a disputed item waits for a senior
with every vote and the senior adjudicates it; the ladder editor sets the review rule and
shows the server's InvalidInput at its field. What the console did is read back through
the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.console.conftest import ConsolePage, ConsoleServer, OpenConsole, expect
from tests.console.world import Api, create_queue, create_user, create_workflow, unique

if TYPE_CHECKING:
    from playwright.sync_api import Locator

CONSENSUS = """query($id: ID!) { recommendation(id: $id) { status finalAction tier
  consensus { reviewsIn state votes { verdict finalAction actor { name } } } } }"""
POLICY = """query($w: String!) { workflow(key: $w) { policy {
  version reviewsRequired agreementRequired } } }"""


def consensus_of(api: Api, item_id: str) -> dict[str, Any]:
    return dict(api(CONSENSUS, {"id": item_id})["recommendation"])


def reviewer(console: OpenConsole, server: ConsoleServer, token: str, workflow: str) -> ConsolePage:
    return console(server.url, token, f"/console/#/review/{workflow}")


def votes_region(screen: ConsolePage) -> Locator:
    return screen.page.get_by_role("region", name="Your vote")


def test_three_analysts_reach_a_consensus_and_a_senior_adjudicates_a_dispute(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = create_workflow(
        admin_api,
        unique("Loan panel", " "),
        policy={"reviewsRequired": 3, "agreementRequired": 2, "blindReview": True},
    )
    agreed, disputed = create_queue(admin_api, workflow, ["panel-1", "panel-2"])
    ana, bob, cal, sam = (unique(n) for n in ("ana", "bob", "cal", "sam"))
    tokens = {n: create_user(admin_api, n, "ANALYST") for n in (ana, bob, cal)}
    sam_token = create_user(admin_api, sam, "SENIOR")

    first = reviewer(console, console_server, tokens[ana], workflow)
    first.wait_for_item("panel-1")
    expect(first.item.get_by_role("region", name="Reviews")).to_contain_text(
        "0 of 3 reviews in · 2 must agree · collecting"
    )
    expect(first.queue_row("panel-1")).to_contain_text("0/3")
    first.press("a")
    expect(votes_region(first)).to_contain_text("1 of 3 reviews in")
    expect(votes_region(first)).to_contain_text("Your vote is in")
    first.wait_for_item("panel-2")  # moved on, as after a decision
    expect(first.queue_row("panel-1")).to_contain_text("your vote is in")
    now = consensus_of(admin_api, agreed["id"])
    assert (now["status"], now["consensus"]["state"], now["consensus"]["reviewsIn"]) == (
        "PENDING",
        "COLLECTING",
        1,
    ), "one vote of three leaves the item open"

    second = reviewer(console, console_server, tokens[bob], workflow)
    second.wait_for_item("panel-1")
    reviews = second.item.get_by_role("region", name="Reviews")
    expect(reviews).to_contain_text("1 of 3 reviews in")
    expect(reviews).to_contain_text("the others' votes show once you have voted")
    expect(second.item).not_to_contain_text(f"by {ana}")  # blind: ana's vote is hidden
    second.press("r", "Enter")
    expect(votes_region(second)).to_contain_text("2 of 3 reviews in")
    expect(votes_region(second)).to_contain_text(f"Approved by {ana}: approve_loan")
    expect(first.queue_row("panel-1")).to_contain_text("2/3")  # live, by the VOTED event

    third = reviewer(console, console_server, tokens[cal], workflow)
    third.wait_for_item("panel-1")
    third.press("a")
    expect(third.page.get_by_role("status").first).to_contain_text(
        "2 agree: panel-1 is decided. Approved panel-1"
    )
    expect(votes_region(third)).to_contain_text("agreed")
    third.look("review-consensus")
    done = consensus_of(admin_api, agreed["id"])
    assert (done["status"], done["finalAction"], done["consensus"]["state"]) == (
        "APPROVED",
        "approve_loan",
        "REACHED",
    )
    assert [v["actor"]["name"] for v in done["consensus"]["votes"]] == [ana, bob, cal]
    expect(first.queue_row("panel-1")).to_have_count(0)  # decided: it left the queue

    # panel-2: three different votes, no two agreeing.
    for screen in (first, second, third):
        screen.wait_for_item("panel-2")
    first.press("a")
    expect(votes_region(first)).to_contain_text("1 of 3 reviews in")
    second.press("r", "Enter")
    expect(votes_region(second)).to_contain_text("2 of 3 reviews in")
    third.press("o", "2")
    third.type("income not verified")
    third.press("Enter")
    expect(votes_region(third)).to_contain_text("disputed: waiting for a senior")
    split = consensus_of(admin_api, disputed["id"])
    assert (split["status"], split["tier"], split["consensus"]["state"]) == (
        "PENDING",
        "SENIOR_REVIEW",
        "DISPUTED",
    )

    senior = reviewer(console, console_server, sam_token, workflow)
    senior.wait_for_item("panel-2")
    expect(senior.queue_row("panel-2")).to_contain_text("disputed")
    votes = senior.item.get_by_role("list", name="Every vote")
    expect(votes.get_by_role("listitem")).to_have_count(3)
    expect(votes).to_contain_text(f"Overridden by {cal}: decline_loan")
    expect(senior.page.get_by_role("group", name="Adjudicate")).to_be_visible()
    senior.look("review-dispute")
    senior.press("a")
    expect(senior.page.get_by_role("status").first).to_contain_text("Adjudicated: Approved panel-2")
    settled = consensus_of(admin_api, disputed["id"])
    assert (settled["status"], settled["consensus"]["state"]) == ("APPROVED", "ADJUDICATED")


def test_the_ladder_editor_saves_the_review_rule_and_shows_invalid_input_at_its_field(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    workflow = create_workflow(admin_api, unique("Review rules", " "))
    screen = console(console_server.url, console_server.admin)
    page = screen.page
    page.get_by_role("link", name="Admin").first.click()
    page.get_by_label("Workflow").select_option(workflow)
    ladder = page.get_by_role("region", name="Escalation ladder")
    reviews = ladder.get_by_label("Reviews per item")
    expect(reviews).to_have_value("1")
    reviews.fill("3")
    ladder.get_by_label("Note").fill("three reviewers per item")
    ladder.get_by_role("button", name="Save policy").click()
    expect(ladder).to_contain_text("Saved as version 2")
    policy = admin_api(POLICY, {"w": workflow})["workflow"]["policy"]
    assert (policy["reviewsRequired"], policy["agreementRequired"]) == (3, 2), "blank: a majority"

    agree = ladder.get_by_label("Must agree (blank: a majority)")
    # The saved version comes back with the history (the editor then starts from it): wait
    # for it, or it could reset what is typed next.
    expect(ladder).to_contain_text("3, 2 must agree")
    expect(agree).to_have_value("")
    agree.fill("4")
    ladder.get_by_label("Note").fill("four must agree")
    ladder.get_by_role("button", name="Save policy").click()
    field = agree.locator("xpath=..")
    expect(field.get_by_role("alert")).to_contain_text("agreementRequired must be between 1")
    expect(agree).to_have_attribute("aria-invalid", "true")
    assert admin_api(POLICY, {"w": workflow})["workflow"]["policy"]["version"] == 2

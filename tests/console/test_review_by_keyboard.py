"""Reviewing with the keyboard alone: every verdict, an override with a suggested reason in
four keystrokes, a high-stakes confirmation and an undo. Nothing here clicks; what the
console did is read back from the decision log through the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.console.conftest import ConsolePage, ConsoleServer, OpenConsole, expect
from tests.console.world import (
    Api,
    create_queue,
    create_reason_suggestions,
    create_user,
    create_workflow,
    decision_log,
    item,
    unique,
)


@dataclass
class Review:
    screen: ConsolePage
    api: Api
    workflow: str
    reviewer: str
    items: list[dict]


def start_review(
    console: OpenConsole,
    server: ConsoleServer,
    admin_api: Api,
    external_ids: list[str],
    *,
    policy: dict | None = None,
    suggestions: bool = False,
    **item_fields: Any,
) -> Review:
    """A workflow with these items in queue order, and an analyst who opened it."""
    name = unique("Loan applications", " ")
    workflow = create_workflow(admin_api, name, policy=policy)
    if suggestions:
        create_reason_suggestions(admin_api, workflow)
    items = create_queue(admin_api, workflow, external_ids, **item_fields)
    reviewer = unique("ann")
    screen = console(server.url, create_user(admin_api, reviewer, "ANALYST"))
    screen.open_workflow(name)
    screen.wait_for_item(external_ids[0])
    return Review(screen, admin_api, workflow, reviewer, items)


def human_decisions(review: Review) -> list[dict]:
    """The reviewer's decisions (not the seeding admin's), in chain order."""
    log = decision_log(review.api, review.workflow)
    return [d for d in log if d["actor"] and d["actor"]["name"] == review.reviewer]


def wait_until_decided(review: Review) -> None:
    """The console offers Undo once a decision has been stored."""
    expect(review.screen.button("Undo")).to_be_visible()


VERDICTS = {
    # verdict: (keys before the text, text typed, keys after, stored verdict, final action)
    "approve": (("a",), "", (), "APPROVE", "approve_loan"),
    "reject": (("r",), "amount too high for the turnover", ("Enter",), "REJECT", None),
    "flag": (("f",), "ask for the owner's accounts", ("Enter",), "FLAG", None),
    "override": (("o", "2"), "founded last year", ("Enter",), "OVERRIDE", "decline_loan"),
}


@pytest.mark.parametrize("verdict", list(VERDICTS))
def test_a_reviewer_reviews_an_item_from_open_to_next_with_the_keyboard_alone(
    verdict: str, console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    before, text, after, stored, final_action = VERDICTS[verdict]
    review = start_review(console, console_server, admin_api, ["app-1", "app-2"])
    screen = review.screen
    first = review.items[0]
    assert item(admin_api, first["id"])["claim"]["reviewer"]["name"] == review.reviewer
    if verdict == "approve":
        screen.look("queue")
        screen.press("?")
        expect(screen.page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        screen.look("keyboard-shortcuts")
        screen.press("Escape")
        expect(screen.page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)

    screen.press(*before)
    if text:
        screen.look(f"{verdict}-reason")
        screen.type(text)
    screen.press(*after)

    wait_until_decided(review)
    [decision] = human_decisions(review)
    assert decision["recommendation"]["externalId"] == "app-1"
    assert decision["verdict"] == stored
    assert decision["actor"]["name"] == review.reviewer
    assert decision["reason"] == (text or None)
    if final_action:
        assert decision["finalAction"] == final_action
    screen.wait_for_item("app-2")
    assert item(admin_api, review.items[1]["id"])["claim"]["reviewer"]["name"] == review.reviewer
    if verdict == "approve":
        screen.look("decided-with-undo")


def test_an_override_with_a_suggested_reason_takes_four_keystrokes(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    review = start_review(console, console_server, admin_api, ["app-1", "app-2"], suggestions=True)
    screen = review.screen
    suggestions = admin_api(
        "query($w: String!) { workflow(key: $w) { reasonSuggestions } }", {"w": review.workflow}
    )["workflow"]["reasonSuggestions"]
    assert len(suggestions) >= 2, suggestions
    seen_before = len(screen.keydowns())
    screen.keys_pressed.clear()

    screen.press("o")
    screen.look("override-actions")
    screen.press("2")
    expect(screen.page.get_by_text(suggestions[1]).first).to_be_visible()
    screen.look("override-suggested-reasons")
    screen.press("2", "Enter")

    wait_until_decided(review)
    assert screen.keys_pressed == ["o", "2", "2", "Enter"]
    assert len(screen.keydowns()) - seen_before == 4
    [decision] = human_decisions(review)
    assert decision["verdict"] == "OVERRIDE"
    assert decision["finalAction"] == "decline_loan"
    assert decision["reason"] == suggestions[1]
    assert decision["reasonTags"] == [suggestions[1]]


@pytest.mark.parametrize("confirm_by", ["typing the word", "the Confirm button"])
def test_a_high_stakes_decision_waits_for_an_explicit_confirmation_that_enter_alone_is_not(
    confirm_by: str, console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    review = start_review(
        console,
        console_server,
        admin_api,
        ["big-1", "big-2"],
        policy={"highStakesAt": 0.5},
        stakes=0.9,
    )
    screen = review.screen
    first = review.items[0]["id"]

    screen.press("a")
    dialog = screen.page.get_by_role("alertdialog", name="Confirm decision")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("big-1")
    expect(dialog).to_contain_text("approve", ignore_case=True)
    screen.press("Enter")

    expect(dialog).to_be_visible()
    if confirm_by == "typing the word":
        screen.look("confirm-decision")
    assert item(admin_api, first)["status"] == "AWAITING_CONFIRMATION"
    assert human_decisions(review) == []

    if confirm_by == "typing the word":
        word = re.search(r"Type (\S+)", dialog.inner_text())
        assert word, dialog.inner_text()
        screen.type(word.group(1))
        screen.press("Enter")
    else:
        dialog.get_by_role("button", name="Confirm", exact=True).click()

    expect(dialog).to_have_count(0)
    wait_until_decided(review)
    [decision] = human_decisions(review)
    assert (decision["verdict"], decision["recommendation"]["externalId"]) == ("APPROVE", "big-1")
    assert item(admin_api, first)["status"] == "APPROVED"


def test_undo_takes_the_last_decision_back_while_its_window_is_open(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    review = start_review(console, console_server, admin_api, ["app-1", "app-2"])
    screen = review.screen
    first = review.items[0]["id"]

    screen.press("a")
    wait_until_decided(review)
    screen.press("u")

    expect(screen.button("Undo")).to_have_count(0)
    log = human_decisions(review)
    assert [(d["verdict"], d["undone"]) for d in log] == [("APPROVE", True), ("UNDO", False)]
    assert item(admin_api, first)["status"] in ("PENDING", "CLAIMED")
    expect(screen.queue_row("app-1")).to_have_count(1)


def test_a_decision_faster_than_the_minimum_dwell_gets_a_gentle_note_and_counts_in_my_stats(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    review = start_review(
        console, console_server, admin_api, ["app-1", "app-2"], policy={"minDwellMs": 60_000}
    )
    screen = review.screen

    screen.press("a")

    wait_until_decided(review)
    [decision] = human_decisions(review)
    note = screen.page.get_by_text(re.compile(r"you decided this in \d+(?:\.\d+)? s"))
    expect(note).to_be_visible()
    stats = screen.page.get_by_role("complementary", name="My stats")
    for figure in ("Decisions, last 30 days", "Faster than the suggested minimum"):
        value = stats.locator("dt", has_text=figure).locator("xpath=following-sibling::dd[1]")
        expect(value).to_have_text("1")
    screen.look("fast-decision-note")
    stored = admin_api(
        "query($w: String!) { reviewerStats(workflow: $w) { decisions fastDecisions "
        "reviewer { name } } }",
        {"w": review.workflow},
    )["reviewerStats"]
    mine = [s for s in stored if s["reviewer"]["name"] == review.reviewer]
    assert decision["verdict"] == "APPROVE"
    assert [(s["decisions"], s["fastDecisions"]) for s in mine] == [(1, 1)]

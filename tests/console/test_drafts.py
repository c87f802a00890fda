"""Editing a draft: the console re-scores it as the reviewer types and asks before shipping."""

from __future__ import annotations

import math
import re

from tests.console.conftest import ConsoleServer, OpenConsole, expect
from tests.console.world import (
    Api,
    create_draft_scorer,
    create_items,
    create_user,
    create_workflow,
    decision_log,
    unique,
)

ORIGINAL = "WEEKLY DIGEST FROM THE WHOLE TEAM!!!"
EDITED = "Your 5 weekly picks"


def shown_as(share: float) -> str:
    """A regex for `share` as a percentage as a screen may round it (25, 25.0, 24.9...)."""
    x = 100 * share
    forms = {f"{x:.0f}", f"{x:.1f}", str(math.floor(x)), str(math.ceil(x))}
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms)) + ")"


def predicted(before: float, after: float) -> re.Pattern[str]:
    return re.compile(rf"Predicted open rate {shown_as(before)}%\s*(?:->|→)\s*{shown_as(after)}%")


def test_a_draft_is_rescored_while_the_reviewer_types_and_shipping_asks_first(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("Newsletter subject lines", " ")
    workflow = create_workflow(
        admin_api,
        name,
        kind="DRAFT",
        reviewer_role="EDITOR",
        actions=("send", "hold"),
        score_label="open rate",
        policy={"autoApproveAt": 1.0, "analystAt": 0.0, "seniorAt": 0.0},
    )
    create_draft_scorer(admin_api, workflow)
    [draft] = create_items(
        admin_api,
        workflow,
        [
            {
                "externalId": "mail-1",
                "payload": {"segment": "regular"},
                "proposedAction": "send",
                "confidence": 0.8,
                "draft": ORIGINAL,
            }
        ],
    )
    preview = admin_api(
        """mutation($id: ID!, $content: String!) { previewEdit(id: $id, content: $content) {
             __typename ... on DraftPreview { predictedScore originalPredictedScore } } }""",
        {"id": draft["id"], "content": EDITED},
    )["previewEdit"]
    reviewer = unique("eve")
    screen = console(console_server.url, create_user(admin_api, reviewer, "ANALYST"))
    screen.open_workflow(name)
    screen.wait_for_item("mail-1")
    expect(screen.item).to_contain_text(ORIGINAL)

    screen.press("e")
    editor = screen.item.get_by_role("textbox").first
    expect(editor).to_be_focused()
    screen.press("Control+a")
    screen.type(EDITED)

    rescored = predicted(preview["originalPredictedScore"], preview["predictedScore"])
    expect(screen.page.get_by_text(rescored).first).to_be_visible()
    screen.look("draft-rescored")

    screen.press("Enter")
    question = screen.page.get_by_role("group", name=re.compile(r"Ship it\?"))
    expect(question).to_be_visible()
    expect(question).to_contain_text(rescored)
    screen.look("draft-ship-it")
    assert [d for d in decision_log(admin_api, workflow) if d["verdict"] == "EDIT"] == []
    screen.press("Enter")

    expect(screen.button("Undo")).to_be_visible()
    [edit] = [d for d in decision_log(admin_api, workflow) if d["verdict"] == "EDIT"]
    assert (edit["editedContent"], edit["actor"]["name"]) == (EDITED, reviewer)

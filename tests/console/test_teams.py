"""People and teams in the console: an admin makes teams and pins a workflow to one (only
its members then see the items), assigns an item from the review screen, reads the admin
record; deactivates a user, issues a token and revokes it. What the console did is read
back through the API."""

from __future__ import annotations

import re

from tests.console.conftest import ConsolePage, ConsoleServer, OpenConsole, expect
from tests.console.world import (
    Api,
    create_queue,
    create_team,
    create_user,
    create_workflow,
    run_aliased,
    set_workflow_teams,
    unique,
    user_id,
)

UNAUTHORISED = r"status of 401"
ASSIGNEE = """query($id: ID!) { recommendation(id: $id) {
  assignee { name } assignedTeam { key } claim { reviewer { name } } } }"""
WORKFLOW_TEAMS = "query($w: String!) { workflow(key: $w) { teams { key members { name } } } }"
ACTIONS = "{ adminActions(first: 200) { action target actor { name } } }"
EVERYONE = "{ users(includeInactive: true) { id active } }"


def opener(verb: str, name: str) -> re.Pattern[str]:
    """The name of the button that opens a step for a user: "Deactivate uma…"."""
    return re.compile(rf"^{verb} {re.escape(name)}\s*…$")


def open_admin(screen: ConsolePage, workflow: str | None = None) -> None:
    page = screen.page
    page.get_by_role("link", name="Admin").first.click()
    expect(page.get_by_role("region", name="Users")).to_be_visible()
    if workflow is not None:
        page.get_by_label("Workflow").select_option(workflow)


def create_team_in_console(screen: ConsolePage, key: str, name: str, members: list[str]) -> None:
    teams = screen.page.get_by_role("region", name="Teams")
    form = teams.get_by_role("form", name="New team")
    form.get_by_label("Team key").fill(key)
    form.get_by_label("Team name").fill(name)
    for member in members:
        person = re.compile(rf"^{re.escape(member)} \(")  # "tess (Analyst)"
        form.get_by_role("group", name="Members").get_by_role("checkbox", name=person).check()
    form.get_by_role("button", name="Create team").click()
    expect(teams.get_by_role("row").filter(has_text=name)).to_contain_text(members[0])


def test_an_admin_pins_a_workflow_to_a_team_and_assigns_an_item_from_the_review_screen(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("Card disputes", " ")
    workflow = create_workflow(admin_api, name)
    items = create_queue(admin_api, workflow, ["cd-1", "cd-2", "cd-3"])
    tess, otto = unique("tess"), unique("otto")
    tess_token = create_user(admin_api, tess, "ANALYST")
    otto_token = create_user(admin_api, otto, "ANALYST")
    fraud, night = unique("fraud"), unique("night")

    admin = console(console_server.url, console_server.admin)
    open_admin(admin, workflow)
    create_team_in_console(admin, fraud, "Fraud desk", [tess])
    create_team_in_console(admin, night, "Night shift", [otto])
    teams = admin.page.get_by_role("region", name="Teams")
    expect(teams).to_contain_text("No teams: its items are open to every user of a fitting role.")
    teams.get_by_role("group", name=f"Teams that review {workflow}").get_by_label(
        f"Fraud desk ({fraud})"
    ).check()
    teams.get_by_role("button", name="Save the workflow's teams").click()

    expect(teams).to_contain_text(f"Only the members of team {fraud} (and admins)")
    expect(teams.get_by_role("row").filter(has_text="Fraud desk")).to_contain_text(workflow)
    stored = admin_api(WORKFLOW_TEAMS, {"w": workflow})["workflow"]["teams"]
    assert stored == [{"key": fraud, "members": [{"name": tess}]}]
    admin.look("admin-teams", region=teams)

    outsider = console(console_server.url, otto_token, f"/console/#/review/{workflow}")
    expect(outsider.item).to_contain_text(f"nothing is waiting for you in workflow '{workflow}'")
    expect(outsider.queue_row("cd-")).to_have_count(0)
    member = console(console_server.url, tess_token, f"/console/#/review/{workflow}")
    member.wait_for_item("cd-1")
    expect(member.queue_row("cd-")).to_have_count(3)

    admin.open(f"/console/#/review/{workflow}")
    admin.wait_for_item("cd-2")  # tess holds cd-1
    admin.item.get_by_role("button", name="Assign…").click()
    dialog = admin.page.get_by_role("dialog", name="Assign cd-2")
    dialog.get_by_label("Assign to").select_option(label=tess)
    dialog.get_by_role("button", name="Assign", exact=True).click()

    expect(dialog).to_have_count(0)
    expect(admin.item).to_contain_text(f"Assigned to {tess}")
    pinned = admin_api(ASSIGNEE, {"id": items[1]["id"]})["recommendation"]
    assert pinned["assignee"] == {"name": tess} and pinned["assignedTeam"] is None
    assert pinned["claim"] is None, "the admin's claim ended: the item is tess's now"
    expect(member.queue_row("cd-2")).to_contain_text("assigned to you")  # live, by the event
    admin.look("review-assigned")

    open_admin(admin)
    record = admin.page.get_by_role("region", name="Admin record")
    rows = record.get_by_role("row")
    expect(rows.filter(has_text="assign").filter(has_text=items[1]["id"]).first).to_contain_text(
        user_id(admin_api, tess_token)
    )
    expect(rows.filter(has_text="setWorkflowTeams").filter(has_text=workflow)).to_have_count(1)
    expect(rows.filter(has_text="createTeam").filter(has_text=fraud)).to_have_count(1)
    actions = admin_api(ACTIONS)["adminActions"]
    assert actions[0] == {"action": "assign", "target": items[1]["id"], "actor": {"name": "ada"}}
    admin.look("admin-record", region=record)


def test_an_admin_deactivates_a_user_and_issues_and_revokes_a_token(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    uma, ivy = unique("uma"), unique("ivy")
    uma_token = create_user(admin_api, uma, "ANALYST")
    uma_id = user_id(admin_api, uma_token)
    create_user(admin_api, ivy, "SENIOR")
    victim = console(console_server.url, uma_token)
    victim.excuse(UNAUTHORISED, "uma's token is refused once she is deactivated, as it should be")
    expect(victim.page.get_by_role("heading", name="Workflows")).to_be_visible()

    admin = console(console_server.url, console_server.admin)
    open_admin(admin)
    users = admin.page.get_by_role("region", name="Users")
    yourself = users.get_by_role("row").filter(has_text="(you)")
    expect(yourself.get_by_role("button", name=re.compile("^Deactivate"))).to_have_count(0)
    uma_row = users.get_by_role("row").filter(has=admin.page.get_by_role("rowheader", name=uma))
    uma_row.get_by_role("button", name=opener("Deactivate", uma)).click()
    uma_row.get_by_role("button", name=f"Deactivate {uma}", exact=True).click()

    expect(uma_row).to_contain_text("Deactivated")
    active = {u["id"]: u["active"] for u in admin_api(EVERYONE)["users"]}
    assert active[uma_id] is False
    victim.page.reload()
    expect(victim.page.get_by_label("Bearer token")).to_be_visible()
    expect(victim.page.get_by_role("alert")).to_contain_text("session ended")

    ivy_row = users.get_by_role("row").filter(has=admin.page.get_by_role("rowheader", name=ivy))
    ivy_row.get_by_role("button", name=opener("Issue token", ivy)).click()
    ivy_row.get_by_label("Expires").select_option(label="In a day")
    ivy_row.get_by_role("button", name="Issue the token").click()
    secret = users.get_by_label(f"Bearer token for {ivy}")
    expect(secret).to_have_value(re.compile(r".{20,}"))
    expect(users).to_contain_text("It expires")
    token = secret.input_value()

    holder = console(console_server.url)
    holder.excuse(UNAUTHORISED, "ivy's tokens are revoked while she is signed in, as asked")
    holder.page.get_by_label("Bearer token").fill(token)
    holder.page.get_by_role("button", name="Sign in").click()
    expect(holder.page.get_by_role("banner")).to_contain_text(ivy)

    ivy_row.get_by_role("button", name=opener("Revoke all tokens", ivy)).click()
    ivy_row.get_by_role("button", name=f"Revoke all tokens {ivy}", exact=True).click()
    expect(users).to_contain_text(f"Every token of {ivy} is revoked.")
    holder.page.reload()
    expect(holder.page.get_by_label("Bearer token")).to_be_visible()
    expect(ivy_row).to_contain_text("Active")


def test_a_senior_assigns_an_item_to_their_team_and_unassigns_it(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("Chargebacks", " ")
    workflow = create_workflow(admin_api, name)
    [first, *_] = create_queue(admin_api, workflow, ["cb-1", "cb-2"])
    sam, ann = unique("sam"), unique("ann")
    sam_token = create_user(admin_api, sam, "SENIOR")
    ann_id = user_id(admin_api, create_user(admin_api, ann, "ANALYST"))
    team = create_team(
        admin_api, unique("disputes"), "Disputes", [user_id(admin_api, sam_token), ann_id]
    )
    set_workflow_teams(admin_api, workflow, [team])

    senior = console(console_server.url, sam_token, f"/console/#/review/{workflow}")
    senior.wait_for_item("cb-1")
    senior.item.get_by_role("button", name="Assign…").click()
    dialog = senior.page.get_by_role("dialog", name="Assign cb-1")
    choices = dialog.get_by_label("Assign to")
    expect(choices.locator("optgroup[label=Reviewers] option")).to_have_text([ann, sam])
    expect(choices.locator("optgroup[label=Teams] option")).to_have_text([f"Disputes ({team})"])
    choices.select_option(label=f"Disputes ({team})")
    dialog.get_by_role("button", name="Assign", exact=True).click()

    expect(senior.item).to_contain_text(f"Assigned to team {team}")
    pinned = admin_api(ASSIGNEE, {"id": first["id"]})["recommendation"]
    assert pinned["assignedTeam"] == {"key": team} and pinned["assignee"] is None
    assert pinned["claim"] == {"reviewer": {"name": sam}}, "a member of the team keeps the claim"

    senior.item.get_by_role("button", name="Assign…").click()
    senior.page.get_by_role("dialog", name="Assign cb-1").get_by_role(
        "button", name="Unassign"
    ).click()

    expect(senior.page.get_by_role("dialog")).to_have_count(0)
    expect(senior.page.get_by_role("status")).to_contain_text("cb-1 is no longer assigned.")
    expect(senior.item).not_to_contain_text("Assigned to")
    pinned = admin_api(ASSIGNEE, {"id": first["id"]})["recommendation"]
    assert pinned["assignedTeam"] is None and pinned["assignee"] is None


def test_the_admin_record_pages_to_older_actions(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    run_aliased(
        admin_api,
        (
            (
                f'createUser(name: "{unique("clerk")}", role: ANALYST) {{ __typename }}',
                "UserSuccess",
            )
            for _ in range(55)
        ),
    )
    newest = admin_api("{ adminActions(first: 51) { id target } }")["adminActions"]
    admin = console(console_server.url, console_server.admin)
    open_admin(admin)
    record = admin.page.get_by_role("region", name="Admin record")
    body_rows = record.locator("tbody tr")
    expect(body_rows).to_have_count(50)
    expect(body_rows.first).to_contain_text(newest[0]["target"])

    record.get_by_role("button", name="Older").click()

    expect(record).to_contain_text("Older actions (page 2)")
    expect(body_rows.first).to_contain_text(newest[50]["target"])
    record.get_by_role("button", name="Newest").click()
    expect(body_rows.first).to_contain_text(newest[0]["target"])


def test_an_admin_replaces_a_teams_members(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    kim, lee = unique("kim"), unique("lee")
    kim_id = user_id(admin_api, create_user(admin_api, kim, "ANALYST"))
    create_user(admin_api, lee, "SENIOR")
    team = create_team(admin_api, unique("audit"), "Audit", [kim_id])
    admin = console(console_server.url, console_server.admin)
    open_admin(admin)
    teams = admin.page.get_by_role("region", name="Teams")

    teams.get_by_role("button", name=re.compile(rf"^Edit members of {team}\s*…$")).click()
    picker = teams.get_by_role("group", name=f"Members of {team}")
    picker.get_by_role("checkbox", name=re.compile(rf"^{kim} \(")).uncheck()
    picker.get_by_role("checkbox", name=re.compile(rf"^{lee} \(")).check()
    teams.get_by_role("button", name="Save members").click()

    expect(teams.get_by_role("row").filter(has_text="Audit")).to_contain_text(lee)
    expect(teams.get_by_role("row").filter(has_text="Audit")).not_to_contain_text(kim)
    users = admin.page.get_by_role("region", name="Users")
    expect(users.get_by_role("row").filter(has_text=lee)).to_contain_text(team)
    stored = admin_api("{ teams { key members { name } } }")["teams"]
    assert [t["members"] for t in stored if t["key"] == team] == [[{"name": lee}]]

"""Signing in and out of the console with a bearer token."""

from __future__ import annotations

from tests.console.conftest import TOKEN_KEY, ConsoleServer, OpenConsole, expect
from tests.console.world import Api, create_user, unique

UNAUTHORISED = r"status of 401"


def storage(page: object, area: str) -> dict[str, str]:
    return dict(page.evaluate(f"Object.fromEntries(Object.entries({area}))"))  # type: ignore[attr-defined]


def test_a_reviewer_signs_in_with_a_token_sees_who_they_are_and_signs_out(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("rita")
    token = create_user(admin_api, name, "SENIOR")
    screen = console(console_server.url)
    page = screen.page
    expect(page.get_by_label("Bearer token")).to_be_visible()
    screen.look("sign-in")

    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Sign in").click()

    header = page.get_by_role("banner")
    expect(header).to_contain_text(name)
    expect(header).to_contain_text("SENIOR", ignore_case=True)
    expect(page.get_by_role("heading", name="Workflows")).to_be_visible()
    assert storage(page, "sessionStorage").get(TOKEN_KEY) == token
    assert TOKEN_KEY not in storage(page, "localStorage")
    assert token not in page.url
    screen.look("workflows")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_label("Bearer token")).to_be_visible()
    expect(page.get_by_role("heading", name="Workflows")).to_have_count(0)
    assert TOKEN_KEY not in storage(page, "sessionStorage")
    assert TOKEN_KEY not in storage(page, "localStorage")


def test_remember_me_keeps_the_token_across_a_reload_in_local_storage(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("ann")
    token = create_user(admin_api, name, "ANALYST")
    screen = console(console_server.url)
    page = screen.page

    page.get_by_label("Bearer token").fill(token)
    page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner")).to_contain_text(name)
    page.reload()

    expect(page.get_by_role("banner")).to_contain_text(name)
    assert storage(page, "localStorage").get(TOKEN_KEY) == token


def test_a_bad_token_stays_at_sign_in_with_a_plain_message_and_stores_nothing(
    console: OpenConsole, console_server: ConsoleServer
) -> None:
    screen = console(console_server.url)
    screen.excuse(UNAUTHORISED, "the server answers the wrong token with 401, as it should")
    page = screen.page

    page.get_by_label("Bearer token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_label("Bearer token")).to_be_visible()
    expect(page.get_by_role("heading", name="Workflows")).to_have_count(0)
    assert TOKEN_KEY not in storage(page, "sessionStorage")
    assert TOKEN_KEY not in storage(page, "localStorage")
    screen.look("sign-in-bad-token")

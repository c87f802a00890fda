"""GraphiQL at /graphql renders and runs a query from Arbiter's own files: nothing is
loaded from another site, so it works on a machine without internet."""

from __future__ import annotations

import json

from tests.console.conftest import ConsoleServer, OpenConsole, expect
from tests.console.world import Api, create_user, unique


def test_graphiql_renders_and_runs_a_query_without_any_other_site(
    console: OpenConsole, console_server: ConsoleServer, admin_api: Api
) -> None:
    name = unique("gina")
    token = create_user(admin_api, name, "ANALYST")
    screen = console(console_server.url, path=None)
    # GraphiQL keeps its editors in localStorage (shouldPersistHeaders): fill them first.
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    screen.page.context.add_init_script(
        f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
        f"localStorage.setItem('graphiql:query', {json.dumps('query Me { me { name role } }')});"
    )

    screen.open("/graphql")
    page = screen.page
    run = page.get_by_role("button", name="Execute query (Ctrl-Enter)")
    expect(run).to_be_visible()
    run.click()

    result = page.locator(".result-window")
    expect(result).to_contain_text(name)
    expect(result).to_contain_text("ANALYST")
    screen.screenshot("graphiql")

"""With the console off, `/` takes a browser to GraphiQL when it is on; otherwise it says
where the API is. (With the console on and built, `/` is the console: test_console_serving.)"""

from __future__ import annotations

from typing import Any

import httpx

from api.app import create_app
from tests.conftest import make_settings


async def get_root(database_url: str, follow: bool = False, **settings: Any) -> httpx.Response:
    """GET / as a browser does (asking for HTML)."""
    app = create_app(make_settings(database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/", headers={"Accept": "text/html"}, follow_redirects=follow)


async def test_the_root_redirects_to_graphiql_when_it_is_on(
    database: Any, database_url: str
) -> None:
    response = await get_root(database_url, graphiql=True, console=False)

    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"


async def test_a_browser_opening_the_root_lands_on_graphiql(
    database: Any, database_url: str
) -> None:
    response = await get_root(database_url, follow=True, console=False)

    assert response.status_code == 200
    assert str(response.url) == "http://test/graphql"
    assert "graphiql" in response.text.lower()


async def test_with_graphiql_off_the_root_is_a_404_saying_where_the_api_is(
    database: Any, database_url: str
) -> None:
    response = await get_root(database_url, graphiql=False, console=False)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["errors"][0]
    assert "/graphql" in error["message"]
    assert error["extensions"] == {"code": "NOT_FOUND", "graphql": "/graphql"}

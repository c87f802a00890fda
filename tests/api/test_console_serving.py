"""The reviewer console at /console and Arbiter's own GraphiQL page, as a browser gets them:
index.html never cached, hashed assets cached for good, a strict Content-Security-Policy
on every answer, nothing loaded from another site, and nothing outside the build served.

The console's build (console/dist, made by `make install`) is copied once per session and
served from the copy (ARBITER_CONSOLE_DIR), so that a rebuild running meanwhile cannot
change it under the tests. Without a build the tests skip saying so, and fail instead
under ARBITER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.console import console_dist
from api.graphiql_page import BUILT_FILES
from api.settings import Settings
from api.static_files import DEFAULT_CONSOLE_DIST, REPOSITORY
from tests.conftest import _service_missing, make_settings

HOST = "test"  # httpx's Host header for base_url http://test
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    f"connect-src 'self' ws://{HOST} wss://{HOST}; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# GraphiQL's stylesheet embeds its fonts as data: URLs; nothing else differs.
GRAPHIQL_POLICY = CONSOLE_POLICY.replace("font-src 'self'", "font-src 'self' data:")
IMMUTABLE = "public, max-age=31536000, immutable"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LOADED = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.I)


@pytest.fixture(scope="session")
def built_console(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of console/dist, skipping (or failing) when the console was never built."""
    missing = [
        path
        for path in [
            DEFAULT_CONSOLE_DIST / "index.html",
            *(DEFAULT_CONSOLE_DIST / "graphiql" / name for name in BUILT_FILES),
        ]
        if not path.is_file()
    ]
    if missing:
        _service_missing(
            f"the console is not built ({missing[0].relative_to(REPOSITORY)} is missing): "
            "run make install (it needs Node >= 20.19 and npm)"
        )
    copy = tmp_path_factory.mktemp("console") / "dist"
    shutil.copytree(DEFAULT_CONSOLE_DIST, copy)
    return copy


@asynccontextmanager
async def browser(sqlite_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a freshly created app (lifespan included), as a browser."""
    app = create_app(make_settings(sqlite_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as http:
            yield http


def loaded_by(html: str) -> list[str]:
    """The src and href of every script and link of a page: what a browser loads."""
    return LOADED.findall(html)


def assets_of(index_html: str) -> list[str]:
    return [url for url in loaded_by(index_html) if url.startswith("/console/assets/")]


def error_of(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["errors"][0])


def test_the_console_is_found_in_the_repository_by_default() -> None:
    assert console_dist(Settings()) == REPOSITORY / "console" / "dist"


async def test_the_console_page_is_index_html_and_is_revalidated_on_every_load(
    sqlite_url: str, built_console: Path
) -> None:
    index = (built_console / "index.html").read_bytes()
    async with browser(sqlite_url, console_dir=built_console) as http:
        for path in ["/console", "/console/"]:
            response = await http.get(path, headers=HTML)

            assert response.status_code == 200, path
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            assert response.content == index


async def test_a_client_route_under_the_console_answers_index_html(
    sqlite_url: str, built_console: Path
) -> None:
    index = (built_console / "index.html").read_bytes()
    async with browser(sqlite_url, console_dir=built_console) as http:
        for path in ["/console/workflows/loans", "/console/admin/ladder/loans?tab=history"]:
            response = await http.get(path, headers=HTML)

            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-cache"
            assert response.content == index


async def test_a_browser_revalidating_index_html_gets_a_304_while_it_is_unchanged(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        first = await http.get("/console")
        again = await http.get("/console", headers={"If-None-Match": first.headers["etag"]})
        (built_console / "index.html").write_bytes(first.content + b"<!-- rebuilt -->\n")
        rebuilt = await http.get("/console", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["content-security-policy"] == CONSOLE_POLICY
    assert rebuilt.status_code == 200
    assert rebuilt.content.endswith(b"<!-- rebuilt -->\n")


async def test_hashed_assets_are_cached_for_good_with_their_content_types(
    sqlite_url: str, built_console: Path
) -> None:
    index = (built_console / "index.html").read_text()
    assets = assets_of(index)
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    assert {Path(url).suffix for url in assets} == {".js", ".css"}, index

    async with browser(sqlite_url, console_dir=built_console) as http:
        for url in assets:
            response = await http.get(url)

            assert response.status_code == 200, url
            assert response.headers["cache-control"] == IMMUTABLE
            assert response.headers["content-type"] == types[Path(url).suffix]
            assert response.content == (built_console / url.removeprefix("/console/")).read_bytes()


async def test_text_files_are_sent_gzipped_to_a_browser_that_accepts_gzip(
    sqlite_url: str, built_console: Path
) -> None:
    asset = next(u for u in assets_of((built_console / "index.html").read_text()) if ".js" in u)
    built = (built_console / asset.removeprefix("/console/")).read_bytes()
    async with browser(sqlite_url, console_dir=built_console) as http:
        gzipped = await http.get(asset, headers={"Accept-Encoding": "gzip, deflate, br"})
        plain = await http.get(asset, headers={"Accept-Encoding": "identity"})
        refused = await http.get(asset, headers={"Accept-Encoding": "gzip;q=0, br"})

    assert gzipped.headers["content-encoding"] == "gzip"
    assert int(gzipped.headers["content-length"]) < len(built)
    assert gzipped.content == built  # as decoded by httpx
    for response in (plain, refused):
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(built)
        assert response.content == built
    for response in (gzipped, plain):
        assert "Accept-Encoding" in response.headers["vary"].split(", ")
        assert response.headers["cache-control"] == IMMUTABLE
    assert gzipped.headers["etag"] != plain.headers["etag"]


async def test_every_console_answer_carries_the_content_security_policy(
    sqlite_url: str, built_console: Path
) -> None:
    asset = assets_of((built_console / "index.html").read_text())[0]
    async with browser(sqlite_url, console_dir=built_console) as http:
        responses = [
            await http.get("/console", headers=HTML),
            await http.get("/console/workflows/loans", headers=HTML),
            await http.get(asset),
            await http.get("/console/assets/missing-0000.js"),
            await http.get("/console/%2e%2e/pyproject.toml"),
        ]
    async with browser(sqlite_url, console_dir=built_console, console=False) as http:
        responses.append(await http.get("/console", headers=HTML))

    for response in responses:
        headers = response.headers
        assert headers["content-security-policy"] == CONSOLE_POLICY, response.url
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert "unsafe-eval" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


async def test_a_host_header_that_is_not_a_host_is_not_copied_into_the_policy(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        response = await http.get("/console", headers={"Host": "evil; script-src *"})

    policy = response.headers["content-security-policy"]
    assert "connect-src 'self'; " in policy
    assert "evil" not in policy
    assert "script-src *" not in policy


async def test_a_missing_asset_is_a_404_and_the_assets_folder_is_not_listed(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        missing = await http.get("/console/assets/index-00000000.js")
        folder = await http.get("/console/assets/")
        bare = await http.get("/console/assets")

    for response in (missing, folder, bare):
        assert response.status_code == 404, response.url
        assert response.headers["content-type"] == "application/json"
        assert error_of(response)["extensions"] == {"code": "NOT_FOUND"}
    assert error_of(missing)["message"] == "no such file: /console/assets/index-00000000.js"


async def test_a_path_leaving_the_console_folder_is_refused(
    sqlite_url: str, built_console: Path
) -> None:
    secret = REPOSITORY / "pyproject.toml"
    (built_console / "assets" / "outside.txt").symlink_to(secret)
    async with browser(sqlite_url, console_dir=built_console) as http:
        parents = [
            await http.get("/console/%2e%2e/%2e%2e/pyproject.toml"),
            await http.get("/console/assets/%2e%2e/%2e%2e/%2e%2e/pyproject.toml"),
            await http.get("/console/assets/..%5C..%5Cindex.html"),
            await http.get("/console/assets/x%00.js"),
        ]
        linked = await http.get("/console/assets/outside.txt")

    for response in parents:
        assert response.status_code == 400, response.url
        assert error_of(response) == {
            "message": "the path may not leave /console",
            "extensions": {"code": "BAD_REQUEST"},
        }
    assert linked.status_code == 404
    assert b"[project]" not in linked.content


async def test_with_the_console_off_everything_under_console_is_a_404(
    sqlite_url: str, built_console: Path
) -> None:
    asset = assets_of((built_console / "index.html").read_text())[0]
    async with browser(sqlite_url, console_dir=built_console, console=False) as http:
        responses = [
            await http.get(path, headers=HTML)
            for path in ["/console", "/console/", "/console/workflows/loans", asset]
        ]

    for response in responses:
        assert response.status_code == 404, response.url
        assert error_of(response) == {
            "message": "the console is turned off (ARBITER_CONSOLE=false)",
            "extensions": {"code": "NOT_FOUND"},
        }


async def test_a_console_that_was_never_built_is_a_404_saying_to_run_make_install(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with browser(sqlite_url, console_dir=tmp_path) as http:
        page = await http.get("/console", headers=HTML)
        route = await http.get("/console/workflows/loans", headers=HTML)
        root = await http.get("/", headers=HTML)
        graphiql = await http.get("/graphql", headers=HTML)

    for response in (page, route):
        assert response.status_code == 404
        assert error_of(response)["message"] == "the console is not built: run make install"
    assert (root.status_code, root.headers["location"]) == (307, "/graphql")
    assert graphiql.status_code == 404
    assert "run make install" in graphiql.text
    assert "<script" not in graphiql.text


async def test_the_root_takes_a_browser_to_the_console_when_it_is_built(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        root = await http.get("/", headers=HTML)
        landed = await http.get("/", headers=HTML, follow_redirects=True)

    assert (root.status_code, root.headers["location"]) == (307, "/console")
    assert str(landed.url) == f"http://{HOST}/console"
    assert landed.content == (built_console / "index.html").read_bytes()


async def test_with_the_console_off_the_root_takes_a_browser_to_graphiql(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console, console=False) as http:
        root = await http.get("/", headers=HTML)

    assert (root.status_code, root.headers["location"]) == (307, "/graphql")


async def test_graphiql_loads_only_files_this_server_serves_even_with_the_console_off(
    sqlite_url: str, built_console: Path
) -> None:
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    async with browser(sqlite_url, console_dir=built_console, console=False) as http:
        page = await http.get("/graphql", headers=HTML)
        loaded = loaded_by(page.text)
        files = {url: await http.get(url) for url in loaded if url.startswith("/")}

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == GRAPHIQL_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # every script is a file: no inline script runs
    own = ["/graphiql/start.js", "/graphiql/page.css", "data:,"]  # data:, the empty favicon
    assert sorted(loaded) == sorted([*(f"/graphiql/{name}" for name in BUILT_FILES), *own])
    for url, response in files.items():
        assert response.status_code == 200, url
        assert response.headers["content-type"] == types[Path(url).suffix], url
        assert response.headers["content-security-policy"] == GRAPHIQL_POLICY
    built = built_console / "graphiql" / "graphiql.min.js"
    assert files["/graphiql/graphiql.min.js"].content == built.read_bytes()
    assert b"GraphiQL.createFetcher" in files["/graphiql/start.js"].content


async def test_no_page_served_to_a_browser_loads_anything_from_another_site(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        pages = [
            await http.get("/console", headers=HTML),
            await http.get("/console/workflows/loans", headers=HTML),
            await http.get("/graphql", headers=HTML),
        ]

    for page in pages:
        urls = loaded_by(page.text)
        assert urls, page.url
        for url in urls:
            assert url.startswith(("/", "data:")) and not url.startswith("//"), (page.url, url)
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text, re.I)


async def test_graphiql_files_are_a_404_when_graphiql_is_off_or_unknown(
    sqlite_url: str, built_console: Path
) -> None:
    async with browser(sqlite_url, console_dir=built_console) as http:
        unknown = await http.get("/graphiql/%2e%2e/index.html")
        other = await http.get("/graphiql/explorer.js")
    async with browser(sqlite_url, console_dir=built_console, graphiql=False) as http:
        off = [await http.get(f"/graphiql/{name}") for name in [*BUILT_FILES, "start.js"]]

    for response in (unknown, other):
        assert response.status_code == 404
        assert error_of(response)["message"].startswith("no such file: /graphiql/")
    for response in off:
        assert response.status_code == 404
        assert error_of(response)["message"] == "GraphiQL is turned off (ARBITER_GRAPHIQL=false)"

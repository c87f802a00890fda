"""Arbiter's own GraphiQL page, which loads nothing from the internet.

Strawberry's page loads React and GraphiQL from unpkg. This one loads React 18's and
GraphiQL 3's files as copied by the console's build into console/dist/graphiql/, and
its bootstrap from api/static/, all served at /graphiql/* (whether or not the console
is on), and runs no inline script.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from api.console import console_dist
from api.settings import Settings
from api.static_files import (
    NO_CACHE,
    browser_headers,
    content_security_policy,
    error_response,
    file_response,
)

GRAPHIQL_PATH = "/graphiql"
STATIC = Path(__file__).resolve().parent / "static"
BUILT = "graphiql"  # the folder of console/dist that holds GraphiQL's files
BUILT_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)
OWN_FILES = {"start.js": STATIC / "graphiql-start.js", "page.css": STATIC / "graphiql-page.css"}
NOT_BUILT = "GraphiQL's files are not built: run make install (it needs Node >= 20.19 and npm)"
TURNED_OFF = "GraphiQL is turned off (ARBITER_GRAPHIQL=false)"

PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Arbiter GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="{GRAPHIQL_PATH}/graphiql.min.css" />
    <link rel="stylesheet" href="{GRAPHIQL_PATH}/page.css" />
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script src="{GRAPHIQL_PATH}/react.production.min.js"></script>
    <script src="{GRAPHIQL_PATH}/react-dom.production.min.js"></script>
    <script src="{GRAPHIQL_PATH}/graphiql.min.js"></script>
    <script src="{GRAPHIQL_PATH}/start.js"></script>
  </body>
</html>
"""

NOT_BUILT_PAGE = f"""<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Arbiter GraphiQL</title></head>
  <body>
    <h1>GraphiQL is not available</h1>
    <p>{NOT_BUILT}. The API itself works: POST GraphQL to /graphql.</p>
  </body>
</html>
"""


def graphiql_policy(request: Request) -> str:
    """The console's policy, plus the `data:` fonts GraphiQL's stylesheet embeds."""
    # GraphiQL 3 needs no 'unsafe-eval' (checked in Chromium: it renders, queries and
    # subscribes under this policy). Its dialogs (Radix, through react-remove-scroll) add a
    # <style> element to lock scrolling, which style-src 'self' refuses: the browser logs
    # a violation and the dialog works the same. Allowing it would take 'unsafe-inline'.
    return content_security_policy(request, font="'self' data:")


def graphiql_is_built(dist: Path) -> bool:
    """Every file of GraphiQL that the console's build copies is there."""
    return all((dist / BUILT / name).is_file() for name in BUILT_FILES)


def graphiql_page(request: Request) -> Response:
    """The page for a browser's GET /graphql (ARBITER_GRAPHIQL on); a 404 page saying to
    run `make install` when GraphiQL's files were never built."""
    settings: Settings = request.app.state.services.settings
    headers = {**browser_headers(graphiql_policy(request)), "Cache-Control": NO_CACHE}
    if not graphiql_is_built(console_dist(settings)):
        return HTMLResponse(NOT_BUILT_PAGE, status_code=404, headers=headers)
    return HTMLResponse(PAGE, headers=headers)


def graphiql_routes(settings: Settings) -> list[Route]:
    """GET /graphiql/NAME: the files the GraphiQL page loads."""
    built = console_dist(settings) / BUILT

    async def graphiql_file(request: Request) -> Response:
        headers = browser_headers(graphiql_policy(request))
        if not settings.graphiql:
            return error_response(404, "NOT_FOUND", TURNED_OFF, headers)
        name = str(request.path_params["name"])
        if name in OWN_FILES:
            return file_response(request, OWN_FILES[name], NO_CACHE, headers)
        if name not in BUILT_FILES:  # a fixed list of names: no path ever reaches the disk
            message = f"no such file: {GRAPHIQL_PATH}/{name}"
            return error_response(404, "NOT_FOUND", message, headers)
        if not (built / name).is_file():
            return error_response(404, "NOT_FOUND", NOT_BUILT, headers)
        return file_response(request, built / name, NO_CACHE, headers)

    return [Route(GRAPHIQL_PATH + "/{name:path}", graphiql_file, methods=["GET"])]

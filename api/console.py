"""/console: the reviewer console, a single-page app built by `make install` into console/dist.

`/console`, `/console/` and every client route under it answer index.html (no-cache:
a rebuild shows at the next load); `/console/assets/*` are Vite's content-hashed files,
cached for good. Every answer carries a Content-Security-Policy allowing same-origin
scripts, styles and connections only. ARBITER_CONSOLE=false makes all of it a 404, and
so does a console that was never built (saying to run `make install`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.settings import Settings
from api.static_files import (
    DEFAULT_CONSOLE_DIST,
    IMMUTABLE,
    NO_CACHE,
    PathRefused,
    browser_headers,
    content_security_policy,
    error_response,
    file_response,
    file_under,
)

CONSOLE_PATH = "/console"
ASSETS = "assets"
NOT_BUILT = "the console is not built: run make install"
TURNED_OFF = "the console is turned off (ARBITER_CONSOLE=false)"


def console_dist(settings: Settings) -> Path:
    """Where the console's build output is: ARBITER_CONSOLE_DIR, or console/dist."""
    return settings.console_dir or DEFAULT_CONSOLE_DIST


def console_is_served(settings: Settings) -> bool:
    """The console is on and built (its index.html exists)."""
    return settings.console and (console_dist(settings) / "index.html").is_file()


def console_routes(settings: Settings) -> list[Route]:
    """GET /console and everything under it."""
    dist = console_dist(settings)

    async def console(request: Request) -> Response:
        headers = browser_headers(content_security_policy(request))
        if not settings.console:
            return error_response(404, "NOT_FOUND", TURNED_OFF, headers)
        relative = str(request.path_params.get("path", ""))
        try:
            found = file_under(dist, relative)
        except PathRefused:
            return error_response(400, "BAD_REQUEST", "the path may not leave /console", headers)
        index = file_under(dist, "index.html")
        if index is None:
            return error_response(404, "NOT_FOUND", NOT_BUILT, headers)
        in_assets = relative.lstrip("/").split("/", 1)[0] == ASSETS
        if found is not None:
            return file_response(request, found, IMMUTABLE if in_assets else NO_CACHE, headers)
        if in_assets:
            return error_response(404, "NOT_FOUND", f"no such file: /console/{relative}", headers)
        return file_response(request, index, NO_CACHE, headers)

    return [
        Route(CONSOLE_PATH, console, methods=["GET"]),
        Route(CONSOLE_PATH + "/{path:path}", console, methods=["GET"]),
    ]

"""Files served to browsers (the console and GraphiQL): found safely, typed, and sent with
a Content-Security-Policy that lets the page load nothing from anywhere else."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_CONSOLE_DIST = REPOSITORY / "console" / "dist"

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain",
}

# A Host header as browsers send it: a name or IPv4 address, or an IPv6 one in brackets,
# and maybe a port. Anything else is left out of the policy rather than copied into it.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


class PathRefused(Exception):
    """A path that tries to leave its folder ('..', a backslash, a NUL)."""


def content_security_policy(
    request: Request, *, style: str = "'self'", font: str = "'self'"
) -> str:
    """Same-origin scripts, styles, fonts and connections only; WebSockets to this host
    only (`connect-src 'self'` does not cover ws: in every browser)."""
    connect = "'self'"
    host = request.headers.get("host")
    if host and _HOST.fullmatch(host):
        connect = f"'self' ws://{host} wss://{host}"
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {style}; connect-src {connect}; img-src 'self' data:; font-src {font}; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )


def browser_headers(policy: str) -> dict[str, str]:
    """The headers of every response a browser renders or runs."""
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def file_under(root: Path, relative: str) -> Path | None:
    """The regular file at `relative` inside `root`, or None; raises PathRefused for a
    path that names a parent folder (a symbolic link leading out of `root` is None)."""
    if "\x00" in relative or "\\" in relative:
        raise PathRefused(relative)
    parts = [part for part in relative.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise PathRefused(relative)
    if not parts:
        return None
    try:
        resolved = root.joinpath(*parts).resolve(strict=True)
        inside = resolved.is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):
        return None
    return resolved if inside and resolved.is_file() else None


def file_response(
    request: Request, path: Path, cache_control: str, headers: dict[str, str]
) -> Response:
    """The file with its content type; 304 when the browser's copy is current."""
    media_type = CONTENT_TYPES.get(path.suffix.lower())
    if media_type is None:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(
        path,
        media_type=media_type,
        stat_result=os.stat(path),
        headers={**headers, "Cache-Control": cache_control},
    )
    etag = response.headers.get("etag")
    if etag and etag in _etags(request.headers.get("if-none-match", "")):
        kept = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        kept.pop("content-type", None)
        return Response(status_code=304, headers=kept)
    return response


def error_response(status: int, code: str, message: str, headers: dict[str, str]) -> JSONResponse:
    """A JSON error, shaped like the API's, that says what happened."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}

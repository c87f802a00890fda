"""Files served to browsers (the console and GraphiQL): found safely, typed, and sent with
a Content-Security-Policy that lets the page load nothing from anywhere else."""

from __future__ import annotations

import gzip
import mimetypes
import os
import re
from email.utils import formatdate
from functools import lru_cache
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

COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt"}
MIN_GZIP_BYTES = 1024

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
    """The file with its content type, gzipped when the browser accepts it (a text file of
    1 kB or more); 304 when the browser's copy is current."""
    stat = os.stat(path)
    media_type = CONTENT_TYPES.get(path.suffix.lower())
    if media_type is None:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped = (
        path.suffix.lower() in COMPRESSIBLE
        and stat.st_size >= MIN_GZIP_BYTES
        and accepts_gzip(request.headers.get("accept-encoding", ""))
    )
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}{"-gzip" if gzipped else ""}"'
    headers = {
        **headers,
        "Cache-Control": cache_control,
        "ETag": etag,
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Vary": "Accept-Encoding",
    }
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    if gzipped:
        body = _gzipped(str(path), stat.st_mtime_ns, stat.st_size)
        return Response(
            body, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"}
        )
    return FileResponse(path, media_type=media_type, stat_result=stat, headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip (not with q=0)."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params.strip().startswith("q=") and _is_zero(q))
    return False


def _is_zero(q: str) -> bool:
    try:
        return float(q) == 0
    except ValueError:
        return False


@lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    """A file's gzip, made once per version of the file (its mtime and size are the key)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def error_response(status: int, code: str, message: str, headers: dict[str, str]) -> JSONResponse:
    """A JSON error, shaped like the API's, that says what happened."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}

"""Which JSON media type a GraphQL-over-HTTP answer uses, and its status code.

`application/graphql-response+json` (the GraphQL-over-HTTP spec's own type) is
answered when the client's Accept header asks for it at least as much as for
`application/json`; everything else keeps the long-standing `application/json`
answers. With the new type the status code says what happened: a request that
could not be executed (a syntax error, a validation failure, variables that do not
coerce) is a 400 without a `data` entry; with `application/json` it stays a 200.
"""

from __future__ import annotations

from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """GRAPHQL_RESPONSE_JSON when `accept` names it explicitly with a quality at least
    that of application/json (or of a wildcard covering it); JSON otherwise, a missing
    or unsatisfiable Accept header included."""
    if not accept:
        return JSON
    wanted_new, wanted_json = 0.0, 0.0
    for entry in accept.split(","):
        media, *parameters = entry.split(";")
        media = media.strip().lower()
        quality = _quality(parameters)
        if media == GRAPHQL_RESPONSE_JSON:
            wanted_new = max(wanted_new, quality)
        elif media in (JSON, "application/*", "*/*"):
            wanted_json = max(wanted_json, quality)
    return GRAPHQL_RESPONSE_JSON if wanted_new > 0 and wanted_new >= wanted_json else JSON


def is_request_error(result: Any) -> bool:
    """The operation never ran: no data and errors that name no field (parse and
    validation failures, variables that do not coerce, a refused document)."""
    errors = getattr(result, "errors", None)
    if not errors or result.data is not None:
        return False
    return all(not e.path for e in errors)


def request_error_status(errors: list[dict[str, Any]]) -> int:
    """The status of an answer whose operation never ran, under GRAPHQL_RESPONSE_JSON."""
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    if "TRUSTED_DOCUMENT_REQUIRED" in codes or "FORBIDDEN" in codes:
        return 403
    if "DATABASE_UNAVAILABLE" in codes:
        return 503
    if any(e.get("message") == "Unexpected error." for e in errors):
        return 500
    return 400

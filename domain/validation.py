"""Limits on what callers may send, checked before anything is stored."""

from __future__ import annotations

import json
import math
from typing import Any

from domain.errors import InvalidInputError

MAX_SHORT_TEXT = 200
MAX_SUBJECT = 500
MAX_REASON = 5_000
MAX_DRAFT = 100_000
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32
MAX_BATCH = 1_000
MAX_EXPLANATION = 200
MAX_TAGS = 20


def text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    """A string within `limit` characters; `required` refuses None and blank."""
    if value is None:
        if required:
            raise InvalidInputError(f"{field} is required", field)
        return None
    if required and not value.strip():
        raise InvalidInputError(f"{field} must not be blank", field)
    if len(value) > limit:
        raise InvalidInputError(f"{field} is longer than {limit} characters", field)
    if "\x00" in value:
        raise InvalidInputError(f"{field} contains a NUL character", field)
    return value


def finite(value: float | None, field: str, *, unit: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{field} must be a finite number", field)
    if unit and not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"{field} must be between 0 and 1", field)
    return float(value)


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (not a list or scalar), not too deep, not too large."""
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field} must be a JSON object", field)
    try:
        depth = _depth(value)
    except ValueError as error:
        raise InvalidInputError(f"{field}: {error}", field) from error
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{field} is nested deeper than {MAX_JSON_DEPTH} levels", field)
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{field} is not valid JSON: {error}", field) from error
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidInputError(f"{field} is larger than {MAX_PAYLOAD_BYTES} bytes", field)
    return value


def _depth(value: Any) -> int:
    """Depth of nested containers, iteratively (a hostile payload must not blow the stack).

    Raises ValueError on a NUL character in any key or string: PostgreSQL's JSON
    types cannot hold one, and no backend should store what another refuses.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if any("\x00" in key for key in node):
                raise ValueError("a key contains a NUL character")
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, str) and "\x00" in node:
                raise ValueError("a string contains a NUL character")
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def tags(values: list[str] | None, field: str) -> list[str]:
    if not values:
        return []
    if len(values) > MAX_TAGS:
        raise InvalidInputError(f"{field} takes at most {MAX_TAGS} tags", field)
    cleaned = []
    for value in values:
        tag = text(value, field, 100, required=True)
        assert tag is not None
        cleaned.append(tag.strip())
    return cleaned

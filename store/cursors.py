"""Opaque page cursors: one schema per connection, one strict decoder for all of them.

A cursor is the URL-safe base64 (unpadded) of a compact JSON list whose first
position names its connection and whose other positions are the sort key of the
last item of a page. Decoding checks every position against the connection's
schema, so that a cursor the API never gave out (garbage, a cursor of another
connection, a string where a timestamp belongs, a number where an id belongs,
NaN, a boolean) is refused with one kind of error, InvalidInputError on `after`,
before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from domain.errors import InvalidInputError

MAX_CURSOR_CHARS = 512
MAX_ID_CHARS = 100
MAX_SEQUENCE = 2**31 - 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class Position(Protocol):
    """One typed position of a cursor: how it is written, and how it is read back
    (None when the value is not of this type)."""

    description: str

    def encode(self, value: Any) -> Any: ...

    def decode(self, value: Any) -> Any: ...


class Timestamp:
    """An aware ISO 8601 timestamp, given back in UTC."""

    description = "a timestamp"

    def encode(self, value: Any) -> Any:
        if not isinstance(value, datetime):
            raise TypeError(f"a timestamp position takes a datetime, not {value!r}")
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()

    def decode(self, value: Any) -> Any:
        if not isinstance(value, str):
            return None
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                return None
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            return None


class Identifier:
    """A row's string id."""

    description = "an id"

    def encode(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"an id position takes a string, not {value!r}")
        return value

    def decode(self, value: Any) -> Any:
        if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS:
            return value
        return None


class ChainSequence:
    """A non-negative integer position in a chain (never a boolean or a float)."""

    description = "a whole number from 0 to 2147483647"

    def encode(self, value: Any) -> Any:
        if type(value) is not int:
            raise TypeError(f"a sequence position takes an int, not {value!r}")
        return value

    def decode(self, value: Any) -> Any:
        if type(value) is int and 0 <= value <= MAX_SEQUENCE:
            return value
        return None


TIMESTAMP = Timestamp()
IDENTIFIER = Identifier()
SEQUENCE = ChainSequence()


@dataclass(frozen=True)
class CursorSchema:
    """The cursors of one connection: its name, then the types of its sort key."""

    connection: str
    positions: tuple[Position, ...]

    def encode(self, values: Sequence[Any]) -> str:
        """The cursor of an item whose sort key is `values` (one per position)."""
        if len(values) != len(self.positions):
            raise TypeError(f"{self.connection} cursors have {len(self.positions)} positions")
        encoded = [self.connection] + [
            p.encode(v) for p, v in zip(self.positions, values, strict=True)
        ]
        raw = json.dumps(encoded, separators=(",", ":"), allow_nan=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The sort key in `cursor`, typed; InvalidInputError (field `after`) when it is
        not a cursor this connection gave out."""
        values = _json_list(cursor, self.connection)
        if len(values) != len(self.positions) + 1 or values[0] != self.connection:
            raise self._refused("it is not one of this connection's cursors")
        decoded = []
        for index, (position, value) in enumerate(
            zip(self.positions, values[1:], strict=True), start=1
        ):
            typed = position.decode(value)
            if typed is None:
                raise self._refused(f"position {index} must be {position.description}")
            decoded.append(typed)
        return tuple(decoded)

    def _refused(self, why: str) -> InvalidInputError:
        return _refused(self.connection, why)


def _refused(connection: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"after is not a cursor this API gave out for {connection} ({why})", "after"
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a cursor")


def _json_list(cursor: str, connection: str) -> list[Any]:
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_CHARS:
        raise _refused(connection, f"a cursor is 1 to {MAX_CURSOR_CHARS} characters")
    if not _BASE64URL.fullmatch(cursor):
        raise _refused(connection, "it is not URL-safe base64")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode(), parse_constant=_no_constants)
    except binascii.Error as error:
        raise _refused(connection, "it is not URL-safe base64") from error
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise _refused(connection, "it is not JSON") from error
    if not isinstance(values, list):
        raise _refused(connection, "it is not a list")
    return values


QUEUE_CURSOR = CursorSchema("queue", (TIMESTAMP, TIMESTAMP, IDENTIFIER))
"""queue: slaDueAt (its sort value), createdAt, id."""
DECISIONS_CURSOR = CursorSchema("decisions", (SEQUENCE,))
"""decisions: the decision's sequence in its workflow's chain."""
OVERRIDES_CURSOR = CursorSchema("overrides", (TIMESTAMP, IDENTIFIER))
"""overrides: createdAt, id."""

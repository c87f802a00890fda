"""Checkpoints: the signed tree head of a workflow's decision log, as a note's text.

The text follows C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint), the body of
a C2SP signed note (https://c2sp.org/signed-note): at least three non-empty lines, each
ending in a newline (U+000A), the last one included:

1. the origin, a non-empty name of the log (here the deployment and the workflow's
   key, `arbiter/loans`), without Unicode spaces or plus signs;
2. the tree size, in ASCII decimal without leading zeroes (`0` for the empty tree);
3. the RFC 6962 root hash at that size, in padded standard base64 (RFC 4648 section 4);
4. optional extension lines, opaque and non-empty.

A signed note holds no ASCII control character but newline, so a line with a carriage
return or a tab is malformed. Arbiter signs exactly these bytes (store.log_keys).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import InvalidInputError

HASH_SIZE = 32
"""Bytes in a SHA-256 root hash."""
MAX_TREE_SIZE = 2**63 - 1
"""The largest tree size a signed 64-bit column holds."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_LINE_FIELDS = ("origin", "tree_size", "root_hash")


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint note: whose log, how many leaves, the root over them."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def origin_for(deployment: str, workflow_key: str) -> str:
    """The origin line of a workflow's log: `<deployment>/<workflow key>`."""
    check_origin_part(deployment, "deployment")
    check_origin_part(workflow_key, "workflow_key")
    if "/" in workflow_key:
        raise InvalidInputError(
            f"workflow key {workflow_key!r} contains '/', which would make the origin ambiguous",
            "workflow_key",
        )
    return f"{deployment}/{workflow_key}"


def check_origin_part(part: str, field: str) -> None:
    """Raise InvalidInputError unless `part` may be a piece of an origin line:
    non-empty, without whitespace, control characters or '+' (a note's key names
    hold no '+', and the log's key name should be its origin)."""
    if not part:
        raise InvalidInputError(f"{field} is empty", field)
    for char in part:
        if char.isspace() or _is_control(char) or char == "+":
            raise InvalidInputError(
                f"{field} {part!r} contains {char!r}: no whitespace, control characters "
                "or '+' in an origin",
                field,
            )


def checkpoint_note(
    origin: str, tree_size: int, root_hash: bytes, extensions: Sequence[str] = ()
) -> bytes:
    """The checkpoint's note text, the exact bytes that are signed."""
    _check_line(origin, "origin")
    if isinstance(tree_size, bool) or not 0 <= tree_size <= MAX_TREE_SIZE:
        raise InvalidInputError(
            f"tree size {tree_size!r} is not between 0 and {MAX_TREE_SIZE}", "tree_size"
        )
    if len(root_hash) != HASH_SIZE:
        raise InvalidInputError(
            f"root hash is {len(root_hash)} bytes, not {HASH_SIZE}", "root_hash"
        )
    for extension in extensions:
        _check_line(extension, "extensions")
    lines = [origin, str(tree_size), base64.b64encode(root_hash).decode("ascii"), *extensions]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def parse_checkpoint_note(note: bytes) -> Checkpoint:
    """The checkpoint a note's text states; InvalidInputError naming the first fault."""
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"note is not valid UTF-8 ({error.reason})", "note") from error
    if not text.endswith("\n"):
        raise InvalidInputError("note is missing its final newline", "note")
    lines = text[:-1].split("\n")
    if len(lines) < len(_LINE_FIELDS):
        raise InvalidInputError(
            f"note has {len(lines)} lines, not at least 3 (origin, tree size, root hash)",
            "note",
        )
    for number, line in enumerate(lines):
        _check_line(line, _LINE_FIELDS[number] if number < len(_LINE_FIELDS) else "extensions")
    origin, size_line, hash_line, *extensions = lines
    return Checkpoint(origin, _tree_size(size_line), _root_hash(hash_line), tuple(extensions))


def _tree_size(line: str) -> int:
    if not _DECIMAL.fullmatch(line):
        raise InvalidInputError(
            f"tree size {line!r} is not a decimal number without leading zeroes", "tree_size"
        )
    if len(line) > len(str(MAX_TREE_SIZE)) or int(line) > MAX_TREE_SIZE:
        raise InvalidInputError(f"tree size {line} is above {MAX_TREE_SIZE}", "tree_size")
    return int(line)


def _root_hash(line: str) -> bytes:
    try:
        root = base64.b64decode(line.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as error:
        raise InvalidInputError(
            f"root hash {line!r} is not padded standard base64", "root_hash"
        ) from error
    if len(root) != HASH_SIZE:
        raise InvalidInputError(f"root hash is {len(root)} bytes, not {HASH_SIZE}", "root_hash")
    if base64.b64encode(root).decode("ascii") != line:
        # Unused low bits set: another text for the same hash, so another note.
        raise InvalidInputError(f"root hash {line!r} is not canonical base64", "root_hash")
    return root


def _check_line(line: str, field: str) -> None:
    label = field.replace("_", " ").removesuffix("s")
    if not line:
        raise InvalidInputError(f"{label} line is empty", field)
    for char in line:
        if char == "\r":
            raise InvalidInputError(f"{label} line contains a carriage return ('\\r')", field)
        if _is_control(char):
            raise InvalidInputError(f"{label} line contains control character {char!r}", field)


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"

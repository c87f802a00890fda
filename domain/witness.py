"""The witness's judgement of a log's checkpoints, as pure functions.

A witness keeps, for each workflow, the last checkpoint it has checked. Each time the
log serves a newer one, `judge` says whether to keep it: its signature must verify
against the pinned public key, its note (C2SP tlog-checkpoint) must state the served
tree size and root, its origin must name the workflow and never change, and it must
extend the kept one: a log that shrank, or that states another root at the same size,
or whose consistency proof (RFC 9162 section 2.1.4.2) does not verify, has forked.

`WitnessState` is what the witness remembers between passes (the pinned key and the
kept checkpoints), with its one JSON form. Nothing here does I/O: the `arbiter audit
witness` command fetches, verifies signatures and writes the state file.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from domain.checkpoints import parse_checkpoint_note
from domain.errors import InvalidInputError
from domain.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency

PUBLIC_KEY_SIZE = 32
"""Bytes in a raw Ed25519 public key."""
STATE_VERSION = 1
"""The version of the state file's JSON form."""
_HEX_HASH = re.compile(f"[0-9a-fA-F]{{{2 * HASH_SIZE}}}", re.ASCII)


@dataclass(frozen=True)
class ServedCheckpoint:
    """A checkpoint as the log serves it, fields as received (GraphQL `LogCheckpoint`)."""

    tree_size: int
    root_hash: str
    """Hex."""
    note: str
    signature: str
    """Standard base64 of the Ed25519 signature of `note`."""


@dataclass(frozen=True)
class KeptCheckpoint:
    """A checkpoint the witness has checked and keeps: the signed note and what it states."""

    origin: str
    tree_size: int
    root_hash: bytes
    note: str
    signature: str


class Failure(Enum):
    """What a log did wrong."""

    FORK = "FORK"
    """It does not extend what the witness kept: it shrank, changed its root or origin,
    or cannot prove that it grew only by appending."""
    BAD_SIGNATURE = "BAD SIGNATURE"
    """Its checkpoint is not signed by the pinned key."""
    BAD_CHECKPOINT = "BAD CHECKPOINT"
    """Its signed note is malformed, or states another size, root or workflow than served."""


@dataclass(frozen=True)
class Kept:
    """The served checkpoint holds: keep it (the first one seen, or a grown log)."""

    workflow: str
    checkpoint: KeptCheckpoint
    previous_size: int | None

    def line(self) -> str:
        """One line saying what was kept."""
        size = self.checkpoint.tree_size
        if self.previous_size is None:
            return f"kept    {self.workflow}: tree size {size} (first checkpoint seen)"
        return (
            f"kept    {self.workflow}: tree size {self.previous_size} -> {size}, "
            "consistency proof holds"
        )


@dataclass(frozen=True)
class Unchanged:
    """The log serves the kept tree again (same size, same root)."""

    workflow: str
    checkpoint: KeptCheckpoint

    def line(self) -> str:
        """One line saying nothing changed."""
        return f"same    {self.workflow}: tree size {self.checkpoint.tree_size}"


@dataclass(frozen=True)
class Failed:
    """The served checkpoint fails: keep nothing of it, and say so."""

    workflow: str
    failure: Failure
    kept_size: int | None
    served_size: int
    reason: str

    def line(self) -> str:
        """One line naming the workflow, the sizes and what failed."""
        kept = "nothing kept" if self.kept_size is None else f"kept tree size {self.kept_size}"
        return (
            f"{self.failure.value} {self.workflow}: {kept}, served tree size "
            f"{self.served_size}: {self.reason}"
        )


Verdict = Kept | Unchanged | Failed


def proof_range(kept: KeptCheckpoint | None, served_size: int) -> tuple[int, int] | None:
    """The (fromSize, toSize) of the consistency proof `judge` needs, or None when it
    needs none (nothing kept, the empty tree kept, or the log did not grow)."""
    if kept is None or kept.tree_size == 0 or served_size <= kept.tree_size:
        return None
    return kept.tree_size, served_size


def judge(
    workflow: str,
    kept: KeptCheckpoint | None,
    served: ServedCheckpoint,
    signature_valid: bool,
    proof: Sequence[str] | None = None,
) -> Verdict:
    """Whether to keep `served`, given the checkpoint kept for `workflow` (None before
    the first), whether its signature verified against the pinned key, and, when
    `proof_range` asks for one, the served consistency proof (hex; None if none came)."""
    kept_size = None if kept is None else kept.tree_size

    def failed(failure: Failure, reason: str) -> Failed:
        return Failed(workflow, failure, kept_size, served.tree_size, reason)

    if not signature_valid:
        return failed(Failure.BAD_SIGNATURE, "its signature does not verify with the pinned key")
    try:
        new = _read_served(workflow, served)
    except InvalidInputError as error:
        return failed(Failure.BAD_CHECKPOINT, error.message)
    if kept is None:
        return Kept(workflow, new, None)
    if new.origin != kept.origin:
        return failed(Failure.FORK, f"the origin changed from {kept.origin!r} to {new.origin!r}")
    if new.tree_size < kept.tree_size:
        return failed(Failure.FORK, "the log shrank")
    if new.tree_size == kept.tree_size:
        if new.root_hash != kept.root_hash:
            return failed(
                Failure.FORK,
                f"same size, different root ({kept.root_hash.hex()} kept, "
                f"{new.root_hash.hex()} served)",
            )
        return Unchanged(workflow, kept)
    if kept.tree_size == 0:
        return Kept(workflow, new, 0)  # every tree extends the empty one
    if proof is None:
        return failed(
            Failure.FORK,
            f"the log gave no consistency proof from {kept.tree_size} to {new.tree_size}",
        )
    hashes = _hashes(proof)
    if hashes is None or not verify_consistency(
        kept.tree_size, new.tree_size, kept.root_hash, new.root_hash, hashes
    ):
        return failed(
            Failure.FORK,
            f"the consistency proof from {kept.tree_size} to {new.tree_size} does not verify",
        )
    return Kept(workflow, new, kept.tree_size)


def decode_public_key(text: str) -> bytes:
    """The raw 32-byte Ed25519 public key `text` (standard base64) holds; InvalidInputError
    otherwise."""
    raw = _base64(text)
    if raw is None or len(raw) != PUBLIC_KEY_SIZE:
        raise InvalidInputError(
            f"public key {text!r} is not the {PUBLIC_KEY_SIZE} bytes of a raw Ed25519 key "
            "in standard base64",
            "public_key",
        )
    return raw


def same_key(pinned: str, served: str) -> bool:
    """Whether the served public key is the pinned one (compared as raw bytes; a served
    key that is not a key at all is not the pinned one)."""
    try:
        return decode_public_key(served) == decode_public_key(pinned)
    except InvalidInputError:
        return False


@dataclass
class WitnessState:
    """What the witness remembers: the pinned public key and the checkpoint kept per workflow."""

    public_key: str | None = None
    checkpoints: dict[str, KeptCheckpoint] = field(default_factory=dict)

    def to_json(self) -> str:
        """The state file's text."""
        document = {
            "version": STATE_VERSION,
            "publicKey": self.public_key,
            "checkpoints": {
                key: {
                    "treeSize": kept.tree_size,
                    "rootHash": kept.root_hash.hex(),
                    "note": kept.note,
                    "signature": kept.signature,
                }
                for key, kept in sorted(self.checkpoints.items())
            },
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> WitnessState:
        """The state a state file's text holds; InvalidInputError naming what is wrong.
        Each kept note is read again and must state its recorded size and root."""
        try:
            document = json.loads(text)
        except ValueError as error:
            raise InvalidInputError(f"not JSON ({error})", "state") from error
        if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
            raise InvalidInputError(f"not a witness state of version {STATE_VERSION}", "state")
        public_key = document.get("publicKey")
        if public_key is not None:
            if not isinstance(public_key, str):
                raise InvalidInputError("publicKey is not a string", "publicKey")
            decode_public_key(public_key)
        checkpoints = document.get("checkpoints")
        if not isinstance(checkpoints, dict):
            raise InvalidInputError("checkpoints is not an object", "checkpoints")
        kept: dict[str, KeptCheckpoint] = {}
        for workflow, entry in checkpoints.items():
            try:
                kept[workflow] = _read_served(workflow, _served_of(entry))
            except InvalidInputError as error:
                raise InvalidInputError(
                    f"the checkpoint kept for {workflow!r}: {error.message}", "checkpoints"
                ) from error
        if kept and public_key is None:
            raise InvalidInputError("checkpoints are kept but no publicKey", "publicKey")
        return cls(public_key, kept)


def _served_of(entry: object) -> ServedCheckpoint:
    if not isinstance(entry, dict):
        raise InvalidInputError("not an object", "checkpoints")
    size, root, note, signature = (
        entry.get(name) for name in ("treeSize", "rootHash", "note", "signature")
    )
    if isinstance(size, bool) or not isinstance(size, int):
        raise InvalidInputError("treeSize is not a whole number", "treeSize")
    for name, value in (("rootHash", root), ("note", note), ("signature", signature)):
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} is not a string", name)
    assert isinstance(root, str) and isinstance(note, str) and isinstance(signature, str)
    return ServedCheckpoint(size, root, note, signature)


def _read_served(workflow: str, served: ServedCheckpoint) -> KeptCheckpoint:
    """The checkpoint `served` is, once its note is read and agrees with its fields."""
    try:
        stated = parse_checkpoint_note(served.note.encode("utf-8"))
    except InvalidInputError as error:
        raise InvalidInputError(f"its note is malformed: {error.message}", "note") from error
    root = _hash(served.root_hash)
    if root is None:
        raise InvalidInputError(
            f"rootHash {served.root_hash!r} is not {HASH_SIZE} bytes of hex", "rootHash"
        )
    if stated.tree_size != served.tree_size:
        raise InvalidInputError(
            f"its note states tree size {stated.tree_size}, its treeSize is {served.tree_size}",
            "treeSize",
        )
    if stated.root_hash != root:
        raise InvalidInputError(
            f"its note states root {stated.root_hash.hex()}, its rootHash is {root.hex()}",
            "rootHash",
        )
    suffix = f"/{workflow}"
    if not stated.origin.endswith(suffix) or stated.origin == suffix:
        raise InvalidInputError(
            f"its origin {stated.origin!r} does not end with {suffix!r}", "origin"
        )
    if stated.tree_size == 0 and root != EMPTY_ROOT:
        raise InvalidInputError(
            f"it states an empty tree whose root is {root.hex()}, not the empty root",
            "rootHash",
        )
    return KeptCheckpoint(stated.origin, stated.tree_size, root, served.note, served.signature)


def _base64(text: str) -> bytes | None:
    """The bytes `text` spells in standard base64, or None."""
    if not text.isascii():
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def _hash(text: str) -> bytes | None:
    """The hash `text` spells in exactly 64 hex digits, or None."""
    return bytes.fromhex(text) if _HEX_HASH.fullmatch(text) else None


def _hashes(texts: Sequence[str]) -> list[bytes] | None:
    hashes = [_hash(text) for text in texts]
    return [h for h in hashes if h is not None] if None not in hashes else None

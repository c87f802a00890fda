"""Check an Arbiter evidence pack offline, without Arbiter and without trusting it.

Usage::

    python tools/verify_evidence.py PACK.json [--public-key BASE64]

This script imports only the Python standard library and `cryptography`; copy it
anywhere. It exits 0 and prints a short summary when every check holds, 1 naming
the first check that fails (one line on stderr, starting ``FAILED:``), and 2 when
the file cannot be read, is not JSON or does not have the shape of a pack, or the
command line is wrong (one line on stderr, starting ``error:``).

Pin the log's key: without ``--public-key`` the script checks the pack against
the key the pack itself carries, which proves the pack is consistent, not that
the log's operator signed it (anyone can sign a pack with a key of their own).

Evidence pack, format version 1
===============================

One JSON object (UTF-8) holding one item's decisions, each with the proof that
it is a leaf of the workflow's decision log under a signed checkpoint::

    {
      "format": "arbiter-evidence-pack/1",
      "exportedAt": "2026-12-04T05:00:00.000000Z",
      "log": {"origin": "arbiter/loans", "publicKey": "<base64, raw 32-byte Ed25519 key>"},
      "recommendation": {"id": "rec_...", "workflow": "loans", ...the item, as JSON...},
      "policy": {"version": 3, ...the escalation policy in force, as JSON...},
      "model": {"version": "v3", "metrics": {...}} or null when no model scored it,
      "checkpoint": {"treeSize": 12, "rootHash": "<hex>", "note": "<note text>",
                     "signature": "<base64>", "createdAt": "..."},
      "decisions": [{"id": "dec_...", "leafIndex": 4, "leaf": "<exact leaf text>",
                     "prevHash": "<hex>", "auditHash": "<hex>",
                     "auditPath": ["<hex>", ...]}]
    }

Hashes are SHA-256 in lowercase hex (64 characters); base64 is the padded standard
alphabet (RFC 4648 section 4). Fields not named here (``exportedAt``, ``createdAt``,
the rest of ``recommendation``, ``policy`` and ``model``) are for people and are not
checked.

The log. Each workflow's decisions are the leaves, in `seq` order, of an RFC 6962 /
RFC 9162 Merkle tree: leaf hash SHA-256(0x00 || leaf), interior node SHA-256(0x01 ||
left || right); the decision with `seq` n is leaf n - 1 (``leafIndex``).

The leaf is the UTF-8 text ``json.dumps(record, sort_keys=True, separators=(",",
":"), ensure_ascii=False)`` of an object with exactly the keys id, workflow_id, seq,
recommendation_id, verdict, automated, actor_id, proposed_action, final_action,
confidence (a string), tier, policy_version, reason, reason_tags, edited_content,
dwell_ms, reverts_id, created_at, model_version (a string or null), and ``"vote":
true`` on votes only.

The hash chain (version 1) is the same log's older seal: the chain record is the
leaf's object without model_version, serialised the same way, and ``auditHash =
sha256_hex(prevHash + chain record)``; the first decision's prevHash is 64 zeros.

The checkpoint is a C2SP tlog-checkpoint note: the lines "<origin>", "<tree size in
decimal>", "<root hash in base64>", then optional extension lines, each ending in
"\\n". ``signature`` is the plain 64-byte Ed25519 signature of the note's UTF-8 bytes.

What is checked, in this order (the first failure is reported):

1. ``format`` is ``arbiter-evidence-pack/1``; then the pack must have the shape above
   (every field named in it present with its JSON type, ``model`` present even when
   null), or the file is refused (exit 2);
2. ``log.publicKey`` is 32 bytes of base64, equal to ``--public-key`` when given;
3. ``checkpoint.signature`` is 64 bytes of base64 and verifies over the note;
4. the note is a well-formed checkpoint of ``log.origin`` at ``checkpoint.treeSize``
   with root ``checkpoint.rootHash``;
5. there is at least one decision, and for each, in the pack's order: its leafIndex
   is below the tree size and above the previous decision's (no duplicates); its
   leaf is a canonical leaf object with this ``id``, the pack's recommendation id,
   the workflow of the other leaves and ``seq == leafIndex + 1``; its auditPath
   proves the leaf under the root (RFC 9162 section 2.1.3.2); its prevHash and
   auditHash follow the chain rule (64 zeros before leaf 0, and the previous
   decision's auditHash when the two are neighbours in the log);
6. ``policy.version`` is the policy_version of the last decision's leaf; when
   ``model`` is not null its version is every leaf's model_version that is set,
   and when it is null no leaf names a model.

A pack cannot show that it holds *every* decision of its item: leaves it leaves
out are simply not checked.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "arbiter-evidence-pack/1"
GENESIS = "0" * 64
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
HASH_SIZE = 32
MAX_PATH_LENGTH = 64
"""An audit path has at most one entry per level of a tree of up to 2**64 leaves."""

# fmt: off
LEAF_KEYS = frozenset((
    "id", "workflow_id", "seq", "recommendation_id", "verdict", "automated", "actor_id",
    "proposed_action", "final_action", "confidence", "tier", "policy_version", "reason",
    "reason_tags", "edited_content", "dwell_ms", "reverts_id", "created_at", "model_version",
))
# fmt: on
"""The keys of every leaf; votes have one more, ``"vote": true``."""

_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")

EXIT_VERIFIED, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


class VerificationFailed(Exception):
    """A check does not hold: the pack is not evidence of what it claims (exit 1)."""


class MalformedPack(Exception):
    """The file cannot be read, is not JSON, or lacks the shape of a pack (exit 2)."""


@dataclass(frozen=True)
class Verified:
    """What a pack that passed every check showed."""

    recommendation_id: str
    leaf_indexes: tuple[int, ...]
    tree_size: int
    origin: str
    public_key: str
    pinned: bool


# -- RFC 6962 / RFC 9162 -----------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def interior_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_holds(
    leaf_index: int, tree_size: int, hash_of_leaf: bytes, path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step: does `path` take the leaf to `root`?"""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, hash_of_leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = interior_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn // 2, sn // 2
        else:
            r = interior_hash(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


# -- the shape of a pack (exit 2 when it is not) ----------------------------------------


@dataclass(frozen=True)
class Entry:
    """One decision of the pack, as written (nothing checked but its JSON types)."""

    where: str
    id: str
    leaf_index: int
    leaf: str
    prev_hash: str
    audit_hash: str
    audit_path: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    """The checked fields of a pack, as written (nothing checked but its JSON types)."""

    origin: str
    public_key: str
    tree_size: int
    root_hash: str
    note: str
    signature: str
    recommendation_id: str
    policy_version: int
    model: dict[str, Any] | None
    decisions: tuple[Entry, ...]


def parse_pack(value: Any) -> Pack:
    """The pack's fields; VerificationFailed for another format, MalformedPack for a bad shape."""
    top = _object(value, "the pack")
    if top.get("format") != FORMAT:
        _fail(f"format is {top.get('format')!r}, not {FORMAT!r}")
    log = _object(top.get("log"), "log")
    checkpoint = _object(top.get("checkpoint"), "checkpoint")
    if "model" not in top:
        raise MalformedPack("the pack has no model (null when no model scored the item)")
    model = top["model"]
    if model is not None:
        _string(_object(model, "model").get("version"), "model.version")
    return Pack(
        origin=_string(log.get("origin"), "log.origin"),
        public_key=_string(log.get("publicKey"), "log.publicKey"),
        tree_size=_integer(checkpoint.get("treeSize"), "checkpoint.treeSize"),
        root_hash=_string(checkpoint.get("rootHash"), "checkpoint.rootHash"),
        note=_string(checkpoint.get("note"), "checkpoint.note"),
        signature=_string(checkpoint.get("signature"), "checkpoint.signature"),
        recommendation_id=_string(
            _object(top.get("recommendation"), "recommendation").get("id"), "recommendation.id"
        ),
        policy_version=_integer(
            _object(top.get("policy"), "policy").get("version"), "policy.version"
        ),
        model=model,
        decisions=tuple(
            _parse_entry(entry, f"decisions[{number}]")
            for number, entry in enumerate(_array(top.get("decisions"), "decisions"))
        ),
    )


def _parse_entry(value: Any, where: str) -> Entry:
    entry = _object(value, where)
    return Entry(
        where=where,
        id=_string(entry.get("id"), f"{where}.id"),
        leaf_index=_integer(entry.get("leafIndex"), f"{where}.leafIndex"),
        leaf=_string(entry.get("leaf"), f"{where}.leaf"),
        prev_hash=_string(entry.get("prevHash"), f"{where}.prevHash"),
        audit_hash=_string(entry.get("auditHash"), f"{where}.auditHash"),
        audit_path=tuple(
            _string(item, f"{where}.auditPath[{number}]")
            for number, item in enumerate(_array(entry.get("auditPath"), f"{where}.auditPath"))
        ),
    )


# -- the checks (exit 1 at the first that fails) ---------------------------------------


def verify_pack(value: Any, pinned_key: str | None) -> Verified:
    """Run every check on a parsed JSON pack; VerificationFailed or MalformedPack at the
    first fault."""
    pack = parse_pack(value)
    public_key = _public_key(pack.public_key, pinned_key)
    root = _hex_hash(pack.root_hash, "checkpoint.rootHash")
    _check_signature(public_key, pack.note, pack.signature)
    _check_note(pack.note, pack.origin, pack.tree_size, root)
    if not pack.decisions:
        _fail("the pack holds no decisions")
    leaves: list[dict[str, Any]] = []
    previous: Entry | None = None
    for entry in pack.decisions:
        leaves.append(_check_decision(entry, pack, root, leaves[0] if leaves else None, previous))
        previous = entry
    _check_policy_and_model(pack, leaves)
    return Verified(
        pack.recommendation_id,
        tuple(entry.leaf_index for entry in pack.decisions),
        pack.tree_size,
        pack.origin,
        pack.public_key,
        pinned_key is not None,
    )


def _public_key(text: str, pinned_key: str | None) -> bytes:
    raw = _base64(text, "log.publicKey")
    if len(raw) != PUBLIC_KEY_SIZE:
        _fail(f"log.publicKey is {len(raw)} bytes, not a {PUBLIC_KEY_SIZE}-byte Ed25519 key")
    if pinned_key is not None and raw != pinned_key_bytes(pinned_key):
        _fail(
            "log.publicKey is not the key given with --public-key: "
            "the checkpoint was not signed by the log you trust"
        )
    return raw


def pinned_key_bytes(text: str) -> bytes:
    """The raw key --public-key names; MalformedPack (a usage error) when it is not one."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise MalformedPack(f"--public-key {text!r} is not padded standard base64") from None
    if len(raw) != PUBLIC_KEY_SIZE:
        raise MalformedPack(
            f"--public-key is {len(raw)} bytes, not a {PUBLIC_KEY_SIZE}-byte Ed25519 key"
        )
    return raw


def _check_signature(public_key: bytes, note: str, signature_text: str) -> None:
    signature = _base64(signature_text, "checkpoint.signature")
    if len(signature) != SIGNATURE_SIZE:
        _fail(f"checkpoint.signature is {len(signature)} bytes, not {SIGNATURE_SIZE}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, note.encode("utf-8"))
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        _fail("checkpoint.signature does not verify over checkpoint.note with log.publicKey")


def _check_note(note: str, origin: str, tree_size: int, root: bytes) -> None:
    if not note.endswith("\n"):
        _fail("checkpoint.note is missing its final newline")
    lines = note[:-1].split("\n")
    if len(lines) < 3:
        _fail(f"checkpoint.note has {len(lines)} lines, not at least 3 (origin, size, root)")
    for number, line in enumerate(lines, start=1):
        if not line:
            _fail(f"checkpoint.note line {number} is empty")
        if any(char < " " or char == "\x7f" for char in line):
            _fail(f"checkpoint.note line {number} holds a control character")
    origin_line, size_line, root_line = lines[:3]
    if origin_line != origin:
        _fail(f"checkpoint.note's origin {origin_line!r} is not log.origin {origin!r}")
    if not _DECIMAL.fullmatch(size_line):
        _fail(f"checkpoint.note's tree size {size_line!r} is not decimal without leading zeros")
    if int(size_line) != tree_size:
        _fail(f"checkpoint.note's tree size {size_line} is not checkpoint.treeSize {tree_size}")
    try:
        note_root = base64.b64decode(root_line.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        _fail(f"checkpoint.note's root hash {root_line!r} is not padded standard base64")
    if len(note_root) != HASH_SIZE or base64.b64encode(note_root).decode() != root_line:
        _fail(f"checkpoint.note's root hash {root_line!r} is not the base64 of 32 bytes")
    if note_root != root:
        _fail("checkpoint.note's root hash is not checkpoint.rootHash")


def _check_decision(
    entry: Entry,
    pack: Pack,
    root: bytes,
    first_leaf: dict[str, Any] | None,
    previous: Entry | None,
) -> dict[str, Any]:
    where = f"decision {entry.id} ({entry.where})"
    index = entry.leaf_index
    if index >= pack.tree_size:
        _fail(f"{where}: leafIndex {index} is not in a tree of {pack.tree_size} leaves")
    if previous is not None and index <= previous.leaf_index:
        _fail(
            f"{where}: leafIndex {index} does not come after the previous decision's "
            f"{previous.leaf_index} (decisions must be in increasing leafIndex order, once each)"
        )
    leaf = _leaf_object(entry.leaf, where)
    if leaf["id"] != entry.id:
        _fail(f"{where}: its leaf is decision {leaf['id']!r}")
    if leaf["recommendation_id"] != pack.recommendation_id:
        _fail(
            f"{where}: its leaf belongs to item {leaf['recommendation_id']!r}, "
            f"not to recommendation.id {pack.recommendation_id!r}"
        )
    if first_leaf is not None and leaf["workflow_id"] != first_leaf["workflow_id"]:
        _fail(
            f"{where}: its leaf is of workflow {leaf['workflow_id']!r}, "
            f"not {first_leaf['workflow_id']!r} like the first decision's"
        )
    if leaf["seq"] != index + 1:
        _fail(f"{where}: leafIndex {index} is not its leaf's seq {leaf['seq']} - 1")
    path = [_hex_hash(item, f"{where}: auditPath") for item in entry.audit_path]
    if len(path) > MAX_PATH_LENGTH or not inclusion_holds(
        index, pack.tree_size, leaf_hash(entry.leaf.encode("utf-8")), path, root
    ):
        _fail(
            f"{where}: inclusion proof fails: its leaf and auditPath do not lead to "
            "checkpoint.rootHash"
        )
    _check_chain(entry, leaf, previous, where)
    return leaf


def _leaf_object(text: str, where: str) -> dict[str, Any]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"{where}: its leaf is not Unicode text (it holds a lone surrogate)")
    try:
        leaf = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        _fail(f"{where}: its leaf is not JSON")
    if not isinstance(leaf, dict):
        _fail(f"{where}: its leaf is not a JSON object")
    if _canonical(leaf) != text:
        _fail(f"{where}: its leaf is not in canonical form (sorted keys, no spaces, UTF-8)")
    keys = set(leaf)
    missing, extra = LEAF_KEYS - keys, keys - LEAF_KEYS - {"vote"}
    if missing or extra:
        _fail(
            f"{where}: its leaf is not a version-1 leaf "
            f"(missing {sorted(missing)}, unexpected {sorted(extra)})"
        )
    if "vote" in leaf and leaf["vote"] is not True:
        _fail(f"{where}: its leaf's vote is {leaf['vote']!r}; it is recorded only as true")
    for key in ("id", "workflow_id", "recommendation_id"):
        if not isinstance(leaf[key], str):
            _fail(f"{where}: its leaf's {key} is not a string")
    for key in ("seq", "policy_version"):
        if not _is_integer(leaf[key]):
            _fail(f"{where}: its leaf's {key} is not an integer")
    if leaf["model_version"] is not None and not isinstance(leaf["model_version"], str):
        _fail(f"{where}: its leaf's model_version is neither a string nor null")
    return leaf


def _check_chain(entry: Entry, leaf: dict[str, Any], previous: Entry | None, where: str) -> None:
    if entry.leaf_index == 0 and entry.prev_hash != GENESIS:
        _fail(f"{where}: chain hash fails: the log's first prevHash is not 64 zeros")
    if (
        previous is not None
        and previous.leaf_index == entry.leaf_index - 1
        and entry.prev_hash != previous.audit_hash
    ):
        _fail(f"{where}: chain hash fails: prevHash is not the auditHash of the decision before")
    record = _canonical({key: value for key, value in leaf.items() if key != "model_version"})
    expected = hashlib.sha256((entry.prev_hash + record).encode("utf-8")).hexdigest()
    if entry.audit_hash != expected:
        _fail(f"{where}: chain hash fails: auditHash is not sha256(prevHash + chain record)")


def _check_policy_and_model(pack: Pack, leaves: list[dict[str, Any]]) -> None:
    last = leaves[-1]
    if pack.policy_version != last["policy_version"]:
        _fail(
            f"policy.version {pack.policy_version} is not the policy_version "
            f"{last['policy_version']} of the item's last decision {last['id']}"
        )
    named = [leaf for leaf in leaves if leaf["model_version"] is not None]
    if pack.model is None:
        if named:
            _fail(
                f"model is null but decision {named[0]['id']}'s leaf names model_version "
                f"{named[0]['model_version']!r}"
            )
        return
    model_version = pack.model["version"]
    for leaf in named:
        if leaf["model_version"] != model_version:
            _fail(
                f"model.version {model_version!r} is not decision {leaf['id']}'s leaf "
                f"model_version {leaf['model_version']!r}"
            )


# -- small readers ---------------------------------------------------------------------


def _canonical(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _fail(message: str) -> NoReturn:
    raise VerificationFailed(message)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPack(f"{what} is not a JSON object")
    return value


def _array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPack(f"{what} is not a JSON array")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedPack(f"{what} is not a string")
    return value


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integer(value: Any, what: str) -> int:
    if not _is_integer(value) or value < 0:
        raise MalformedPack(f"{what} is not a whole number of 0 or more")
    return int(value)


def _hex_hash(text: str, what: str) -> bytes:
    if not _HEX_HASH.fullmatch(text):
        _fail(f"{what} holds {text[:80]!r}, not a SHA-256 hash in 64 lowercase hex digits")
    return bytes.fromhex(text)


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        _fail(f"{what} is not padded standard base64")


def read_pack(path: Path) -> Any:
    """The JSON value in `path`; MalformedPack when it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MalformedPack(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise MalformedPack(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise MalformedPack(
            f"{path} is not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        raise MalformedPack(f"{path} is not JSON ({error})") from None


def summary(verified: Verified) -> str:
    """The lines printed for a pack that passed."""
    indexes = ", ".join(str(index) for index in verified.leaf_indexes)
    if verified.pinned:
        key = f"key: pinned by --public-key {verified.public_key}"
    else:
        key = (
            f"key: taken from the pack ({verified.public_key}), NOT pinned: this proves only "
            "that the pack is consistent with itself; pass --public-key with the log's "
            "published key"
        )
    return "\n".join(
        [
            f"verified: {FORMAT}",
            f"item: {verified.recommendation_id}",
            f"decisions verified: {len(verified.leaf_indexes)} (leafIndex {indexes})",
            f"tree size: {verified.tree_size}",
            f"origin: {verified.origin}",
            key,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="verify_evidence.py",
        description="Verify an Arbiter evidence pack (arbiter-evidence-pack/1) offline.",
    )
    parser.add_argument("pack", type=Path, help="the evidence pack, a JSON file")
    parser.add_argument(
        "--public-key",
        metavar="BASE64",
        help="the log's published Ed25519 public key (raw 32 bytes, standard base64)",
    )
    arguments = parser.parse_args(argv)
    try:
        if arguments.public_key is not None:
            pinned_key_bytes(arguments.public_key)
        pack = read_pack(arguments.pack)
        verified = verify_pack(pack, arguments.public_key)
    except MalformedPack as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except VerificationFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(verified))
    return EXIT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())

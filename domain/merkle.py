"""The RFC 6962 (RFC 9162) Merkle tree of a workflow's decision log, as pure functions.

Storage model: every *perfect* subtree is a node ``(level, index)`` covering the
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf
hashes. Once complete, a perfect node never changes, so the store writes each
one exactly once (`nodes_completed_by`) and every root and proof is a fold of
O(log n) stored nodes: this module says which nodes (``*_nodes``), the store
reads them in one query (the ``fetch`` callback), and this module folds them.
Nothing here rehashes the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from domain.errors import InvalidInputError

Node = tuple[int, int]
"""A perfect subtree: (level, index), covering leaves [index << level, (index + 1) << level)."""

Fetch = Callable[[list[Node]], dict[Node, bytes]]
"""Reads the stored hashes of the nodes asked for, all in one go."""

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 6962: the root of the empty tree."""


class MissingNodeError(LookupError):
    """The store did not return a node a proof needs: the stored tree is incomplete."""

    def __init__(self, node: Node) -> None:
        super().__init__(f"stored Merkle node (level {node[0]}, index {node[1]}) is missing")
        self.node = node


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the hash of one log entry."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def nodes_completed_by(leaf_index: int) -> list[Node]:
    """The perfect nodes that become complete when leaf `leaf_index` is appended.

    Level 0 first, then each ancestor in turn up to the highest one the leaf
    completes; the store writes exactly these on append.
    """
    _require(leaf_index >= 0, "leafIndex", "a leaf index is 0 or more")
    completed = [(0, leaf_index)]
    level, index = 0, leaf_index
    while index & 1:
        level, index = level + 1, index >> 1
        completed.append((level, index))
    return completed


def perfect_cover(start: int, end: int) -> list[Node]:
    """The perfect nodes, left to right, that make up the leaves [start, end).

    This is RFC 6962's split of a range into its largest perfect subtrees, so
    `range_hash` of their hashes is MTH(D[start:end]). Only ranges that MTH's
    recursion produces qualify: `start` must be a multiple of the smallest
    power of two >= end - start (every range of a root or proof is); any other
    range has a hash no combination of perfect nodes gives, and is refused.
    """
    _require(0 <= start < end, "range", f"[{start}, {end}) is not a non-empty range of leaves")
    size = end - start
    _require(
        start % (1 << (size - 1).bit_length()) == 0,
        "range",
        f"[{start}, {end}) is not a range of the RFC 6962 tree",
    )
    cover: list[Node] = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            cover.append((level, start >> level))
            start += 1 << level
    return cover


def range_hash(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its `perfect_cover`, folded right to left.

    MTH splits a range at the largest power of two below its size, which is
    exactly its first (largest) perfect node; so MTH = H(first, MTH(rest)).
    """
    _require(len(hashes) > 0, "hashes", "a range has at least one node")
    folded = hashes[-1]
    for left in reversed(hashes[:-1]):
        folded = node_hash(left, folded)
    return folded


def root_nodes(tree_size: int) -> list[Node]:
    """The perfect nodes whose fold is the root of the tree of `tree_size` leaves."""
    _require(tree_size >= 0, "treeSize", "a tree size is 0 or more")
    return perfect_cover(0, tree_size) if tree_size else []


def root(hashes: Sequence[bytes]) -> bytes:
    """The tree root from the hashes of its `root_nodes` (EMPTY_ROOT for none)."""
    return range_hash(hashes) if hashes else EMPTY_ROOT


def tree_root(tree_size: int, fetch: Fetch) -> bytes:
    """The root of the tree of `tree_size` leaves, from stored nodes read in one fetch."""
    nodes = root_nodes(tree_size)
    return root(_read(nodes, fetch)) if nodes else EMPTY_ROOT


def append_leaves(
    tree_size: int, peaks: dict[Node, bytes], leaf_hashes: Sequence[bytes]
) -> tuple[list[tuple[Node, bytes]], bytes]:
    """Append leaves to the tree of `tree_size` leaves whose `root_nodes` hash to `peaks`.

    Returns every perfect node the new leaves complete (each to be stored once, in
    order) and the root of the grown tree. Only the old tree's root nodes are needed:
    they are the only stored nodes a new one can have as its left child.
    """
    _require(set(peaks) >= set(root_nodes(tree_size)), "peaks", "a root node is missing")
    known = dict(peaks)
    written: list[tuple[Node, bytes]] = []
    for offset, hashed in enumerate(leaf_hashes):
        for level, index in nodes_completed_by(tree_size + offset):
            if level == 0:
                value = hashed
            else:
                value = node_hash(known[(level - 1, 2 * index)], known[(level - 1, 2 * index + 1)])
            known[(level, index)] = value
            written.append(((level, index), value))
    size = tree_size + len(leaf_hashes)
    return written, root([known[node] for node in root_nodes(size)])


def inclusion_proof_nodes(leaf_index: int, tree_size: int) -> list[list[Node]]:
    """For each entry of the RFC 6962 §2.1.1 audit path, leaf to root, the nodes it folds.

    Each entry is the MTH of a range: one node when the range is perfect, its
    `perfect_cover` otherwise. At most one entry is composite, and the path
    reads at most popcount(n) - 1 + floor(log2(n)) <= 2 * floor(log2(n)) nodes
    (n = tree_size; 30 at ten million leaves).
    """
    _require(tree_size >= 1, "treeSize", "an inclusion proof needs a tree of 1 leaf or more")
    _require(
        0 <= leaf_index < tree_size,
        "leafIndex",
        f"leaf {leaf_index} is not in a tree of {tree_size} leaves",
    )
    # PATH(m, D[start:end]) recurses into the half holding m; the other half is
    # the sibling, and siblings come out root first, so the path is reversed.
    siblings: list[list[Node]] = []
    start, end = 0, tree_size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if leaf_index < split:
            siblings.append(perfect_cover(split, end))
            end = split
        else:
            siblings.append(perfect_cover(start, split))
            start = split
    siblings.reverse()
    return siblings


def consistency_proof_nodes(old_size: int, new_size: int) -> list[list[Node]]:
    """For each entry of the RFC 6962 §2.1.2 consistency proof, in order, the nodes it folds.

    PROOF(m, D[n]) = SUBPROOF(m, D[n], true); m == n gives the empty proof.
    At most one node more than an inclusion proof in the tree of `new_size` reads.
    """
    _require(new_size >= 1, "toSize", "a consistency proof needs a tree of 1 leaf or more")
    _require(old_size >= 1, "fromSize", "a consistency proof starts from a tree of 1 leaf or more")
    _require(
        old_size <= new_size, "fromSize", f"tree size {old_size} is beyond tree size {new_size}"
    )
    siblings: list[list[Node]] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:
        size = end - start
        split = _largest_power_of_two_below(size)
        if m <= split:
            siblings.append(perfect_cover(start + split, end))
            end = start + split
        else:
            siblings.append(perfect_cover(start, start + split))
            start, m, whole = start + split, m - split, False
    # SUBPROOF(m, D[m], b) is {} when b (the old tree is the left edge of the
    # new one, so the verifier already holds it) and {MTH(D[m])} otherwise.
    proof = [] if whole else [perfect_cover(start, end)]
    return proof + siblings[::-1]


def inclusion_proof(leaf_index: int, tree_size: int, fetch: Fetch) -> list[bytes]:
    """The RFC 6962 audit path of leaf `leaf_index` in the tree of `tree_size` leaves."""
    return _fold_entries(inclusion_proof_nodes(leaf_index, tree_size), fetch)


def consistency_proof(old_size: int, new_size: int, fetch: Fetch) -> list[bytes]:
    """The RFC 6962 proof that the tree of `old_size` leaves is a prefix of that of `new_size`."""
    return _fold_entries(consistency_proof_nodes(old_size, new_size), fetch)


def verify_inclusion(
    leaf: bytes, leaf_index: int, tree_size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `path` prove leaf hash `leaf` at `leaf_index` under the root?"""
    if not 0 <= leaf_index < tree_size or not _all_hashes([leaf, expected_root, *path]):
        return False
    fn, sn, computed = leaf_index, tree_size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            fn, sn = _shift_while_even(fn, sn)
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and computed == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does `proof` show the tree of `old_size` leaves prefixes the new one?"""
    if not 1 <= old_size <= new_size or not _all_hashes([old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_computed = new_computed = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_computed = node_hash(c, old_computed)
            new_computed = node_hash(c, new_computed)
            fn, sn = _shift_while_even(fn, sn)
        else:
            new_computed = node_hash(new_computed, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old_computed == old_root and new_computed == new_root


def _fold_entries(entries: list[list[Node]], fetch: Fetch) -> list[bytes]:
    """Reads every node of every entry in one fetch, then folds each entry to its hash."""
    stored = _fetch_all([node for entry in entries for node in entry], fetch)
    return [range_hash([stored[node] for node in entry]) for entry in entries]


def _read(nodes: list[Node], fetch: Fetch) -> list[bytes]:
    stored = _fetch_all(nodes, fetch)
    return [stored[node] for node in nodes]


def _fetch_all(nodes: Iterable[Node], fetch: Fetch) -> dict[Node, bytes]:
    wanted = list(dict.fromkeys(nodes))
    if not wanted:
        return {}
    stored = fetch(wanted)
    for node in wanted:
        if node not in stored:
            raise MissingNodeError(node)
    return stored


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shifts both until fn is odd or 0 (RFC 9162's step for a left sibling)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _largest_power_of_two_below(size: int) -> int:
    """The k of RFC 6962: the largest power of two strictly smaller than `size` (>= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _all_hashes(values: Iterable[bytes]) -> bool:
    return all(len(value) == HASH_SIZE for value in values)


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise InvalidInputError(message, field=field)

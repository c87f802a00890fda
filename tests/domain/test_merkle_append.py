"""Appending leaves in batches builds the same tree as hashing all of it at once."""

from __future__ import annotations

import hashlib
import random

from domain.merkle import append_leaves, leaf_hash, node_hash, root_nodes


def reference_root(leaves: list[bytes]) -> bytes:
    # RFC 6962 section 2.1, transcribed: MTH of a list, split at the largest power of two below n.
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def test_appending_in_random_batches_gives_every_reference_root_and_stores_each_node_once():
    rng = random.Random(15)
    leaves = [f"leaf {i}".encode() for i in range(300)]
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    while size < len(leaves):
        batch = leaves[size : size + rng.randint(1, 17)]
        peaks = {node: stored[node] for node in root_nodes(size)}
        written, new_root = append_leaves(size, peaks, [leaf_hash(leaf) for leaf in batch])
        for node, value in written:
            assert node not in stored
            stored[node] = value
        size += len(batch)
        assert new_root == reference_root(leaves[:size])
    assert stored[(1, 0)] == node_hash(leaf_hash(leaves[0]), leaf_hash(leaves[1]))
    assert len(stored) == 2 * 300 - bin(300).count("1")

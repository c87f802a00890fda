"""The RFC 6962 Merkle tree of the decision log: domain/merkle.py.

Every proof is checked against `Reference`, a second implementation written in
this module from RFC 6962 §2.1 alone (its own hashing, recursive MTH, PATH and
PROOF/SUBPROOF), sharing no code with domain/merkle.py.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from functools import lru_cache

import pytest

from domain import merkle
from domain.errors import InvalidInputError
from domain.merkle import Node


class Reference:
    """RFC 6962 §2.1, transcribed: D[start:end] is a range of `leaves`."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.mth = lru_cache(maxsize=None)(self._mth)

    @staticmethod
    def split(n: int) -> int:
        """k: the largest power of two smaller than n."""
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(bytes([0]) + self.leaves[start]).digest()
        k = self.split(n)
        return hashlib.sha256(
            bytes([1]) + self.mth(start, start + k) + self.mth(start + k, end)
        ).digest()

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = self.split(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = self.split(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]


class Store:
    """A store-like table of perfect nodes, filled on append as the log's store will be."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.fetches: list[list[Node]] = []
        for index, leaf in enumerate(leaves):
            for level, at in merkle.nodes_completed_by(index):
                self.nodes[(level, at)] = (
                    merkle.leaf_hash(leaf)
                    if level == 0
                    else merkle.node_hash(
                        self.nodes[(level - 1, 2 * at)], self.nodes[(level - 1, 2 * at + 1)]
                    )
                )

    def fetch(self, wanted: list[Node]) -> dict[Node, bytes]:
        self.fetches.append(list(wanted))
        return {node: self.nodes[node] for node in wanted if node in self.nodes}


def make_leaves(count: int) -> list[bytes]:
    return [f"decision {i}".encode() for i in range(count)]


SMALL = 300
LEAVES = make_leaves(10_000)
REFERENCE = Reference(LEAVES)
STORE = Store(LEAVES)


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


# Test vectors from transparency-dev/merkle (Go, Apache 2.0), commit
# 417fb0c314750d94e53942e9f92e79b6d35915db: testonly/constants.go (LeafInputs,
# NodeHashes, RootHashes) and testdata/{inclusion,consistency}/*/happy-path.json
# (base64 there, hex here).
GO_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243"]] + [
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
GO_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
GO_NODES = {
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}
H = {
    h[:8]: h
    for h in [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    ]
}
"""The hashes the Go proofs use, by their first 4 bytes."""
GO_INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, [H["96a296d2"], H["5f083f0a"], H["6b47aaf2"]]),
    (5, 8, [H["bc1a0643"], H["ca854ea1"], H["d37ee418"]]),
    (2, 3, [H["fac54203"]]),
    (1, 5, [H["6e340b9c"], H["5f083f0a"], H["bc1a0643"]]),
]
GO_CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, [H["96a296d2"], H["5f083f0a"], H["6b47aaf2"]]),
    (6, 8, [H["0ebc5d34"], H["ca854ea1"], H["d37ee418"]]),
    (2, 5, [H["5f083f0a"], H["bc1a0643"]]),
    (6, 7, [H["0ebc5d34"], H["b08693ec"], H["d37ee418"]]),
]


def go_store() -> Store:
    return Store(GO_LEAVES)


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_hashes_follow_rfc_6962_domain_separation() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    left, right = b"l" * 32, b"r" * 32
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.EMPTY_ROOT.hex() == GO_ROOTS[0]


def test_roots_of_the_go_test_tree_match_its_published_root_hashes() -> None:
    store = go_store()
    for size, expected in enumerate(GO_ROOTS):
        assert merkle.tree_root(size, store.fetch).hex() == expected


def test_nodes_written_on_append_match_the_go_test_tree_node_hashes() -> None:
    store = go_store()
    for node, expected in GO_NODES.items():
        assert store.nodes[node].hex() == expected


def test_proofs_match_the_go_test_vectors_and_verify() -> None:
    store = go_store()
    roots = [bytes.fromhex(h) for h in GO_ROOTS]
    for index, size, path in GO_INCLUSION:
        proof = merkle.inclusion_proof(index, size, store.fetch)
        assert hexes(proof) == path
        assert merkle.verify_inclusion(
            merkle.leaf_hash(GO_LEAVES[index]), index, size, proof, roots[size]
        )
    for old, new, expected in GO_CONSISTENCY:
        proof = merkle.consistency_proof(old, new, store.fetch)
        assert hexes(proof) == expected
        assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)


def test_appending_a_leaf_completes_each_perfect_node_exactly_once_and_only_when_full() -> None:
    written: list[Node] = []
    for size in range(1, 130):
        written += merkle.nodes_completed_by(size - 1)
        complete = {
            (level, index) for level in range(size.bit_length()) for index in range(size >> level)
        }
        assert len(written) == len(set(written))
        assert set(written) == complete


def test_folding_a_cover_gives_the_mth_of_every_range_the_rfc_recursion_can_produce() -> None:
    checked = 0
    for start in range(64):
        for end in range(start + 1, 65):
            aligned = start % (1 << (end - start - 1).bit_length()) == 0
            if not aligned:
                with pytest.raises(InvalidInputError):
                    merkle.perfect_cover(start, end)
                continue
            cover = merkle.perfect_cover(start, end)
            spans = [(index << level, (index + 1) << level) for level, index in cover]
            assert spans[0][0] == start and spans[-1][1] == end
            assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
            hashes = [STORE.nodes[node] for node in cover]
            assert merkle.range_hash(hashes) == REFERENCE.mth(start, end)
            checked += 1
    assert checked >= 64  # at least every prefix [0, end), i.e. every root


def test_the_root_of_every_tree_up_to_300_leaves_is_the_reference_mth() -> None:
    for size in range(SMALL + 1):
        assert merkle.tree_root(size, STORE.fetch) == REFERENCE.mth(0, size)


def test_every_inclusion_proof_up_to_300_leaves_is_the_reference_path_and_verifies() -> None:
    for size in range(1, SMALL + 1):
        tree_root = REFERENCE.mth(0, size)
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, STORE.fetch)
            assert proof == REFERENCE.path(index, 0, size), (index, size)
            assert merkle.verify_inclusion(
                REFERENCE.mth(index, index + 1), index, size, proof, tree_root
            )


def consistency_pairs() -> list[tuple[int, int]]:
    rng = random.Random(6962)
    pairs = [(m, n) for n in range(1, SMALL + 1) for m in range(1, n + 1)]
    for _ in range(400):
        m, n = sorted(rng.sample(range(1, len(LEAVES) + 1), 2))
        pairs.append((m, n))
    return pairs


def test_every_consistency_proof_to_300_leaves_and_400_to_10k_are_the_reference_and_verify() -> (
    None
):
    for m, n in consistency_pairs():
        proof = merkle.consistency_proof(m, n, STORE.fetch)
        assert proof == REFERENCE.proof(m, n), (m, n)
        assert merkle.verify_consistency(m, n, REFERENCE.mth(0, m), REFERENCE.mth(0, n), proof)


def test_inclusion_proofs_in_large_trees_are_the_reference_paths() -> None:
    rng = random.Random(9162)
    for _ in range(400):
        size = rng.randint(1, len(LEAVES))
        index = rng.randrange(size)
        proof = merkle.inclusion_proof(index, size, STORE.fetch)
        assert proof == REFERENCE.path(index, 0, size), (index, size)


def tamperings_of(proof: list[bytes]) -> list[list[bytes]]:
    changed = [[*proof[:i], flipped(p), *proof[i + 1 :]] for i, p in enumerate(proof)]
    return [*changed, proof[:-1], [*proof, proof[-1]], proof[::-1]]


def test_the_inclusion_verifier_rejects_tampered_paths_indexes_sizes_and_roots() -> None:
    for index, size in [(0, 2), (5, 8), (6, 7), (12, 13), (100, 257), (33, 300)]:
        proof = merkle.inclusion_proof(index, size, STORE.fetch)
        leaf, tree_root = REFERENCE.mth(index, index + 1), REFERENCE.mth(0, size)
        assert merkle.verify_inclusion(leaf, index, size, proof, tree_root)
        for bad in tamperings_of(proof):
            if bad != proof:
                assert not merkle.verify_inclusion(leaf, index, size, bad, tree_root)
        assert not merkle.verify_inclusion(flipped(leaf), index, size, proof, tree_root)
        assert not merkle.verify_inclusion(leaf, index ^ 1, size, proof, tree_root)
        assert not merkle.verify_inclusion(leaf, index, size + 1, proof, REFERENCE.mth(0, size + 1))
        assert not merkle.verify_inclusion(leaf, index, size * 2, proof, tree_root)
        assert not merkle.verify_inclusion(leaf, index, size, proof, flipped(tree_root))
        assert not merkle.verify_inclusion(leaf, size, size, proof, tree_root)
    assert not merkle.verify_inclusion(b"not a hash", 0, 1, [], b"not a hash")


def test_the_consistency_verifier_rejects_tampered_proofs_sizes_and_roots() -> None:
    for m, n in [(1, 2), (3, 4), (6, 8), (7, 300), (64, 65), (100, 257)]:
        proof = merkle.consistency_proof(m, n, STORE.fetch)
        old, new = REFERENCE.mth(0, m), REFERENCE.mth(0, n)
        assert merkle.verify_consistency(m, n, old, new, proof)
        for bad in tamperings_of(proof):
            if bad != proof:
                assert not merkle.verify_consistency(m, n, old, new, bad)
        assert not merkle.verify_consistency(m, n, flipped(old), new, proof)
        assert not merkle.verify_consistency(m, n, old, flipped(new), proof)
        assert not merkle.verify_consistency(m + 1, n, REFERENCE.mth(0, m + 1), new, proof)
        assert not merkle.verify_consistency(m, n + 1, old, REFERENCE.mth(0, n + 1), proof)
        assert not merkle.verify_consistency(n, m, new, old, proof)
        assert not merkle.verify_consistency(m, n * 2, old, new, proof)
        assert not merkle.verify_consistency(m, n, old, new, [])
    root = REFERENCE.mth(0, 5)
    assert merkle.verify_consistency(5, 5, root, root, [])
    assert not merkle.verify_consistency(5, 5, root, root, [root])
    assert not merkle.verify_consistency(5, 5, root, flipped(root), [])


def node_bound(n: int) -> int:
    """popcount(n) - 1 + floor(log2 n): the most nodes an inclusion proof reads."""
    return n.bit_count() - 1 + n.bit_length() - 1


def test_a_proof_reads_at_most_popcount_n_plus_log2_n_nodes_and_the_bound_is_reached() -> None:
    # Why: the path takes right turns into the remainder while its range is not
    # perfect (one perfect sibling per set bit of n it drops), then at most once
    # turns left into a perfect half 2**j with a composite sibling, the rest r of
    # the range (popcount(r) nodes; the right turns and r share n's set bits
    # but one), then j perfect siblings inside the half: popcount(n) - 1 + j.
    # A consistency proof may add its one SUBPROOF base node.
    reached_inclusion = reached_consistency = 0
    for n in range(1, SMALL + 1):
        for index in range(n):
            entries = merkle.inclusion_proof_nodes(index, n)
            assert sum(map(len, entries)) <= node_bound(n), (index, n)
            assert sum(len(entry) > 1 for entry in entries) <= 1
            reached_inclusion += sum(map(len, entries)) == node_bound(n)
        for m in range(1, n + 1):
            entries = merkle.consistency_proof_nodes(m, n)
            assert sum(map(len, entries)) <= node_bound(n) + 1, (m, n)
            reached_consistency += sum(map(len, entries)) == node_bound(n) + 1
    assert reached_inclusion > 0 and reached_consistency > 0
    assert node_bound(10_000_000) <= 2 * math.floor(math.log2(10_000_000))


def test_a_proof_asks_the_store_once_for_exactly_the_nodes_it_folds() -> None:
    rng = random.Random(15)
    for _ in range(200):
        n = rng.randint(2, len(LEAVES))
        index, m = rng.randrange(n), rng.randint(1, n - 1)
        for nodes, prove, first in [
            (merkle.inclusion_proof_nodes(index, n), merkle.inclusion_proof, index),
            (merkle.consistency_proof_nodes(m, n), merkle.consistency_proof, m),
        ]:
            STORE.fetches.clear()
            prove(first, n, STORE.fetch)
            assert len(STORE.fetches) == 1
            assert sorted(STORE.fetches[0]) == sorted(node for entry in nodes for node in entry)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: merkle.inclusion_proof_nodes(5, 5), "leafIndex"),
        (lambda: merkle.inclusion_proof_nodes(-1, 5), "leafIndex"),
        (lambda: merkle.inclusion_proof_nodes(0, 0), "treeSize"),
        (lambda: merkle.consistency_proof_nodes(6, 5), "fromSize"),
        (lambda: merkle.consistency_proof_nodes(0, 5), "fromSize"),
        (lambda: merkle.consistency_proof_nodes(0, 0), "toSize"),
        (lambda: merkle.root_nodes(-1), "treeSize"),
        (lambda: merkle.nodes_completed_by(-1), "leafIndex"),
        (lambda: merkle.perfect_cover(3, 3), "range"),
    ],
)
def test_impossible_sizes_are_refused_naming_the_field(call, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as refused:
        call()
    assert refused.value.field == field


def test_a_consistency_proof_between_equal_sizes_is_empty() -> None:
    assert merkle.consistency_proof_nodes(7, 7) == []
    assert merkle.consistency_proof(7, 7, STORE.fetch) == []


def test_a_node_missing_from_the_store_is_an_error_not_a_wrong_proof() -> None:
    partial = Store(make_leaves(8))
    del partial.nodes[(1, 1)]
    with pytest.raises(merkle.MissingNodeError) as missing:
        merkle.inclusion_proof(0, 8, partial.fetch)
    assert missing.value.node == (1, 1)

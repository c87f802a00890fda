"""The witness's judgement: a checkpoint is kept when it is signed, states what it is
served as, names its workflow and extends the kept one; a log that shrank, changed its
root or origin, or cannot prove it only grew has forked. Trees are real RFC 6962 trees."""

from __future__ import annotations

import base64

import pytest

from domain.checkpoints import checkpoint_note
from domain.errors import InvalidInputError
from domain.merkle import EMPTY_ROOT, Node, consistency_proof, leaf_hash, node_hash, tree_root
from domain.witness import (
    Failed,
    Failure,
    Kept,
    KeptCheckpoint,
    ServedCheckpoint,
    Unchanged,
    WitnessState,
    decode_public_key,
    judge,
    proof_range,
    same_key,
)

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


def mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 6962 section 2.1, transcribed independently of domain.merkle."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:split]), mth(leaves[split:]))


class Log:
    """A log's leaves and the checkpoints and proofs it serves."""

    def __init__(self, leaves: list[bytes], origin: str = "arbiter/loans") -> None:
        self.leaves = leaves
        self.origin = origin

    def fetch(self, nodes: list[Node]) -> dict[Node, bytes]:
        return {
            (level, index): mth(self.leaves[index << level : (index + 1) << level])
            for level, index in nodes
        }

    def root(self, size: int) -> bytes:
        return tree_root(size, self.fetch)

    def served(self, size: int | None = None) -> ServedCheckpoint:
        size = len(self.leaves) if size is None else size
        note = checkpoint_note(self.origin, size, self.root(size)).decode()
        return ServedCheckpoint(size, self.root(size).hex(), note, "c2lnbmF0dXJl")

    def proof(self, old_size: int, new_size: int | None = None) -> list[str]:
        new_size = len(self.leaves) if new_size is None else new_size
        return [h.hex() for h in consistency_proof(old_size, new_size, self.fetch)]


def leaves(count: int, tag: str = "d") -> list[bytes]:
    return [f'{{"{tag}":{i}}}'.encode() for i in range(count)]


def keep(log: Log, size: int | None = None, workflow: str = "loans") -> KeptCheckpoint:
    verdict = judge(workflow, None, log.served(size), signature_valid=True)
    assert isinstance(verdict, Kept), verdict
    return verdict.checkpoint


def assert_failed(verdict: object, failure: Failure, *words: str) -> Failed:
    assert isinstance(verdict, Failed), verdict
    assert verdict.failure is failure, verdict
    for word in words:
        assert word in verdict.reason, verdict.reason
    return verdict


def test_the_first_checkpoint_seen_is_kept_with_what_its_note_states():
    log = Log(leaves(5))
    verdict = judge("loans", None, log.served(), signature_valid=True)
    assert verdict == Kept(
        "loans",
        KeptCheckpoint("arbiter/loans", 5, log.root(5), log.served().note, "c2lnbmF0dXJl"),
        None,
    )
    assert verdict.line() == "kept    loans: tree size 5 (first checkpoint seen)"


@pytest.mark.parametrize(("old", "new"), [(1, 2), (3, 7), (4, 8), (5, 6), (7, 64), (8, 300)])
def test_a_log_that_grew_by_appending_is_kept_when_its_consistency_proof_holds(old: int, new: int):
    log = Log(leaves(new))
    kept = keep(log, old)
    assert proof_range(kept, new) == (old, new)
    verdict = judge("loans", kept, log.served(), True, log.proof(old))
    assert isinstance(verdict, Kept)
    assert (verdict.checkpoint.tree_size, verdict.checkpoint.root_hash) == (new, log.root(new))
    assert verdict.line() == f"kept    loans: tree size {old} -> {new}, consistency proof holds"


def test_the_same_tree_served_again_is_unchanged_and_needs_no_proof():
    log = Log(leaves(6))
    kept = keep(log)
    assert proof_range(kept, 6) is None
    assert judge("loans", kept, log.served(), True) == Unchanged("loans", kept)


def test_a_log_that_shrank_has_forked():
    log = Log(leaves(9))
    kept = keep(log)
    verdict = assert_failed(judge("loans", kept, log.served(7), True), Failure.FORK, "shrank")
    assert verdict.line() == ("FORK loans: kept tree size 9, served tree size 7: the log shrank")


def test_another_root_at_the_same_size_has_forked():
    kept = keep(Log(leaves(6)))
    rewritten = Log([*leaves(5), b"rewritten"])
    assert_failed(
        judge("loans", kept, rewritten.served(), True),
        Failure.FORK,
        "same size, different root",
        kept.root_hash.hex(),
    )


def test_a_grown_log_whose_history_was_rewritten_cannot_prove_it_and_has_forked():
    kept = keep(Log(leaves(5)))
    rewritten = Log([b"rewritten", *leaves(9)[1:]])
    verdict = judge("loans", kept, rewritten.served(), True, rewritten.proof(5))
    assert_failed(verdict, Failure.FORK, "consistency proof from 5 to 9 does not verify")


def test_a_proof_for_other_sizes_or_a_missing_or_garbled_proof_is_a_fork():
    log = Log(leaves(12))
    kept = keep(log, 5)
    for proof in (None, [], log.proof(6), log.proof(5)[:-1], ["zz" * 32], ["ab" * 31]):
        assert_failed(judge("loans", kept, log.served(), True, proof), Failure.FORK, "5 to 12")


def test_a_bad_signature_fails_before_anything_else_and_keeps_nothing():
    log = Log(leaves(3))
    verdict = judge("loans", None, log.served(), signature_valid=False)
    assert_failed(verdict, Failure.BAD_SIGNATURE, "pinned key")
    assert verdict.line().startswith("BAD SIGNATURE loans: nothing kept, served tree size 3: ")


def test_a_note_that_states_another_size_or_root_than_served_is_a_bad_checkpoint():
    log = Log(leaves(4))
    served = log.served()
    other_root = log.root(3).hex()
    cases = [
        (ServedCheckpoint(5, served.root_hash, served.note, served.signature), "tree size 4"),
        (ServedCheckpoint(4, other_root, served.note, served.signature), "states root"),
        (ServedCheckpoint(4, "not hex", served.note, served.signature), "rootHash"),
        (ServedCheckpoint(4, served.root_hash, "arbiter/loans\n4\n", ""), "malformed"),
    ]
    for bad, words in cases:
        assert_failed(judge("loans", None, bad, True), Failure.BAD_CHECKPOINT, words)


@pytest.mark.parametrize("origin", ["arbiter/kyc", "loans", "/loans", "arbiter/myloans"])
def test_an_origin_that_does_not_name_the_workflow_is_a_bad_checkpoint(origin: str):
    served = Log(leaves(2), origin=origin).served()
    assert_failed(judge("loans", None, served, True), Failure.BAD_CHECKPOINT, "origin")


def test_an_origin_that_changes_is_a_fork_even_for_the_same_tree():
    log = Log(leaves(4))
    kept = keep(log)
    moved = Log(leaves(4), origin="elsewhere/loans")
    assert_failed(judge("loans", kept, moved.served(), True), Failure.FORK, "origin changed")


def test_any_tree_extends_a_kept_empty_tree_but_an_empty_tree_has_the_empty_root():
    log = Log(leaves(3))
    empty = keep(log, 0)
    assert proof_range(empty, 3) is None
    assert judge("loans", empty, log.served(), True) == Kept("loans", keep(log), 0)
    note = checkpoint_note("arbiter/loans", 0, log.root(3)).decode()
    lying = ServedCheckpoint(0, log.root(3).hex(), note, "")
    assert_failed(judge("loans", None, lying, True), Failure.BAD_CHECKPOINT, "empty root")


def test_the_state_reads_back_as_it_was_written():
    kyc = keep(Log(leaves(2), "arbiter/kyc"), workflow="kyc")
    state = WitnessState(KEY, {"loans": keep(Log(leaves(7))), "kyc": kyc})
    assert WitnessState.from_json(state.to_json()) == state
    assert WitnessState.from_json(WitnessState().to_json()) == WitnessState()


def test_a_state_whose_kept_note_disagrees_with_its_fields_is_refused():
    state = WitnessState(KEY, {"loans": keep(Log(leaves(7)))})
    text = state.to_json().replace('"treeSize": 7', '"treeSize": 8')
    with pytest.raises(InvalidInputError, match=r"kept for 'loans'.*tree size 7"):
        WitnessState.from_json(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not JSON"),
        ("[]", "not a witness state"),
        ('{"version": 2, "checkpoints": {}}', "not a witness state of version 1"),
        ('{"version": 1, "publicKey": "AAAA", "checkpoints": {}}', "not the 32 bytes"),
        ('{"version": 1, "checkpoints": []}', "checkpoints is not an object"),
        ('{"version": 1, "checkpoints": {"loans": {"treeSize": "1"}}}', "treeSize"),
    ],
)
def test_a_state_file_that_is_not_a_witness_state_says_what_is_wrong(text: str, words: str):
    with pytest.raises(InvalidInputError, match=words):
        WitnessState.from_json(text)


def test_kept_checkpoints_without_a_pinned_key_are_refused():
    text = WitnessState(KEY, {"loans": keep(Log(leaves(1)))}).to_json()
    with pytest.raises(InvalidInputError, match="no publicKey"):
        WitnessState.from_json(text.replace(f'"{KEY}"', "null"))


def test_public_keys_are_32_raw_bytes_in_base64_and_compared_as_bytes():
    assert decode_public_key(KEY) == bytes(range(32))
    for bad in ("not base64!", base64.b64encode(b"short").decode(), "é"):
        with pytest.raises(InvalidInputError):
            decode_public_key(bad)
    assert same_key(KEY, KEY)
    assert not same_key(KEY, OTHER_KEY)
    assert not same_key(KEY, "garbage")

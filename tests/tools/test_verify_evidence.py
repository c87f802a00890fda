"""tools/verify_evidence.py, run as a third party would: a subprocess in a scratch folder,
in isolated mode (no project on its path), on packs built here from a real log.

The log is made with Arbiter's own pieces (domain.audit seals the chain, domain.merkle
stores the tree's nodes and folds its proofs, domain.checkpoints writes the note, and
store.log_keys signs it), which share no code with the script it checks.
"""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain import merkle
from domain.audit import GENESIS, canonical, seal
from domain.checkpoints import checkpoint_note
from domain.decisions import Decision
from domain.enums import Tier, Verdict
from domain.merkle import Node
from store.log_keys import LogSigner
from tests.domain.builders import create_decision

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_evidence.py"
ORIGIN = "arbiter/loans"
ITEM = "rec_item"
TREE_SIZE = 13
ITEM_SEQS = (3, 4, 12)
"""The item's decisions: leaves 2 and 3 are neighbours in the log, leaf 11 is not."""


def leaf_text(decision: Decision, model_version: str | None) -> str:
    """The decision's leaf: its version-1 chain record plus model_version."""
    record = json.loads(canonical(decision))
    record["model_version"] = model_version
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def item_decision(number: int) -> Decision:
    """The item's three decisions: two votes under policy 2, then a senior's adjudication
    under policy 3 (with a reason that is not ASCII, as the leaf keeps it)."""
    if number == 3:
        return create_decision(number, recommendation_id=ITEM, vote=True, policy_version=2)
    if number == 4:
        return create_decision(
            number,
            recommendation_id=ITEM,
            vote=True,
            policy_version=2,
            verdict=Verdict.REJECT,
            final_action=None,
            actor_id="usr_analyst_2",
        )
    return create_decision(
        number,
        recommendation_id=ITEM,
        verdict=Verdict.OVERRIDE,
        final_action="escalate",
        actor_id="usr_senior",
        tier=Tier.SENIOR_REVIEW,
        policy_version=3,
        reason="revenu déclaré ≠ relevé — à vérifier",
        reason_tags=["income"],
    )


@dataclass
class Log:
    """A workflow's log of TREE_SIZE decisions and the real key that signs its checkpoint."""

    key: Ed25519PrivateKey
    decisions: list[Decision]
    leaves: list[str]
    nodes: dict[Node, bytes]

    def fetch(self, wanted: list[Node]) -> dict[Node, bytes]:
        return {node: self.nodes[node] for node in wanted}

    @property
    def signer(self) -> LogSigner:
        return LogSigner(self.key)

    @property
    def public_key(self) -> str:
        return self.signer.public_key_base64()

    def root(self) -> bytes:
        return merkle.tree_root(TREE_SIZE, self.fetch)

    def pack(self) -> dict[str, Any]:
        """A good evidence pack of ITEM at TREE_SIZE."""
        note = checkpoint_note(ORIGIN, TREE_SIZE, self.root())
        return {
            "format": "arbiter-evidence-pack/1",
            "exportedAt": "2026-12-04T05:00:00.000000Z",
            "log": {"origin": ORIGIN, "publicKey": self.public_key},
            "recommendation": {"id": ITEM, "workflow": "loans", "payload": {"amount": 120}},
            "policy": {"version": 3, "autoApprove": 0.9},
            "model": {"version": "v3", "metrics": {"accuracy": 0.85}},
            "checkpoint": {
                "treeSize": TREE_SIZE,
                "rootHash": self.root().hex(),
                "note": note.decode(),
                "signature": base64.b64encode(self.signer.sign(note)).decode(),
                "createdAt": "2026-12-04T04:59:00.000000Z",
            },
            "decisions": [
                {
                    "id": self.decisions[seq - 1].id,
                    "leafIndex": seq - 1,
                    "leaf": self.leaves[seq - 1],
                    "prevHash": self.decisions[seq - 1].prev_hash,
                    "auditHash": self.decisions[seq - 1].audit_hash,
                    "auditPath": [
                        node.hex()
                        for node in merkle.inclusion_proof(seq - 1, TREE_SIZE, self.fetch)
                    ],
                }
                for seq in ITEM_SEQS
            ],
        }


def build_log() -> Log:
    decisions: list[Decision] = []
    leaves: list[str] = []
    seq, head = 0, GENESIS
    for number in range(1, TREE_SIZE + 1):
        if number in ITEM_SEQS:
            decision, model_version = item_decision(number), "v3"
        else:
            decision, model_version = create_decision(number), None
        decision = seal(decision, seq, head)
        seq, head = decision.seq, decision.audit_hash
        decisions.append(decision)
        leaves.append(leaf_text(decision, model_version))
    nodes = store_nodes([leaf.encode() for leaf in leaves])
    return Log(Ed25519PrivateKey.generate(), decisions, leaves, nodes)


@pytest.fixture(scope="module")
def log() -> Log:
    return build_log()


@dataclass
class Ran:
    status: int
    out: str
    err: str


def run(tmp_path: Path, pack: Any, *args: str) -> Ran:
    """Write `pack` (JSON, or text as is) to a file and verify it in a scratch folder."""
    path = tmp_path / "pack.json"
    path.write_text(pack if isinstance(pack, str) else json.dumps(pack), encoding="utf-8")
    return run_script(tmp_path, str(path), *args)


def run_script(cwd: Path, *args: str) -> Ran:
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def assert_fails(ran: Ran, *hints: str) -> None:
    """Exit 1, and one line on stderr naming the failure."""
    assert ran.status == 1, (ran.status, ran.out, ran.err)
    assert ran.out == ""
    lines = ran.err.splitlines()
    assert len(lines) == 1, ran.err
    assert lines[0].startswith("FAILED: "), ran.err
    for hint in hints:
        assert hint in lines[0], ran.err


def assert_refused(ran: Ran, *hints: str) -> None:
    """Exit 2, and one line on stderr saying what is wrong with the file or command."""
    assert ran.status == 2, (ran.status, ran.out, ran.err)
    lines = ran.err.splitlines()
    assert len(lines) == 1, ran.err
    for hint in hints:
        assert hint in lines[0], ran.err


def resign(pack: dict[str, Any], note: str, key: Ed25519PrivateKey) -> None:
    pack["checkpoint"]["note"] = note
    pack["checkpoint"]["signature"] = base64.b64encode(key.sign(note.encode())).decode()


def flip_hex(text: str) -> str:
    """The same hash with its last hex digit changed."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


FORGED_ROOT = hashlib.sha256(b"another log").digest()


def forge(pack: dict[str, Any], signed_by: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """`pack` with a checkpoint at the same size over another root, signed by `signed_by`
    (None keeps the old signature)."""
    note = checkpoint_note(ORIGIN, TREE_SIZE, FORGED_ROOT).decode()
    pack["checkpoint"]["rootHash"] = FORGED_ROOT.hex()
    if signed_by is None:
        pack["checkpoint"]["note"] = note
    else:
        resign(pack, note, signed_by)
    return pack


def publish(pack: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """`pack` carrying `key`'s public half as the log's key."""
    pack["log"]["publicKey"] = LogSigner(key).public_key_base64()
    return pack


def store_nodes(leaves: list[bytes]) -> dict[Node, bytes]:
    """Every perfect node of the tree of `leaves`, written on append as the store does."""
    nodes: dict[Node, bytes] = {}
    for index, leaf in enumerate(leaves):
        for level, at in merkle.nodes_completed_by(index):
            nodes[(level, at)] = (
                merkle.leaf_hash(leaf)
                if level == 0
                else merkle.node_hash(nodes[(level - 1, 2 * at)], nodes[(level - 1, 2 * at + 1)])
            )
    return nodes


# -- a good pack ---------------------------------------------------------------------------


def test_a_good_pack_with_the_pinned_key_is_verified_and_summarised(log: Log, tmp_path: Path):
    ran = run(tmp_path, log.pack(), "--public-key", log.public_key)
    assert ran.status == 0, ran.err
    assert ran.err == ""
    lines = ran.out.splitlines()
    assert lines[0] == "verified: arbiter-evidence-pack/1"
    assert f"item: {ITEM}" in lines
    assert "decisions verified: 3 (leafIndex 2, 3, 11)" in lines
    assert f"tree size: {TREE_SIZE}" in lines
    assert f"origin: {ORIGIN}" in lines
    assert f"key: pinned by --public-key {log.public_key}" in lines


def test_without_a_pinned_key_the_summary_says_the_pack_only_vouches_for_itself(
    log: Log, tmp_path: Path
):
    ran = run(tmp_path, log.pack())
    assert ran.status == 0, ran.err
    assert "taken from the pack" in ran.out
    assert "NOT pinned" in ran.out
    assert "--public-key" in ran.out


def test_the_packs_own_proofs_also_satisfy_arbiters_verifier(log: Log):
    pack = log.pack()
    root = bytes.fromhex(pack["checkpoint"]["rootHash"])
    for decision in pack["decisions"]:
        assert merkle.verify_inclusion(
            merkle.leaf_hash(decision["leaf"].encode()),
            decision["leafIndex"],
            TREE_SIZE,
            [bytes.fromhex(node) for node in decision["auditPath"]],
            root,
        )


# -- tampering -----------------------------------------------------------------------------


def test_a_leaf_with_one_character_changed_fails_its_inclusion_proof(log: Log, tmp_path: Path):
    pack = log.pack()
    leaf = pack["decisions"][1]["leaf"]
    assert '"verdict":"REJECT"' in leaf
    pack["decisions"][1]["leaf"] = leaf.replace('"verdict":"REJECT"', '"verdict":"REJECt"')
    assert_fails(run(tmp_path, pack), "dec_4", "inclusion proof fails")


def test_a_leaf_not_in_canonical_form_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][0]["leaf"] = json.dumps(json.loads(pack["decisions"][0]["leaf"]))
    assert_fails(run(tmp_path, pack), "dec_3", "canonical form")


def test_a_leaf_that_is_not_a_json_object_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][0]["leaf"] = pack["decisions"][0]["leaf"][:-1]
    assert_fails(run(tmp_path, pack), "dec_3", "not JSON")


def test_a_leaf_holding_a_lone_surrogate_fails_in_one_line(log: Log, tmp_path: Path):
    pack = log.pack()
    leaf = pack["decisions"][0]["leaf"]
    pack["decisions"][0]["leaf"] = leaf.replace("looks fine", "looks \ud800fine")
    assert_fails(run(tmp_path, json.dumps(pack)), "dec_3", "lone surrogate")


def test_a_tampered_audit_path_fails_the_inclusion_proof(log: Log, tmp_path: Path):
    pack = log.pack()
    path = pack["decisions"][2]["auditPath"]
    path[1] = flip_hex(path[1])
    assert_fails(run(tmp_path, pack), "dec_12", "inclusion proof fails")


def test_an_audit_path_with_an_entry_too_many_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][2]["auditPath"].append(hashlib.sha256(b"x").hexdigest())
    assert_fails(run(tmp_path, pack), "dec_12", "inclusion proof fails")


def test_a_wrong_leaf_index_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][1]["leafIndex"] = 4
    assert_fails(run(tmp_path, pack), "dec_4", "leafIndex 4", "seq 4")


def test_a_leaf_index_beyond_the_tree_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][2]["leafIndex"] = TREE_SIZE
    assert_fails(run(tmp_path, pack), "dec_12", f"not in a tree of {TREE_SIZE} leaves")


def test_a_swapped_pair_of_decisions_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    decisions = pack["decisions"]
    decisions[0], decisions[1] = decisions[1], decisions[0]
    assert_fails(run(tmp_path, pack), "dec_3", "increasing leafIndex order")


def test_a_decision_given_twice_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"].insert(1, copy.deepcopy(pack["decisions"][0]))
    assert_fails(run(tmp_path, pack), "dec_3", "increasing leafIndex order")


def test_a_pack_without_decisions_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"] = []
    assert_fails(run(tmp_path, pack), "no decisions")


def test_a_decision_whose_id_is_not_its_leafs_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][0]["id"] = "dec_99"
    assert_fails(run(tmp_path, pack), "dec_99", "its leaf is decision 'dec_3'")


# -- a forged checkpoint -----------------------------------------------------------------


def test_a_forged_root_signed_with_another_key_fails_against_the_pinned_key(
    log: Log, tmp_path: Path
):
    forger = Ed25519PrivateKey.generate()
    pack = publish(forge(log.pack(), signed_by=forger), forger)
    assert_fails(
        run(tmp_path, pack, "--public-key", log.public_key), "not the key given with --public-key"
    )


def test_a_forged_root_signed_with_another_key_fails_its_signature_under_the_logs_key(
    log: Log, tmp_path: Path
):
    pack = forge(log.pack(), signed_by=Ed25519PrivateKey.generate())
    assert_fails(run(tmp_path, pack, "--public-key", log.public_key), "signature does not verify")


def test_a_forged_root_without_a_new_signature_fails(log: Log, tmp_path: Path):
    assert_fails(run(tmp_path, forge(log.pack())), "signature does not verify")


def test_a_root_hash_that_is_not_the_notes_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["checkpoint"]["rootHash"] = flip_hex(pack["checkpoint"]["rootHash"])
    assert_fails(run(tmp_path, pack), "root hash is not checkpoint.rootHash")


def test_a_forger_who_signs_with_their_own_unpinned_key_still_needs_the_real_leaves_root(
    log: Log, tmp_path: Path
):
    forger = Ed25519PrivateKey.generate()
    pack = publish(forge(log.pack(), signed_by=forger), forger)
    assert_fails(run(tmp_path, pack), "dec_3", "inclusion proof fails")


def test_a_tree_size_that_is_not_the_notes_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["checkpoint"]["treeSize"] = TREE_SIZE + 1
    assert_fails(run(tmp_path, pack), f"tree size {TREE_SIZE} is not checkpoint.treeSize")


def test_a_wrong_origin_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["log"]["origin"] = "arbiter/claims"
    assert_fails(run(tmp_path, pack), "origin 'arbiter/loans' is not log.origin")


def test_a_note_without_its_final_newline_fails_even_when_signed(log: Log, tmp_path: Path):
    pack = log.pack()
    note = pack["checkpoint"]["note"]
    resign(pack, note.removesuffix("\n"), log.key)
    assert_fails(run(tmp_path, pack), "missing its final newline")


@pytest.mark.parametrize(
    ("note", "hint"),
    [
        (f"{ORIGIN}\n{TREE_SIZE}\n", "not at least 3"),
        (f"{ORIGIN}\n0{TREE_SIZE}\nROOT\n", "without leading zeros"),
        (f"{ORIGIN}\n{TREE_SIZE}\nROOT\n\n", "line 4 is empty"),
        (f"{ORIGIN}\n{TREE_SIZE}\nROOT\r\n", "control character"),
        (f"{ORIGIN}\n{TREE_SIZE}\nnot base64!\n", "not padded standard base64"),
        (f"{ORIGIN}\n{TREE_SIZE}\nAAAA\n", "not the base64 of 32 bytes"),
    ],
)
def test_a_signed_note_that_is_not_a_well_formed_checkpoint_fails(
    log: Log, tmp_path: Path, note: str, hint: str
):
    pack = log.pack()
    root = base64.b64encode(log.root()).decode()
    resign(pack, note.replace("ROOT", root), log.key)
    assert_fails(run(tmp_path, pack), hint)


def test_a_short_signature_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    signature = base64.b64decode(pack["checkpoint"]["signature"])
    pack["checkpoint"]["signature"] = base64.b64encode(signature[:63]).decode()
    assert_fails(run(tmp_path, pack), "63 bytes, not 64")


def test_a_public_key_that_is_not_32_bytes_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["log"]["publicKey"] = base64.b64encode(b"k" * 31).decode()
    assert_fails(run(tmp_path, pack), "31 bytes")


# -- the wrong item, chain, policy or model -------------------------------------------


def test_a_pack_of_another_item_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["recommendation"]["id"] = "rec_someone_else"
    assert_fails(run(tmp_path, pack), "dec_3", "'rec_item'", "'rec_someone_else'")


def test_a_decision_of_another_item_slipped_in_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    other = log.pack()["decisions"][0]
    other.update(
        id="dec_5",
        leafIndex=4,
        leaf=log.leaves[4],
        prevHash=log.decisions[4].prev_hash,
        auditHash=log.decisions[4].audit_hash,
        auditPath=[node.hex() for node in merkle.inclusion_proof(4, TREE_SIZE, log.fetch)],
    )
    pack["decisions"].insert(2, other)
    assert_fails(run(tmp_path, pack), "dec_5", "belongs to item 'rec_5'")


def test_a_broken_audit_hash_fails_the_chain(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][2]["auditHash"] = flip_hex(pack["decisions"][2]["auditHash"])
    assert_fails(run(tmp_path, pack), "dec_12", "chain hash fails", "auditHash")


def test_a_broken_previous_hash_fails_the_chain(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["decisions"][0]["prevHash"] = flip_hex(pack["decisions"][0]["prevHash"])
    assert_fails(run(tmp_path, pack), "dec_3", "chain hash fails")


def test_a_chain_that_does_not_link_two_neighbouring_decisions_fails(log: Log, tmp_path: Path):
    """Leaves 2 and 3 are neighbours: 3's prevHash must be 2's auditHash, even when 3's own
    auditHash is recomputed to fit a made-up prevHash."""
    pack = log.pack()
    decision = pack["decisions"][1]
    record = json.loads(decision["leaf"])
    del record["model_version"]
    made_up = hashlib.sha256(b"made up").hexdigest()
    chain_record = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    decision["prevHash"] = made_up
    decision["auditHash"] = hashlib.sha256((made_up + chain_record).encode()).hexdigest()
    assert_fails(run(tmp_path, pack), "dec_4", "not the auditHash of the decision before")


def test_a_policy_version_that_is_not_the_last_decisions_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["policy"]["version"] = 2
    assert_fails(run(tmp_path, pack), "policy.version 2", "policy_version 3", "dec_12")


def test_a_model_version_that_is_not_the_leaves_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["model"]["version"] = "v2"
    assert_fails(run(tmp_path, pack), "model.version 'v2'", "'v3'")


def test_no_model_while_the_leaves_name_one_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["model"] = None
    assert_fails(run(tmp_path, pack), "model is null", "'v3'")


def test_another_format_fails(log: Log, tmp_path: Path):
    pack = log.pack()
    pack["format"] = "arbiter-evidence-pack/2"
    assert_fails(run(tmp_path, pack), "arbiter-evidence-pack/2")


# -- unreadable files and usage ----------------------------------------------------------


def test_a_malformed_json_file_is_refused_with_exit_2(log: Log, tmp_path: Path):
    text = json.dumps(log.pack())
    assert_refused(run(tmp_path, text[:-1]), "error: ", "is not JSON")


def test_a_missing_file_is_refused_with_exit_2(tmp_path: Path):
    assert_refused(run_script(tmp_path, str(tmp_path / "absent.json")), "error: cannot read")


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        (lambda pack: pack.pop("decisions"), "decisions is not a JSON array"),
        (lambda pack: pack["checkpoint"].update(treeSize="13"), "checkpoint.treeSize"),
        (lambda pack: pack.pop("model"), "no model"),
        (lambda pack: pack["decisions"][1].pop("auditPath"), "decisions[1].auditPath"),
    ],
)
def test_a_pack_without_the_shape_of_one_is_refused_with_exit_2(
    log: Log, tmp_path: Path, change: Callable[[dict[str, Any]], object], hint: str
):
    pack = log.pack()
    change(pack)
    assert_refused(run(tmp_path, pack), "error: ", hint)


def test_a_public_key_option_that_is_not_a_key_is_a_usage_error(log: Log, tmp_path: Path):
    assert_refused(run(tmp_path, log.pack(), "--public-key", "not-a-key"), "error: --public-key")


def test_no_pack_argument_is_a_usage_error(tmp_path: Path):
    assert run_script(tmp_path).status == 2


# -- standalone ----------------------------------------------------------------------------


def test_the_script_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            assert node.module is not None
            imported.add(node.module)
    assert imported, "no imports found: the parse is wrong"
    foreign = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "cryptography"
    }
    assert foreign == set()
    assert any(name.startswith("cryptography") for name in imported)


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_evidence", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def test_the_scripts_inclusion_check_agrees_with_arbiters_for_every_small_tree():
    """Every leaf of every tree up to 40 leaves: the true path holds, and the same path
    with one entry changed, dropped, or at the neighbouring index does not."""
    script = load_script()
    leaves = [f"leaf {number}".encode() for number in range(40)]
    nodes = store_nodes(leaves)

    def fetch(wanted: list[Node]) -> dict[Node, bytes]:
        return {node: nodes[node] for node in wanted}

    for size in range(1, len(leaves) + 1):
        root = merkle.tree_root(size, fetch)
        for index in range(size):
            path = merkle.inclusion_proof(index, size, fetch)
            hashed = merkle.leaf_hash(leaves[index])
            assert script.inclusion_holds(index, size, hashed, path, root)
            wrong_paths = [path[:-1], [*path, root]] + [
                [*path[:at], hashlib.sha256(p).digest(), *path[at + 1 :]]
                for at, p in enumerate(path)
            ]
            for wrong in (wrong for wrong in wrong_paths if wrong != path):
                assert not script.inclusion_holds(index, size, hashed, wrong, root)
                assert not merkle.verify_inclusion(hashed, index, size, wrong, root)
            for other in (index - 1, index + 1):
                if 0 <= other < size:
                    expected = merkle.verify_inclusion(hashed, other, size, path, root)
                    assert script.inclusion_holds(other, size, hashed, path, root) is expected

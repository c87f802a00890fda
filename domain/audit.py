"""The decision log's hash chain.

Each workflow's decisions form one chain, ordered by `seq`: a record's
auditHash is sha256(previous auditHash + canonical serialisation of the
record). Editing, deleting or reordering any record breaks every hash from it
on, and `verify_chain` names the first record that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from domain.clock import as_utc
from domain.model import Decision

GENESIS = "0" * 64


def canonical(decision: Decision) -> str:
    """Every recorded field, in a fixed order and format; `undone` is derived, not recorded."""
    return _dumps(_record(decision))


def leaf_text(decision: Decision) -> str:
    """The decision's leaf in its workflow's Merkle tree: the chain's canonical record
    plus the version of the model that proposed the item (null when none did).

    The leaf of a sealed decision is `canonical` with one key more, so that anyone
    holding a leaf can recompute the version 1 chain hash from it.
    """
    return _leaf_of(_record(decision), decision)


def _leaf_of(record: dict[str, object], decision: Decision) -> str:
    """The leaf text: the chain's record, with the model version added."""
    record["model_version"] = decision.model_version
    return _dumps(record)


def chain_record_of_leaf(leaf: str) -> str:
    """The version 1 chain record (`canonical`) a leaf holds: the leaf without its model version."""
    record = json.loads(leaf)
    record.pop("model_version", None)
    return _dumps(record)


def _dumps(record: dict[str, object]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record(decision: Decision) -> dict[str, object]:
    created_at = as_utc(decision.created_at)
    assert created_at is not None
    record: dict[str, object] = {
        "id": decision.id,
        "workflow_id": decision.workflow_id,
        "seq": decision.seq,
        "recommendation_id": decision.recommendation_id,
        "verdict": decision.verdict.value,
        "automated": decision.automated,
        "actor_id": decision.actor_id,
        "proposed_action": decision.proposed_action,
        "final_action": decision.final_action,
        "confidence": repr(float(decision.confidence)),
        "tier": decision.tier.value,
        "policy_version": decision.policy_version,
        "reason": decision.reason,
        "reason_tags": list(decision.reason_tags),
        "edited_content": decision.edited_content,
        "dwell_ms": decision.dwell_ms,
        "reverts_id": decision.reverts_id,
        "created_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    if decision.vote:
        # Recorded only on votes, so that every record written before votes hashes the same.
        record["vote"] = True
    return record


def chain_hash(prev_hash: str, decision: Decision) -> str:
    return _chained(prev_hash, canonical(decision))


def _chained(prev_hash: str, record_text: str) -> str:
    return hashlib.sha256((prev_hash + record_text).encode()).hexdigest()


def seal(decision: Decision, prev_seq: int, prev_hash: str) -> Decision:
    """Give a new record its place in the chain (after seq `prev_seq` with hash `prev_hash`)."""
    decision.seq = prev_seq + 1
    decision.prev_hash = prev_hash
    # One record serves both texts (`canonical`, then `leaf_text`): sealing a batch of
    # hundreds builds each record once.
    record = _record(decision)
    decision.audit_hash = _chained(prev_hash, _dumps(record))
    decision.leaf = _leaf_of(record, decision)
    return decision


@dataclass(frozen=True)
class ChainBreak:
    decision_id: str
    seq: int
    problem: str


class ChainVerifier:
    """Checks one workflow's decisions fed in stored `seq` order, one at a time."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS
        self.expected_seq = 1
        self.last_id = ""

    def feed(self, decision: Decision) -> ChainBreak | None:
        self.last_id = decision.id
        if decision.seq != self.expected_seq:
            return ChainBreak(
                decision.id,
                decision.seq,
                f"expected record number {self.expected_seq}, found {decision.seq} "
                "(a record was deleted or reordered)",
            )
        if decision.prev_hash != self.expected_prev:
            return ChainBreak(
                decision.id, decision.seq, "its previous hash does not match the record before it"
            )
        if chain_hash(self.expected_prev, decision) != decision.audit_hash:
            return ChainBreak(
                decision.id, decision.seq, "its contents do not match its hash (edited)"
            )
        self.expected_prev = decision.audit_hash
        self.expected_seq += 1
        return None

    def finish(self, head_seq: int, head_hash: str) -> ChainBreak | None:
        """Compare the end of the log with the chain head kept beside it."""
        last_seq = self.expected_seq - 1
        if last_seq != head_seq or self.expected_prev != head_hash:
            return ChainBreak(
                self.last_id,
                last_seq,
                f"the log ends at record {last_seq} but the chain head says {head_seq} "
                "(records at the end were deleted or replaced)",
            )
        return None


def verify_chain(decisions: Iterable[Decision], head_seq: int, head_hash: str) -> ChainBreak | None:
    """Check one workflow's decisions in stored `seq` order; None when the chain holds.

    `head_seq` and `head_hash` are the chain head kept beside the log, so that a
    deleted last record is noticed too.
    """
    verifier = ChainVerifier()
    for decision in decisions:
        problem = verifier.feed(decision)
        if problem is not None:
            return problem
    return verifier.finish(head_seq, head_hash)

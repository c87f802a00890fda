"""The decision log's lines, and the overrides experts explain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.enums import Tier, Verdict


@dataclass
class Decision:
    """One line of the decision log. Sealed into the hash chain when appended."""

    id: str
    workflow_id: str
    recommendation_id: str
    verdict: Verdict
    automated: bool
    actor_id: str | None
    proposed_action: str
    final_action: str | None
    confidence: float
    tier: Tier
    policy_version: int
    created_at: datetime
    reason: str | None = None
    reason_tags: list[str] = field(default_factory=list)
    edited_content: str | None = None
    dwell_ms: int | None = None
    reverts_id: str | None = None
    # One review among several; the item's outcome is their consensus.
    vote: bool = False
    # The version of the model that proposed the item: in the Merkle leaf, not the chain.
    model_version: str | None = None
    seq: int = 0
    prev_hash: str = ""
    audit_hash: str = ""
    leaf: str = ""
    """The exact canonical bytes (UTF-8 JSON) of its leaf in the workflow's Merkle tree;
    set when it is sealed (domain.audit.seal)."""
    undone: bool = False

    @property
    def leaf_index(self) -> int:
        """Its 0-based index in the workflow's Merkle tree (`seq` is 1-based)."""
        return self.seq - 1


@dataclass
class Override:
    id: str
    workflow_id: str
    recommendation_id: str
    decision_id: str
    proposed_action: str
    chosen_action: str
    confidence: float
    reason: str
    reviewer_id: str
    created_at: datetime
    theme: str | None = None

"""LogCheckpoint and InclusionProof."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.schema.common.types import Info
from api.schema.decisions.types import Decision
from api.schema.workflows.types import Workflow, load_workflow
from store.log_tree import Checkpoint


@strawberry.type(name="LogCheckpoint")
class LogCheckpoint:
    """A signed tree head of a workflow's decision log."""

    tree_size: int = strawberry.field(description="Decisions the tree holds.")
    root_hash: str = strawberry.field(
        description="Hex RFC 6962 Merkle tree root over the log's leaves in sequence order."
    )
    note: str = strawberry.field(
        description='The signed text, C2SP tlog-checkpoint: "<origin>\\n<treeSize>\\n'
        '<base64 root>\\n", the origin being "<deployment>/<workflow key>".'
    )
    signature: str = strawberry.field(
        description="Base64 64-byte Ed25519 signature of `note` by the key of logPublicKey."
    )
    created_at: datetime
    _workflow_id: strawberry.Private[str]

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return await load_workflow(info, self._workflow_id)

    @classmethod
    def from_domain(cls, checkpoint: Checkpoint) -> LogCheckpoint:
        return cls(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash.hex(),
            note=checkpoint.note,
            signature=checkpoint.signature,
            created_at=checkpoint.created_at,
            _workflow_id=checkpoint.workflow_id,
        )


@strawberry.type(name="InclusionProof")
class InclusionProof:
    """That a decision's leaf is in its workflow's tree at `treeSize`."""

    decision: Decision
    leaf_index: int
    tree_size: int
    audit_path: list[str] = strawberry.field(
        description="Hex sibling hashes, leaf to root (RFC 6962 section 2.1.1)."
    )
    checkpoint: LogCheckpoint = strawberry.field(
        description="The signed tree head at `treeSize` that the path leads to."
    )

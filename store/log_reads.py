"""Reading the verifiable log: tree sizes, stored nodes, checkpoints, and the proofs
folded from them (each proof reads its nodes in one statement)."""

from __future__ import annotations

import sqlalchemy as sa

from domain import merkle
from domain.decisions import Decision
from domain.errors import InvalidInputError
from store.log_tree import Checkpoint, checkpoint_of_row
from store.queries import Reads
from store.tables import DecisionRow, decisions_t, log_checkpoints_t, log_nodes_t, workflows_t


class LogReads(Reads):
    """The log's trees and checkpoints; callers check who may see what."""

    @classmethod
    def over(cls, model: Reads) -> LogReads:
        return cls(model.session, model._lock)

    async def tree_size(self, workflow_id: str) -> int:
        """How many decisions the workflow's tree holds (its sealed decisions)."""
        result = await self._execute(
            sa.select(workflows_t.c.chain_seq).where(workflows_t.c.id == workflow_id)
        )
        return int(result.scalar_one_or_none() or 0)

    async def sealed_decision(self, decision_id: str) -> Decision | None:
        """A decision of the log, by id (None for an unknown or still unsealed one)."""
        rows = await self._rows(sa.select(DecisionRow).where(decisions_t.c.id == decision_id))
        return rows[0].to_domain() if rows else None

    async def checkpoint(self, workflow_id: str, tree_size: int | None = None) -> Checkpoint | None:
        """The stored checkpoint at this size (the latest one without a size)."""
        c = log_checkpoints_t.c
        query = sa.select(log_checkpoints_t).where(c.workflow_id == workflow_id)
        if tree_size is None:
            query = query.order_by(c.tree_size.desc()).limit(1)
        else:
            query = query.where(c.tree_size == tree_size)
        row = (await self._execute(query)).first()
        return None if row is None else checkpoint_of_row(row)

    async def root(self, workflow_id: str, tree_size: int) -> bytes:
        """The root of the workflow's tree at `tree_size`, from its stored root nodes."""
        nodes = await self._nodes(workflow_id, merkle.root_nodes(tree_size))
        return merkle.tree_root(tree_size, lambda wanted: nodes)

    async def inclusion_proof(
        self, workflow_id: str, leaf_index: int, tree_size: int
    ) -> list[bytes]:
        """The RFC 6962 audit path of a leaf at a size the tree has reached."""
        await self._require_reached(workflow_id, tree_size, "treeSize")
        entries = merkle.inclusion_proof_nodes(leaf_index, tree_size)
        nodes = await self._nodes(workflow_id, [n for entry in entries for n in entry])
        return merkle.inclusion_proof(leaf_index, tree_size, lambda wanted: nodes)

    async def consistency_proof(
        self, workflow_id: str, old_size: int, new_size: int
    ) -> list[bytes]:
        """The RFC 6962 consistency proof between two sizes the tree has reached."""
        await self._require_reached(workflow_id, new_size, "toSize")
        entries = merkle.consistency_proof_nodes(old_size, new_size)
        nodes = await self._nodes(workflow_id, [n for entry in entries for n in entry])
        return merkle.consistency_proof(old_size, new_size, lambda asked: nodes)

    async def _require_reached(self, workflow_id: str, size: int, field: str) -> None:
        reached = await self.tree_size(workflow_id)
        if size > reached:
            raise InvalidInputError(
                f"{field} {size} is beyond the log, which holds {reached} decisions", field
            )

    async def _nodes(self, workflow_id: str, nodes: list[merkle.Node]) -> dict[merkle.Node, bytes]:
        wanted = sorted(set(nodes))
        if not wanted:
            return {}
        c = log_nodes_t.c
        # One primary-key probe per wanted node, in one statement (cached per count). SQLite
        # never probes the key with `(level, idx) IN (VALUES ...)` (nor, unanalysed, with an
        # OR of five pairs or more): it scans all the workflow's nodes, O(n).
        probes = [
            sa.select(c.level, c.idx, c.hash).where(
                c.workflow_id == workflow_id, c.level == level, c.idx == idx
            )
            for level, idx in wanted
        ]
        result = await self._execute(sa.union_all(*probes) if len(probes) > 1 else probes[0])
        return {(row.level, row.idx): bytes(row.hash) for row in result}

"""logPublicKey, logCheckpoint, inclusionProof, consistencyProof."""

from __future__ import annotations

import strawberry

from api.schema.common.problems import PublicError
from api.schema.common.types import Info
from api.schema.decisions.types import Decision
from api.schema.log.types import InclusionProof, LogCheckpoint
from domain.clock import utcnow
from domain.errors import InvalidInputError
from domain.model import Workflow
from store.log_reads import LogReads
from store.log_tree import Checkpoint, Signing

NO_KEY = (
    "this deployment has no log signing key: set ARBITER_LOG_SIGNING_KEY_FILE "
    "(`arbiter keys create` makes one)"
)


def _signing(info: Info) -> Signing:
    signing = info.context.services.signing
    if signing is None:
        raise PublicError(NO_KEY, "UNAVAILABLE")
    return signing


async def _workflow(info: Info, key: str) -> Workflow:
    ctx = info.context
    found = await (await ctx.reads()).workflow_by_key(key)
    if found is None:
        raise PublicError(f"no workflow with key {key!r}", "NOT_FOUND")
    if found.id in await ctx.hidden_workflows():
        raise PublicError(f"workflow {key!r} is reviewed by teams you are not in", "FORBIDDEN")
    return found


async def _checkpoint_at(
    info: Info, reads: LogReads, workflow: Workflow, size: int, stored: Checkpoint | None
) -> Checkpoint:
    """The checkpoint at `size`: the stored one, else one signed now (a tree head the
    append-only log has reached may be signed at any time)."""
    if stored is not None and stored.tree_size == size:
        return stored
    root = await reads.root(workflow.id, size)
    return _signing(info).checkpoint(workflow.id, workflow.key, size, root, utcnow())


@strawberry.type
class LogQueries:
    @strawberry.field(
        description="Base64 raw Ed25519 public key that signs every checkpoint of this deployment."
    )
    def log_public_key(self, info: Info) -> str:
        return _signing(info).signer.public_key_base64()

    @strawberry.field(
        description="The workflow's latest signed checkpoint; null while its log is empty."
    )
    async def log_checkpoint(self, info: Info, workflow: str) -> LogCheckpoint | None:
        found = await _workflow(info, workflow)
        reads = LogReads.over(await info.context.reads())
        latest = await reads.checkpoint(found.id)
        if latest is None:
            size = await reads.tree_size(found.id)
            if size == 0:
                return None
            latest = await _checkpoint_at(info, reads, found, size, None)
        return LogCheckpoint.from_domain(latest)

    @strawberry.field(
        description="That a decision is in its workflow's log: the audit path to the root at "
        "treeSize (any size the log has reached; without it, the latest checkpoint). Null for "
        "a decision you may not see."
    )
    async def inclusion_proof(
        self, info: Info, decision_id: strawberry.ID, tree_size: int | None = None
    ) -> InclusionProof | None:
        ctx = info.context
        reads = LogReads.over(await ctx.reads())
        decision = await reads.sealed_decision(str(decision_id))
        if decision is None or not await ctx.sees_decision(decision):
            return None
        workflow = await ctx.loaders.workflow.load(decision.workflow_id)
        assert workflow is not None
        stored = await reads.checkpoint(workflow.id, tree_size)
        if tree_size is None:
            reached = await reads.tree_size(workflow.id)
            size = (
                stored.tree_size if stored and stored.tree_size > decision.leaf_index else reached
            )
        else:
            size = tree_size
        if size <= decision.leaf_index:
            raise PublicError(
                f"treeSize {size} does not hold leaf {decision.leaf_index}: it needs "
                f"{decision.leaf_index + 1} or more",
                "BAD_USER_INPUT",
            )
        try:
            path = await reads.inclusion_proof(workflow.id, decision.leaf_index, size)
        except InvalidInputError as error:
            raise PublicError(error.message, "BAD_USER_INPUT") from error
        checkpoint = await _checkpoint_at(info, reads, workflow, size, stored)
        return InclusionProof(
            decision=Decision.from_domain(decision),
            leaf_index=decision.leaf_index,
            tree_size=size,
            audit_path=[h.hex() for h in path],
            checkpoint=LogCheckpoint.from_domain(checkpoint),
        )

    @strawberry.field(
        description="Hex RFC 6962 consistency proof (section 2.1.2) that the workflow's log "
        "at toSize extends the log at fromSize; sizes the log has not reached are an error."
    )
    async def consistency_proof(
        self, info: Info, workflow: str, from_size: int, to_size: int
    ) -> list[str] | None:
        found = await _workflow(info, workflow)
        reads = LogReads.over(await info.context.reads())
        try:
            proof = await reads.consistency_proof(found.id, from_size, to_size)
        except InvalidInputError as error:
            raise PublicError(error.message, "BAD_USER_INPUT") from error
        return [h.hex() for h in proof]

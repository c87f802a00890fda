"""The verifiable decision log through GraphQL: every decision a leaf of its workflow's
RFC 6962 tree, signed checkpoints, inclusion and consistency proofs, and group commit.

The proofs are checked here by a verifier written from RFC 9162 alone (section 2.1.3.2
and 2.1.4.2), sharing no code with Arbiter's domain.merkle.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.clock import utcnow
from domain.enums import RecommendationStatus as Status
from domain.enums import Role, Verdict
from domain.usecases.accounts import create_user as create_user_use_case
from store.tables import DecisionRow, LogCheckpointRow, LogNodeRow, PendingDecisionRow
from tests.api.test_queue_and_log import verify
from tests.conftest import session_log_key
from tests.factories import create_user, create_workflow, proposal, submit
from workers.log_sealer import LogSealer

APPROVE = """mutation($id: ID!) { approve(id: $id) { __typename
  ... on DecisionSuccess { decision { id sequence leafIndex leaf auditHash } }
  ... on Problem { message } } }"""
UNDO = """mutation($id: ID!) { undo(decisionId: $id) { __typename ... on Problem { message } } }"""
CHECKPOINT = """query($wf: String!) { logPublicKey logCheckpoint(workflow: $wf) {
  treeSize rootHash note signature workflow { key } } }"""
INCLUSION = """query($id: ID!, $size: Int) { inclusionProof(decisionId: $id, treeSize: $size) {
  leafIndex treeSize auditPath decision { id leaf sequence }
  checkpoint { treeSize rootHash note signature } } }"""
CONSISTENCY = """query($wf: String!, $a: Int!, $b: Int!) {
  consistencyProof(workflow: $wf, fromSize: $a, toSize: $b) }"""


def rfc_leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def rfc_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def rfc_root(leaf_hashes: list[bytes]) -> bytes:
    """MTH of RFC 6962 section 2.1, from the leaf hashes."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return rfc_node(rfc_root(leaf_hashes[:k]), rfc_root(leaf_hashes[k:]))


def rfc_verify_inclusion(
    index: int, size: int, leaf: bytes, path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, rfc_leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = rfc_node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = rfc_node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def rfc_verify_consistency(m: int, n: int, old: bytes, new: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2, step by step."""
    if m == n:
        return not proof and old == new
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old, *proof]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = rfc_node(c, fr), rfc_node(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = rfc_node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old and sr == new and sn == 0


async def a_log(gql: Any, decisions: int) -> tuple[str, str, list[dict[str, Any]]]:
    """A workflow whose log holds `decisions` approvals; its key, the reviewer, the decisions."""
    admin = await create_user(gql.services, "ADMIN")
    expert = await create_user(gql.services, "ANALYST")
    workflow = await create_workflow(gql, admin)
    result = await submit(gql, admin, workflow["key"], *[proposal() for _ in range(decisions)])
    made = []
    for item in result["recommendations"]:
        data = await gql(APPROVE, {"id": item["id"]}, token=expert)
        assert data["approve"]["__typename"] == "DecisionSuccess", data
        made.append(data["approve"]["decision"])
    return workflow["key"], expert, made


async def test_every_decision_is_a_leaf_whose_proof_leads_to_a_signed_checkpoint(gql):
    key, expert, made = await a_log(gql, 7)
    assert [d["leafIndex"] for d in made] == [d["sequence"] - 1 for d in made] == list(range(7))
    for d in made:
        leaf = json.loads(d["leaf"])
        assert leaf["id"] == d["id"] and leaf["seq"] == d["sequence"]
        assert "model_version" in leaf
    top = await gql(CHECKPOINT, {"wf": key}, token=expert)
    checkpoint = top["logCheckpoint"]
    assert checkpoint["treeSize"] == 7 and checkpoint["workflow"]["key"] == key
    root = bytes.fromhex(checkpoint["rootHash"])
    assert root == rfc_root([rfc_leaf_hash(d["leaf"].encode()) for d in made])
    assert checkpoint["note"] == f"arbiter/{key}\n7\n{base64.b64encode(root).decode()}\n"
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(top["logPublicKey"]))
    public.verify(base64.b64decode(checkpoint["signature"]), checkpoint["note"].encode())
    for d in made:
        proof = (await gql(INCLUSION, {"id": d["id"]}, token=expert))["inclusionProof"]
        assert proof["treeSize"] == 7 and proof["checkpoint"]["rootHash"] == checkpoint["rootHash"]
        path = [bytes.fromhex(h) for h in proof["auditPath"]]
        assert rfc_verify_inclusion(d["leafIndex"], 7, d["leaf"].encode(), path, root)


async def test_proofs_hold_at_every_size_the_log_has_reached(gql):
    key, expert, made = await a_log(gql, 11)
    hashes = [rfc_leaf_hash(d["leaf"].encode()) for d in made]
    for size in range(1, 12):
        root = rfc_root(hashes[:size])
        for d in made[:size]:
            proof = (await gql(INCLUSION, {"id": d["id"], "size": size}, token=expert))[
                "inclusionProof"
            ]
            assert bytes.fromhex(proof["checkpoint"]["rootHash"]) == root
            path = [bytes.fromhex(h) for h in proof["auditPath"]]
            assert rfc_verify_inclusion(d["leafIndex"], size, d["leaf"].encode(), path, root)
        for old in range(1, size + 1):
            data = await gql(CONSISTENCY, {"wf": key, "a": old, "b": size}, token=expert)
            proof = [bytes.fromhex(h) for h in data["consistencyProof"]]
            assert rfc_verify_consistency(old, size, rfc_root(hashes[:old]), root, proof)


async def test_impossible_sizes_are_errors_never_clamped(gql):
    key, expert, made = await a_log(gql, 3)
    cases = [
        (INCLUSION, {"id": made[2]["id"], "size": 2}),  # does not hold leaf 2
        (INCLUSION, {"id": made[0]["id"], "size": 4}),  # beyond the log
        (CONSISTENCY, {"wf": key, "a": 0, "b": 2}),
        (CONSISTENCY, {"wf": key, "a": 3, "b": 2}),
        (CONSISTENCY, {"wf": key, "a": 1, "b": 4}),
    ]
    for query, variables in cases:
        body = (await gql.post(query, variables, expert)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    unknown = await gql(INCLUSION, {"id": "dec_nothing"}, token=expert)
    assert unknown["inclusionProof"] is None
    body = (await gql.post(CHECKPOINT, {"wf": "no-such-workflow"}, expert)).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_concurrent_decisions_of_one_workflow_are_sealed_together_in_one_order(gql):
    admin = await create_user(gql.services, "ADMIN")
    workflow = await create_workflow(gql, admin)
    experts = [await create_user(gql.services, "ANALYST") for _ in range(5)]
    result = await submit(gql, admin, workflow["key"], *[proposal() for _ in range(40)])
    ids = [item["id"] for item in result["recommendations"]]
    batches_before = gql.services.sealer.batches

    async def approve(index: int, item: str) -> dict[str, Any]:
        data = await gql(APPROVE, {"id": item}, token=experts[index % 5])
        return dict(data["approve"])

    answers = await asyncio.gather(*(approve(i, item) for i, item in enumerate(ids)))
    assert {a["__typename"] for a in answers} == {"DecisionSuccess"}
    sequences = sorted(a["decision"]["sequence"] for a in answers)
    assert sequences == list(range(1, 41))
    sealings = gql.services.sealer.batches - batches_before
    if gql.services.database.is_sqlite:
        # One writer at a time: each decision finds the log idle and seals itself, in its
        # own transaction (none waits for a second one).
        assert sealings == 40
    else:
        assert sealings < 40  # batched, not one by one
    checkpoint = (await gql(CHECKPOINT, {"wf": workflow["key"]}, token=admin))["logCheckpoint"]
    by_seq = sorted(answers, key=lambda a: a["decision"]["sequence"])
    leaves = [rfc_leaf_hash(a["decision"]["leaf"].encode()) for a in by_seq]
    assert checkpoint["treeSize"] == 40
    assert bytes.fromhex(checkpoint["rootHash"]) == rfc_root(leaves)


async def test_an_undo_right_after_a_decision_finds_it_in_the_log(gql):
    key, expert, made = await a_log(gql, 2)
    data = await gql(UNDO, {"id": made[1]["id"]}, token=expert)
    assert data["undo"]["__typename"] == "DecisionSuccess", data
    checkpoint = (await gql(CHECKPOINT, {"wf": key}, token=expert))["logCheckpoint"]
    assert checkpoint["treeSize"] == 3


async def audit(monkeypatch: Any, capsys: Any, database_url: str) -> tuple[int, str]:
    monkeypatch.setenv("ARBITER_LOG_SIGNING_KEY_FILE", str(session_log_key()))
    return await verify(monkeypatch, capsys, database_url)


async def test_audit_verify_checks_every_node_and_checkpoint_and_names_the_first_bad_one(
    gql, database, database_url, monkeypatch, capsys
):
    key, _expert, made = await a_log(gql, 6)
    code, out = await audit(monkeypatch, capsys, database_url)
    assert code == 0, out
    assert f"ok      {key}: 6 records, chain holds, tree holds, 6 checkpoints hold" in out
    workflow_id = json.loads(made[0]["leaf"])["workflow_id"]
    nodes, checkpoints = LogNodeRow.__table__, LogCheckpointRow.__table__
    node = (nodes.c.workflow_id == workflow_id) & (nodes.c.level == 1) & (nodes.c.idx == 1)
    async with database.write_engine.begin() as connection:
        saved = (await connection.execute(sa.select(nodes.c.hash).where(node))).scalar_one()
        await connection.execute(nodes.update().where(node).values(hash=b"\x00" * 32))
    code, out = await audit(monkeypatch, capsys, database_url)
    assert code == 1
    assert "BROKEN" in out and "stored tree node (level 1, index 1) does not match" in out
    async with database.write_engine.begin() as connection:
        await connection.execute(nodes.update().where(node).values(hash=saved))
        forged = checkpoints.c.workflow_id == workflow_id
        await connection.execute(
            checkpoints.update()
            .where(forged & (checkpoints.c.tree_size == 3))
            .values(signature=base64.b64encode(b"\x01" * 64).decode())
        )
    code, out = await audit(monkeypatch, capsys, database_url)
    assert code == 1 and "checkpoint at tree size 3: its signature does not verify" in out


async def test_audit_verify_catches_an_edited_leaf(
    gql, database, database_url, monkeypatch, capsys
):
    _key, _expert, made = await a_log(gql, 3)
    decisions = DecisionRow.__table__
    async with database.write_engine.begin() as connection:
        await connection.execute(
            decisions.update()
            .where(decisions.c.id == made[1]["id"])
            .values(leaf=made[1]["leaf"].replace('"seq":2', '"seq":2 '))
        )
    code, out = await audit(monkeypatch, capsys, database_url)
    assert code == 1 and "record 2" in out and "its leaf does not match its record" in out


async def unsealed_decision(gql: Any, key: str) -> Any:
    """A decision committed by a process that stops before sealing it: still pending."""
    services = gql.services
    item = await submit(gql, await create_user(services, "ADMIN"), key, proposal())
    rec_id = item["recommendations"][0]["id"]
    user, _ = await services.run(create_user_use_case, None, f"late-{rec_id}", Role.ANALYST)
    async with services.unit_of_work() as uow:
        found = await uow.recommendations.get(rec_id, for_update=True)
        workflow = await uow.workflows.get(found.workflow_id)
        decision = found.decide(user, workflow, Verdict.APPROVE, utcnow())
        await uow.recommendations.save(found, found.version - 1, Status.PENDING)
        await uow.decisions.append([decision])
        await uow.commit()
    return decision


async def test_a_decision_left_pending_by_a_stopped_process_is_sealed_by_the_sweep(gql, database):
    key, reviewer, _made = await a_log(gql, 1)
    decision = await unsealed_decision(gql, key)
    assert (await gql(INCLUSION, {"id": decision.id}, token=reviewer))["inclusionProof"] is None
    pending = PendingDecisionRow.__table__
    async with database.write_engine.begin() as connection:
        await connection.execute(
            pending.update().values(created_at=utcnow() - timedelta(minutes=1))
        )
    assert await gql.services.sealer.seal_stragglers() == 1
    proof = (await gql(INCLUSION, {"id": decision.id}, token=reviewer))["inclusionProof"]
    assert proof["leafIndex"] == 1 and proof["treeSize"] == 2


async def test_with_an_interval_checkpoints_are_fewer_and_the_last_comes_at_most_that_late(
    gql, database
):
    key, _reviewer, made = await a_log(gql, 1)
    workflow_id = json.loads(made[0]["leaf"])["workflow_id"]
    sealer = LogSealer(database.write_sessions(), gql.services.signing, checkpoint_seconds=0.3)
    try:
        for _ in range(3):
            decision = await unsealed_decision(gql, key)
            await sealer.seal([decision])
            assert decision.seq >= 2 and decision.audit_hash and decision.leaf
        assert await checkpoint_sizes(database, workflow_id) == [1, 2]
        await asyncio.sleep(0.6)
        assert await checkpoint_sizes(database, workflow_id) == [1, 2, 4]
    finally:
        await sealer.stop()


async def checkpoint_sizes(database: Any, workflow_id: str) -> list[int]:
    checkpoints = LogCheckpointRow.__table__
    async with database.read_engine.connect() as connection:
        found = await connection.execute(
            sa.select(checkpoints.c.tree_size)
            .where(checkpoints.c.workflow_id == workflow_id)
            .order_by(checkpoints.c.tree_size)
        )
        return list(found.scalars())


async def test_a_conflict_among_concurrent_decisions_fails_only_its_own_request(gql):
    admin = await create_user(gql.services, "ADMIN")
    workflow = await create_workflow(gql, admin)
    reviewers = [await create_user(gql.services, "ANALYST") for _ in range(4)]
    result = await submit(gql, admin, workflow["key"], *[proposal() for _ in range(12)])
    ids = [item["id"] for item in result["recommendations"]]
    # Every item once, and the first item a second time by another reviewer.
    calls = [(reviewers[i % 4], item) for i, item in enumerate(ids)] + [(reviewers[3], ids[0])]

    async def approve(token: str, item: str) -> str:
        return str((await gql(APPROVE, {"id": item}, token=token))["approve"]["__typename"])

    answers = await asyncio.gather(*(approve(token, item) for token, item in calls))
    assert sorted(answers) == ["Conflict"] + ["DecisionSuccess"] * 12, answers
    checkpoint = (await gql(CHECKPOINT, {"wf": workflow["key"]}, token=admin))["logCheckpoint"]
    assert checkpoint["treeSize"] == 12


async def test_audit_verify_catches_a_reordered_pair_a_deleted_record_and_a_forked_log(
    gql, database, database_url, monkeypatch, capsys
):
    decisions = DecisionRow.__table__
    checkpoints = LogCheckpointRow.__table__
    _key, _reviewer, reordered = await a_log(gql, 3)
    _key, _reviewer, deleted = await a_log(gql, 3)
    forked_key, _reviewer, forked = await a_log(gql, 3)
    first, second = reordered[0]["id"], reordered[1]["id"]
    async with database.write_engine.begin() as connection:
        await connection.execute(decisions.update().where(decisions.c.id == first).values(seq=-1))
        await connection.execute(decisions.update().where(decisions.c.id == second).values(seq=1))
        await connection.execute(decisions.update().where(decisions.c.id == first).values(seq=2))
        await connection.execute(decisions.delete().where(decisions.c.id == deleted[1]["id"]))
    code, out = await audit(monkeypatch, capsys, database_url)
    assert code == 1
    assert f"decision {second}" in out and "its previous hash does not match" in out
    assert "expected record number 2, found 3 (a record was deleted or reordered)" in out

    # A log rewritten from record 2 on, its new root signed with the deployment's key:
    # only the checkpoints kept from before can tell.
    workflow_id = json.loads(forked[0]["leaf"])["workflow_id"]
    signing = gql.services.signing
    other_root = hashlib.sha256(b"another history").digest()
    fork = signing.checkpoint(workflow_id, forked_key, 2, other_root, utcnow())
    async with database.write_engine.begin() as connection:
        await connection.execute(
            checkpoints.update()
            .where((checkpoints.c.workflow_id == workflow_id) & (checkpoints.c.tree_size == 2))
            .values(root_hash=other_root.hex(), note=fork.note, signature=fork.signature)
        )
    code, out = await audit(monkeypatch, capsys, database_url)
    assert "checkpoint at tree size 2: its root is not the root of the log at that size" in out


class StatementLog:
    """The statements and commits the write engine sends while recording, in order, with
    the connection each came on."""

    def __init__(self, gql: Any) -> None:
        self.engine = gql.services.database.write_engine.sync_engine
        self.seen: list[tuple[int, str]] = []

    def _statement(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append((id(connection.connection.dbapi_connection), " ".join(statement.split())))

    def _commit(self, connection: Any) -> None:
        self.seen.append((id(connection.connection.dbapi_connection), "COMMIT"))

    def __enter__(self) -> StatementLog:
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)

    def on_connection_of(self, prefix: str) -> list[str]:
        """What the connection that sent the first statement starting with `prefix` sent."""
        connection = next(c for c, t in self.seen if t.startswith(prefix))
        return [t for c, t in self.seen if c == connection]

    def count(self, prefix: str) -> int:
        return sum(t.startswith(prefix) for _, t in self.seen)


def first(texts: list[str], prefix: str) -> int:
    return next(n for n, t in enumerate(texts) if t.startswith(prefix))


async def an_item_to_approve(gql: Any) -> tuple[str, str, str]:
    admin = await create_user(gql.services, "ADMIN")
    workflow = await create_workflow(gql, admin)
    expert = await create_user(gql.services, "ANALYST")
    (item,) = (await submit(gql, admin, workflow["key"], proposal()))["recommendations"]
    return workflow["key"], item["id"], expert


async def test_a_decision_that_finds_its_log_idle_is_sealed_in_its_own_transaction(gql):
    """One transaction, committed synchronously: the item's update, the decision's leaf
    and the new head commit together, and nothing waits as pending."""
    _key, item_id, expert = await an_item_to_approve(gql)
    with StatementLog(gql) as log:
        data = await gql(APPROVE, {"id": item_id}, token=expert)
    assert data["approve"]["__typename"] == "DecisionSuccess", data
    assert data["approve"]["decision"]["sequence"] == 1
    assert log.count("INSERT INTO decisions_pending") == 0, log.seen
    assert log.count("SET LOCAL synchronous_commit") == 0, log.seen
    texts = log.on_connection_of("UPDATE recommendations")
    updated, sealed = first(texts, "UPDATE recommendations"), first(texts, "INSERT INTO decisions ")
    assert updated < sealed < texts.index("COMMIT", updated), texts


async def test_a_decision_whose_log_is_being_sealed_waits_as_pending_and_commits_without_a_flush(
    gql,
):
    """On PostgreSQL, when another transaction holds the workflow's chain head, the
    decision is written pending, its own commit skips the WAL flush (synchronous_commit
    off), and the sealing, which commits synchronously after it, comes before the answer."""
    if gql.services.database.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no transaction finds the head taken")
    key, item_id, expert = await an_item_to_approve(gql)
    engine = gql.services.database.write_engine
    async with engine.connect() as holder:
        await holder.execute(
            sa.text("SELECT id FROM workflows WHERE key = :key FOR NO KEY UPDATE"), {"key": key}
        )
        with StatementLog(gql) as log:
            approval = asyncio.ensure_future(gql(APPROVE, {"id": item_id}, token=expert))
            for _ in range(200):
                if log.count("INSERT INTO decisions_pending"):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            assert not approval.done(), "the answer waits for the sealing"
            assert log.count("DELETE FROM decisions_pending") == 0, "the head is taken"
            await holder.rollback()
            data = await approval
    assert data["approve"]["__typename"] == "DecisionSuccess", data
    assert log.count("SET LOCAL synchronous_commit") == 1, log.seen
    texts = log.on_connection_of("UPDATE recommendations")
    asynchronous = first(texts, "SET LOCAL synchronous_commit TO OFF")
    pending = first(texts, "INSERT INTO decisions_pending")
    assert asynchronous < pending < texts.index("COMMIT", pending), texts
    # The sealing starts only once that commit is done (and ends before the answer).
    assert log.count("DELETE FROM decisions_pending") == 1, log.seen


async def test_a_submissions_automated_decisions_wait_for_a_taken_head_rather_than_go_pending(
    gql,
):
    """A batch of automated decisions (16 or more) is sealed in the submission's own
    transaction even when it must wait for the chain head: none is written pending."""
    if gql.services.database.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no transaction finds the head taken")
    admin = await create_user(gql.services, "ADMIN")
    key = (await create_workflow(gql, admin))["key"]
    await submit(gql, admin, key, proposal())  # the workflow's policy and head exist
    engine = gql.services.database.write_engine
    async with engine.connect() as holder:
        await holder.execute(
            sa.text("SELECT id FROM workflows WHERE key = :key FOR NO KEY UPDATE"), {"key": key}
        )
        with StatementLog(gql) as log:
            items = [proposal(confidence=0.95) for _ in range(20)]
            submission = asyncio.ensure_future(submit(gql, admin, key, *items))
            for _ in range(200):
                if log.count("UPDATE workflows"):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            assert not submission.done(), "it waits for the head"
            await holder.rollback()
            result = await submission
    assert result["created"] == 20
    assert log.count("INSERT INTO decisions_pending") == 0, log.seen
    texts = log.on_connection_of("INSERT INTO recommendations")
    inserted, sealed = (
        first(texts, "INSERT INTO recommendations"),
        first(texts, "INSERT INTO decisions "),
    )
    assert inserted < sealed < texts.index("COMMIT", inserted), texts
    async with engine.connect() as connection:
        sequences = (
            (
                await connection.execute(
                    sa.text(
                        "SELECT d.seq FROM decisions d JOIN workflows w ON w.id = d.workflow_id "
                        "WHERE w.key = :key ORDER BY d.seq"
                    ),
                    {"key": key},
                )
            )
            .scalars()
            .all()
        )
    assert sequences == list(range(1, 21))

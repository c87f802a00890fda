"""`arbiter audit export ITEM_ID`: an item's evidence pack, made from decisions taken
through the API, passes tools/verify_evidence.py (run as a separate process with the
deployment's published key); a pack exported from a tampered log fails it; mistakes
are one line."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import api.cli
import api.settings
from store.tables import decisions_t, log_checkpoints_t, log_nodes_t, models_t
from tests.conftest import session_log_key
from tests.factories import create_user, create_workflow, proposal, submit

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_evidence.py"
RESULT = """__typename ... on DecisionSuccess { decision { id verdict leafIndex } }
  ... on Problem { message }"""
APPROVE = f"mutation($id: ID!) {{ approve(id: $id) {{ {RESULT} }} }}"
OVERRIDE = f"""mutation($id: ID!) {{
  override(id: $id, action: "B", reason: "the payload says B") {{ {RESULT} }} }}"""
UNDO = f"mutation($id: ID!) {{ undo(decisionId: $id) {{ {RESULT} }} }}"
POLICY = """mutation($wf: String!) {
  updateEscalationPolicy(workflow: $wf, input: {autoApproveAt: 0.95}) { __typename } }"""
PUBLIC_KEY = "{ logPublicKey }"
HISTORY = """query($id: ID!) { recommendation(id: $id) { decisions { id verdict undone } } }"""


# ------------------------------------------------------------------ helpers


async def export(
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    database_url: str,
    *args: str,
    key: bool = True,
) -> tuple[int, str, str]:
    """`arbiter audit export ARGS` on the test database: its code, stdout and stderr."""
    monkeypatch.setenv("ARBITER_DATABASE_URL", database_url)
    if key:
        monkeypatch.setenv("ARBITER_LOG_SIGNING_KEY_FILE", str(session_log_key()))
    else:
        monkeypatch.delenv("ARBITER_LOG_SIGNING_KEY_FILE", raising=False)

    def run() -> int:
        api.settings.get_settings.cache_clear()
        try:
            return api.cli.main(["audit", "export", *args])
        finally:
            api.settings.get_settings.cache_clear()

    capsys.readouterr()
    code = await asyncio.to_thread(run)  # the command runs its own event loop
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def verify_offline(pack: Path, public_key: str) -> subprocess.CompletedProcess[str]:
    """tools/verify_evidence.py in its own isolated interpreter, the key pinned."""
    command = [sys.executable, "-I", str(VERIFIER), str(pack), "--public-key", public_key]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=60
    )


async def decided(gql: Any, query: str, token: str, item_id: str) -> dict[str, Any]:
    data = await gql(query, {"id": item_id}, token=token)
    answer = next(iter(data.values()))
    assert answer["__typename"] == "DecisionSuccess", answer
    return dict(answer["decision"])


async def add_model(database: Any, workflow_id: str, version: int) -> None:
    """A retired trained model of the workflow, as retraining stores one."""
    async with database.write_engine.begin() as connection:
        await connection.execute(
            models_t.insert().values(
                id=f"mdl_{workflow_id[-12:]}{version}",
                workflow_id=workflow_id,
                version=version,
                kind="CLASSIFIER",
                status="RETIRED",
                features=["amount"],
                feature_spec={},
                classes=["A", "B", "C"],
                model_text="",
                calibration={},
                metrics={"accuracy": 0.85, "baseline_accuracy": 0.81, "holdout_size": 40},
                trained_on=200,
                created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        )


async def a_reviewed_world(gql: Any) -> dict[str, Any]:
    """Three items of one workflow: one approved, one overridden, undone, then approved
    under a new policy version, and one still waiting."""
    admin = await create_user(gql.services, "ADMIN")
    analyst = await create_user(gql.services, "ANALYST")
    workflow = await create_workflow(gql, admin)
    key = workflow["key"]
    items = await submit(
        gql, admin, key, *[proposal(modelVersion="v3", externalId=f"x-{n}") for n in range(3)]
    )
    first, second, waiting = (item["id"] for item in items["recommendations"])
    approved = await decided(gql, APPROVE, analyst, first)
    overridden = await decided(gql, OVERRIDE, analyst, second)
    undo = await decided(gql, UNDO, analyst, overridden["id"])
    changed = await gql(POLICY, {"wf": key}, token=admin)
    assert changed["updateEscalationPolicy"]["__typename"] == "PolicySuccess", changed
    final = await decided(gql, APPROVE, analyst, second)
    public_key = (await gql(PUBLIC_KEY, token=admin))["logPublicKey"]
    return {
        "admin": admin,
        "key": key,
        "items": (first, second, waiting),
        "decisions": (approved, overridden, undo, final),
        "public_key": public_key,
    }


def read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ tests


async def test_the_pack_of_an_overridden_undone_and_approved_item_passes_the_offline_verifier(
    gql, database, database_url, monkeypatch, capsys, tmp_path
):
    world = await a_reviewed_world(gql)
    _first, second, _waiting = world["items"]
    _approved, overridden, undo, final = world["decisions"]
    workflow_id = json.loads(await _leaf(database, overridden["id"]))["workflow_id"]
    await add_model(database, workflow_id, 3)
    out = tmp_path / "pack.json"

    code, said, err = await export(monkeypatch, capsys, database_url, second, "--out", str(out))

    assert (code, err) == (0, ""), err
    assert said.splitlines()[0].startswith(f"wrote {out}: 3 decisions of item {second}")
    pack = read(out)
    assert pack["format"] == "arbiter-evidence-pack/1"
    assert pack["log"] == {"origin": f"arbiter/{world['key']}", "publicKey": world["public_key"]}
    assert [d["id"] for d in pack["decisions"]] == [overridden["id"], undo["id"], final["id"]]
    assert [d["leafIndex"] for d in pack["decisions"]] == [1, 2, 3]
    assert [d["undone"] for d in pack["decisions"]] == [True, False, False]
    history = await gql(HISTORY, {"id": second}, token=world["admin"])
    assert [d["id"] for d in history["recommendation"]["decisions"]] == [
        d["id"] for d in pack["decisions"]
    ]
    leaves = [json.loads(d["leaf"]) for d in pack["decisions"]]
    assert [leaf["verdict"] for leaf in leaves] == ["OVERRIDE", "UNDO", "APPROVE"]
    assert leaves[0]["reason"] == "the payload says B"
    assert pack["policy"]["version"] == leaves[-1]["policy_version"] == 2
    assert pack["policy"]["autoApproveAt"] == 0.95
    assert pack["model"]["version"] == "v3" and pack["model"]["metrics"]["accuracy"] == 0.85
    recommendation = pack["recommendation"]
    assert recommendation["id"] == second and recommendation["workflow"] == world["key"]
    assert (recommendation["externalId"], recommendation["status"]) == ("x-1", "APPROVED")
    assert recommendation["finalAction"] == "A" and recommendation["decidedAt"]
    assert pack["checkpoint"]["treeSize"] == 4

    checked = await verify_offline(out, world["public_key"])

    assert checked.returncode == 0, checked.stderr
    assert f"item: {second}" in checked.stdout
    assert "decisions verified: 3 (leafIndex 1, 2, 3)" in checked.stdout


async def _leaf(database: Any, decision_id: str) -> str:
    decisions = decisions_t
    async with database.read_engine.connect() as connection:
        found = await connection.execute(
            sa.select(decisions.c.leaf).where(decisions.c.id == decision_id)
        )
        return str(found.scalar_one())


async def test_the_pack_goes_to_evidence_item_json_here_and_names_no_model_when_none_scored(
    gql, database_url, monkeypatch, capsys, tmp_path
):
    admin = await create_user(gql.services, "ADMIN")
    analyst = await create_user(gql.services, "ANALYST")
    workflow = await create_workflow(gql, admin)
    items = await submit(gql, admin, workflow["key"], proposal(), proposal(confidence=0.95))
    reviewed, automatic = (item["id"] for item in items["recommendations"])
    await decided(gql, APPROVE, analyst, reviewed)
    public_key = (await gql(PUBLIC_KEY, token=admin))["logPublicKey"]
    monkeypatch.chdir(tmp_path)

    for item in (reviewed, automatic):
        code, _said, err = await export(monkeypatch, capsys, database_url, item)
        assert (code, err) == (0, ""), err
        pack = read(tmp_path / f"evidence-{item}.json")
        assert pack["model"] is None and pack["recommendation"]["modelVersion"] is None
        checked = await verify_offline(tmp_path / f"evidence-{item}.json", public_key)
        assert checked.returncode == 0, checked.stderr
    automated = json.loads(read(tmp_path / f"evidence-{automatic}.json")["decisions"][0]["leaf"])
    assert automated["automated"] is True and automated["verdict"] == "APPROVE"


async def test_without_a_stored_checkpoint_covering_the_item_the_pack_carries_one_signed_now(
    gql, database, database_url, monkeypatch, capsys, tmp_path
):
    world = await a_reviewed_world(gql)
    first = world["items"][0]
    workflow_id = json.loads(await _leaf(database, world["decisions"][0]["id"]))["workflow_id"]
    checkpoints = log_checkpoints_t
    async with database.write_engine.begin() as connection:
        await connection.execute(
            checkpoints.delete().where(checkpoints.c.workflow_id == workflow_id)
        )
    out = tmp_path / "pack.json"

    code, _said, err = await export(monkeypatch, capsys, database_url, first, "--out", str(out))

    assert (code, err) == (0, ""), err
    pack = read(out)
    assert pack["checkpoint"]["treeSize"] == 4
    assert pack["checkpoint"]["note"].startswith(f"arbiter/{world['key']}\n4\n")
    checked = await verify_offline(out, world["public_key"])
    assert checked.returncode == 0, checked.stderr


async def test_a_pack_exported_from_a_tampered_log_fails_the_verifier(
    gql, database, database_url, monkeypatch, capsys, tmp_path
):
    world = await a_reviewed_world(gql)
    _first, second, _waiting = world["items"]
    overridden = world["decisions"][1]
    workflow_id = json.loads(await _leaf(database, overridden["id"]))["workflow_id"]
    decisions, nodes = decisions_t, log_nodes_t
    out = tmp_path / "pack.json"

    async def export_and_verify() -> subprocess.CompletedProcess[str]:
        code, _said, err = await export(
            monkeypatch, capsys, database_url, second, "--out", str(out)
        )
        assert (code, err) == (0, ""), err
        return await verify_offline(out, world["public_key"])

    assert (await export_and_verify()).returncode == 0

    edited = decisions.c.id == overridden["id"]
    async with database.write_engine.begin() as connection:
        await connection.execute(decisions.update().where(edited).values(reason="it was B"))
    checked = await export_and_verify()
    assert checked.returncode == 1, checked.stdout
    assert checked.stderr.startswith(f"FAILED: decision {overridden['id']}")
    assert "inclusion proof fails" in checked.stderr and len(checked.stderr.splitlines()) == 1

    node = (nodes.c.workflow_id == workflow_id) & (nodes.c.level == 0) & (nodes.c.idx == 0)
    async with database.write_engine.begin() as connection:
        await connection.execute(
            decisions.update().where(edited).values(reason="the payload says B")
        )
    assert (await export_and_verify()).returncode == 0  # restored
    async with database.write_engine.begin() as connection:
        saved = (await connection.execute(sa.select(nodes.c.hash).where(node))).scalar_one()
        await connection.execute(nodes.update().where(node).values(hash=b"\x00" * 32))
    checked = await export_and_verify()
    assert checked.returncode == 1, checked.stdout
    assert "inclusion proof fails" in checked.stderr

    checkpoints = log_checkpoints_t
    latest = (checkpoints.c.workflow_id == workflow_id) & (checkpoints.c.tree_size == 4)
    async with database.write_engine.begin() as connection:
        await connection.execute(nodes.update().where(node).values(hash=saved))
        await connection.execute(
            checkpoints.update()
            .where(latest)
            .values(signature=base64.b64encode(b"\x01" * 64).decode())
        )
    checked = await export_and_verify()  # a stored checkpoint is never re-signed
    assert checked.returncode == 1, checked.stdout
    assert checked.stderr == (
        "FAILED: checkpoint.signature does not verify over checkpoint.note with log.publicKey\n"
    )


async def test_an_unknown_item_an_undecided_item_and_a_missing_key_are_each_one_line(
    gql, database_url, monkeypatch, capsys, tmp_path
):
    world = await a_reviewed_world(gql)
    _first, second, waiting = world["items"]
    monkeypatch.chdir(tmp_path)
    cases = [
        (("rec_nothing",), True, "error: no item with id 'rec_nothing'"),
        ((waiting,), True, f"error: item {waiting} has no decision in the log yet"),
        ((second,), False, "error: ARBITER_LOG_SIGNING_KEY_FILE is not set"),
    ]
    for args, key, expected in cases:
        code, said, err = await export(monkeypatch, capsys, database_url, *args, key=key)
        assert code == 2, (args, said, err)
        assert len(err.splitlines()) == 1 and err.startswith(expected), err
    assert list(tmp_path.iterdir()) == []  # nothing written

"""The decision log's hash chain: domain/audit.py."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from domain import audit
from domain.audit import GENESIS, ChainBreak, canonical, chain_hash, seal, verify_chain
from domain.enums import Tier, Verdict
from domain.model import Decision
from tests.domain.builders import NOW, create_decision


def create_chain(length: int = 5) -> list[Decision]:
    chain: list[Decision] = []
    seq, head = 0, GENESIS
    for number in range(1, length + 1):
        decision = seal(create_decision(number), seq, head)
        seq, head = decision.seq, decision.audit_hash
        chain.append(decision)
    return chain


def head_of(chain: list[Decision]) -> tuple[int, str]:
    return chain[-1].seq, chain[-1].audit_hash


def break_in(chain: list[Decision], head: tuple[int, str]) -> ChainBreak:
    problem = verify_chain(chain, *head)
    assert problem is not None, "the chain was expected to be broken"
    return problem


# ------------------------------------------------------------------ sealing


def test_sealing_numbers_the_record_after_the_previous_one_and_links_its_hash():
    decision = seal(create_decision(1), 41, "a" * 64)

    assert decision.seq == 42
    assert decision.prev_hash == "a" * 64
    expected = hashlib.sha256(("a" * 64 + canonical(decision)).encode()).hexdigest()
    assert decision.audit_hash == expected


def test_the_first_record_links_to_the_genesis_hash():
    chain = create_chain(3)

    assert chain[0].seq == 1
    assert chain[0].prev_hash == GENESIS
    assert [d.seq for d in chain] == [1, 2, 3]
    assert chain[1].prev_hash == chain[0].audit_hash
    assert chain[2].prev_hash == chain[1].audit_hash


def test_the_same_record_after_different_predecessors_gets_different_hashes():
    assert chain_hash("a" * 64, create_decision(1)) != chain_hash("b" * 64, create_decision(1))


# ------------------------------------------------------------------ verify_chain: intact


def test_an_intact_chain_verifies():
    chain = create_chain(5)

    assert verify_chain(chain, *head_of(chain)) is None


def test_an_empty_log_with_a_fresh_head_verifies():
    assert verify_chain([], 0, GENESIS) is None


def test_verify_chain_accepts_any_iterable_in_seq_order():
    chain = create_chain(4)

    assert verify_chain(iter(chain), *head_of(chain)) is None


# ------------------------------------------------------------------ verify_chain: tampering


def test_an_edited_reason_is_found_on_the_edited_record():
    chain = create_chain(5)
    head = head_of(chain)
    chain[2].reason = "nothing to see here"

    problem = break_in(chain, head)

    assert problem.decision_id == chain[2].id
    assert problem.seq == 3
    assert "edited" in problem.problem


def test_an_edited_final_action_is_found_on_the_edited_record():
    chain = create_chain(5)
    head = head_of(chain)
    chain[0].final_action = "deny_claim"

    problem = break_in(chain, head)

    assert problem.decision_id == chain[0].id
    assert problem.seq == 1


def test_an_edited_last_record_is_found():
    chain = create_chain(5)
    head = head_of(chain)
    chain[4].actor_id = "usr_someone_else"

    assert break_in(chain, head).decision_id == chain[4].id


def test_an_edited_record_whose_own_hash_was_recomputed_breaks_the_next_link():
    chain = create_chain(5)
    head = head_of(chain)
    chain[1].reason = "rewritten"
    chain[1].audit_hash = chain_hash(chain[1].prev_hash, chain[1])

    problem = break_in(chain, head)

    assert problem.decision_id == chain[2].id
    assert problem.seq == 3
    assert "previous hash" in problem.problem


def test_a_rewritten_log_that_does_not_match_the_head_is_found():
    chain = create_chain(4)
    head = head_of(chain)
    chain[1].final_action = "deny_claim"
    seq, prev = 1, chain[0].audit_hash
    for decision in chain[1:]:
        seal(decision, seq, prev)
        seq, prev = decision.seq, decision.audit_hash

    problem = break_in(chain, head)

    assert problem.decision_id == chain[-1].id
    assert problem.seq == 4


def test_a_deleted_middle_record_is_found_on_the_record_after_the_gap():
    chain = create_chain(5)
    head = head_of(chain)
    survivors = chain[:2] + chain[3:]

    problem = break_in(survivors, head)

    assert problem.decision_id == chain[3].id
    assert problem.seq == 4
    assert "expected record number 3" in problem.problem


def test_a_deleted_first_record_is_found_on_the_new_first_record():
    chain = create_chain(5)
    head = head_of(chain)

    problem = break_in(chain[1:], head)

    assert problem.decision_id == chain[1].id
    assert problem.seq == 2


def test_a_deleted_last_record_is_found_against_the_head():
    chain = create_chain(5)
    head = head_of(chain)

    problem = break_in(chain[:-1], head)

    assert problem.decision_id == chain[3].id
    assert problem.seq == 4
    assert "chain head says 5" in problem.problem


def test_deleting_every_record_is_found_against_the_head():
    chain = create_chain(3)

    problem = break_in([], head_of(chain))

    assert problem.seq == 0


def test_a_record_appended_without_moving_the_head_is_found():
    chain = create_chain(5)
    head = head_of(chain)
    extra = seal(create_decision(6), chain[-1].seq, chain[-1].audit_hash)

    problem = break_in([*chain, extra], head)

    assert problem.decision_id == extra.id
    assert problem.seq == 6


def test_two_records_swapped_in_order_are_found_on_the_first_misplaced_one():
    chain = create_chain(5)
    head = head_of(chain)
    second, third = chain[1], chain[2]
    second.seq, third.seq = third.seq, second.seq
    reordered = sorted(chain, key=lambda d: d.seq)

    problem = break_in(reordered, head)

    assert problem.decision_id == third.id
    assert problem.seq == 2


def test_verification_stops_at_the_first_break():
    chain = create_chain(5)
    head = head_of(chain)
    chain[1].reason = "first edit"
    chain[3].reason = "second edit"

    assert break_in(chain, head).decision_id == chain[1].id


# ------------------------------------------------------------------ canonical


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", "dec_other"),
        ("workflow_id", "wf_other"),
        ("seq", 99),
        ("recommendation_id", "rec_other"),
        ("verdict", Verdict.OVERRIDE),
        ("automated", True),
        ("actor_id", "usr_other"),
        ("actor_id", None),
        ("proposed_action", "deny_claim"),
        ("final_action", "escalate"),
        ("final_action", None),
        ("confidence", 0.8100000001),
        ("tier", Tier.SENIOR_REVIEW),
        ("policy_version", 2),
        ("reason", "another reason"),
        ("reason", None),
        ("reason_tags", ["routine", "fraud"]),
        ("reason_tags", []),
        ("edited_content", "new text"),
        ("dwell_ms", 4_002),
        ("dwell_ms", None),
        ("reverts_id", "dec_0"),
        ("created_at", NOW + timedelta(minutes=1, microseconds=1)),
    ],
)
def test_changing_any_recorded_field_changes_the_hash(name, value):
    original = create_decision(1)
    changed = replace(original, **{name: value})
    assert getattr(changed, name) != getattr(original, name)

    assert canonical(changed) != canonical(original)
    assert chain_hash(GENESIS, changed) != chain_hash(GENESIS, original)


@pytest.mark.parametrize("name", ["undone", "prev_hash", "audit_hash"])
def test_the_derived_fields_are_not_part_of_the_record(name):
    original = create_decision(1)
    value = True if name == "undone" else "f" * 64
    changed = replace(original, **{name: value})

    assert canonical(changed) == canonical(original)


def test_canonical_names_every_recorded_field():
    record = json.loads(canonical(create_decision(1)))

    assert set(record) == {
        "id",
        "workflow_id",
        "seq",
        "recommendation_id",
        "verdict",
        "automated",
        "actor_id",
        "proposed_action",
        "final_action",
        "confidence",
        "tier",
        "policy_version",
        "reason",
        "reason_tags",
        "edited_content",
        "dwell_ms",
        "reverts_id",
        "created_at",
    }


def test_canonical_does_not_depend_on_a_naive_or_aware_utc_time():
    aware = create_decision(1, created_at=NOW.replace(microsecond=123_456))
    naive = replace(aware, created_at=aware.created_at.replace(tzinfo=None))

    assert canonical(naive) == canonical(aware)
    assert chain_hash(GENESIS, naive) == chain_hash(GENESIS, aware)


def test_a_naive_time_is_read_as_utc_even_when_the_machine_runs_on_another_zone():
    aware = create_decision(1, created_at=NOW)
    naive = replace(aware, created_at=NOW.replace(tzinfo=None))
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        assert canonical(naive) == canonical(aware)
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_canonical_does_not_depend_on_the_time_zone_of_the_same_instant():
    aware = create_decision(1, created_at=NOW)
    elsewhere = replace(aware, created_at=NOW.astimezone(timezone(timedelta(hours=-5))))

    assert canonical(elsewhere) == canonical(aware)


def test_canonical_keeps_microseconds_and_writes_utc_with_a_z():
    decision = create_decision(1, created_at=NOW.replace(microsecond=7))

    assert json.loads(canonical(decision))["created_at"] == "2026-01-01T12:00:00.000007Z"


def test_a_chain_read_back_with_naive_times_still_verifies():
    chain = create_chain(4)
    head = head_of(chain)
    for decision in chain:
        decision.created_at = decision.created_at.replace(tzinfo=None)

    assert verify_chain(chain, *head) is None


def test_canonical_keeps_non_ascii_text_as_written():
    decision = create_decision(1, reason="Überweisung geprüft ✓")

    assert "Überweisung geprüft ✓" in canonical(decision)


def test_the_genesis_hash_is_sixty_four_zeros():
    assert audit.GENESIS == "0" * 64

"""Messages between processes: each round-trips through JSON; another version is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.enums import RecommendationStatus, Tier
from domain.events import ModelEvent, QueueEvent, QueueEventKind
from domain.jobs import Job, JobKind, JobState
from domain.learning import ModelEventKind
from domain.messages import (
    MESSAGE_VERSION,
    MessageError,
    QueueEventMessage,
    UnknownMessageVersion,
    decode_job,
    decode_model_event,
    decode_queue_event,
    encode_job,
    encode_model_event,
    encode_queue_event,
)
from domain.model import Claim, Draft
from domain.snapshots import decode_recommendation, encode_recommendation
from tests.domain.builders import LEASE, NOW, create_recommendation


def over_the_wire(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


def claimed_item_with_a_draft() -> Any:
    item = create_recommendation(0.72, stakes=12.5, payload={"amount": 100, "tags": [1, None]})
    return replace(
        item,
        external_id="ext-1",
        subject="Ada",
        explanation=[{"feature": "amount", "weight": 0.4}],
        model_version="m3",
        draft=Draft("Dear Ada", "Dear Ada,", 0.21, 0.25),
        status=RecommendationStatus.CLAIMED,
        version=4,
        claim=Claim("usr_ana", NOW, NOW + LEASE),
        flagged=True,
        confirm_until=NOW + timedelta(seconds=30),
        sla_due_at=NOW + timedelta(hours=4),
        final_action="approve_claim",
        decided_at=NOW + timedelta(minutes=1),
        canary=True,
        canary_of="rec_0",
    )


def queue_event() -> QueueEvent:
    return QueueEvent(
        id="evt_1",
        kind=QueueEventKind.ESCALATED,
        workflow_id="wf_claims",
        recommendation=claimed_item_with_a_draft(),
        at=NOW,
        actor_id="usr_ana",
        decision_id="dec_1",
        previous_tier=Tier.ANALYST_REVIEW.value,
        seq=42,
    )


def test_a_queue_event_and_its_item_round_trip():
    event = queue_event()
    data = over_the_wire(encode_queue_event(event))
    assert data["version"] == MESSAGE_VERSION
    assert decode_queue_event(data) == event


def test_an_event_without_an_actor_decision_or_previous_tier_round_trips():
    event = QueueEvent.of(QueueEventKind.ADDED, create_recommendation(), NOW)
    assert decode_queue_event(over_the_wire(encode_queue_event(event))) == event


def test_a_stored_snapshot_passes_on_as_it_is_and_gives_back_the_same_item():
    event = queue_event()
    message = QueueEventMessage.of(event)
    stored = over_the_wire(message.encode())["recommendation"]
    assert QueueEventMessage.decode(over_the_wire(message.encode())).snapshot == stored
    assert replace(message, snapshot=stored).event() == event


def test_a_snapshot_written_before_canaries_is_read_as_a_real_item():
    item = claimed_item_with_a_draft()
    old = over_the_wire(encode_recommendation(item))
    del old["canary"], old["canary_of"]
    old["due_sort"] = old["sla_due_at"]  # a sort key the old snapshots carried
    assert decode_recommendation(old) == replace(item, canary=False, canary_of=None)


def test_a_draft_without_edited_content_reads_as_the_original():
    item = create_recommendation(draft="Dear Ada")
    snapshot = over_the_wire(encode_recommendation(item))
    snapshot["draft_content"] = None
    decoded = decode_recommendation(snapshot)
    assert decoded.draft is not None and decoded.draft.content == "Dear Ada"


def test_a_job_round_trips():
    job = Job(
        id="job_1",
        kind=JobKind.RETRAIN,
        created_at=NOW,
        args={"workflow_id": "wf_claims"},
        state=JobState.SUCCEEDED,
        progress=1.0,
        message="promoted",
        result={"accuracy": 0.85},
        started_at=NOW + timedelta(seconds=1),
        finished_at=NOW + timedelta(seconds=9),
        heartbeat_at=NOW + timedelta(seconds=8),
        attempts=2,
    )
    data = over_the_wire(encode_job(job))
    assert data["version"] == MESSAGE_VERSION
    assert decode_job(data) == job
    queued = Job.new(JobKind.SLA_SWEEP, NOW)
    assert decode_job(over_the_wire(encode_job(queued))) == queued


def test_a_model_event_round_trips():
    event = ModelEvent(ModelEventKind.PROMOTED, "mdl_1", "wf_claims")
    data = over_the_wire(encode_model_event(event))
    assert data["version"] == MESSAGE_VERSION
    assert decode_model_event(data) == event
    assert event.id == "mdl_1:PROMOTED"


@pytest.mark.parametrize(
    ("encoded", "decode"),
    [
        (encode_queue_event(queue_event()), decode_queue_event),
        (encode_job(Job.new(JobKind.RETRAIN, NOW)), decode_job),
        (encode_model_event(ModelEvent(ModelEventKind.TRAINED, "m", "w")), decode_model_event),
    ],
)
@pytest.mark.parametrize("version", [MESSAGE_VERSION + 1, 0, None])
def test_another_version_is_refused_with_a_typed_error(encoded, decode, version):
    data = {**over_the_wire(encoded), "version": version}
    if version is None:
        del data["version"]
    with pytest.raises(UnknownMessageVersion) as raised:
        decode(data)
    assert raised.value.version == version
    assert isinstance(raised.value, MessageError)


@pytest.mark.parametrize(
    "broken",
    [
        {"version": MESSAGE_VERSION},
        {**encode_queue_event(queue_event()), "kind": "VANISHED"},
        {**encode_queue_event(queue_event()), "at": "yesterday"},
        {**encode_queue_event(queue_event()), "recommendation": {"id": "rec_1"}},
        {**encode_queue_event(queue_event()), "recommendation": "rec_1"},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_queue_event_is_a_message_error(broken):
    with pytest.raises(MessageError):
        decode_queue_event(broken)

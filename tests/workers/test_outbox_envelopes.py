"""The publisher builds an event's envelope straight from its outbox row."""

from __future__ import annotations

import sqlalchemy as sa

from store.loading import load_all
from store.tables import EventRow, events_t
from tests.factories import create_user, create_workflow, proposal, submit
from workers.outbox import message_envelope, queue_envelope


async def test_an_envelope_from_the_row_is_the_envelope_of_the_rebuilt_event(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    item = proposal(0.8, subject="Ada", stakes=12.5, externalId="e-1")
    item["payload"] = {"amount": 100, "nested": {"list": [1, 2.5, "x", None]}}
    result = await submit(gql, admin, workflow["key"], item, proposal(0.99))
    assert result["__typename"] == "SubmitSuccess"
    async with gql.services.database.read_sessions()() as session:
        rows = await load_all(session, sa.select(EventRow).order_by(events_t.c.seq))
    assert len(rows) >= 2
    for row in rows:
        direct = message_envelope(row.to_message())
        rebuilt = queue_envelope(row.to_domain())
        assert (direct.type, direct.id, direct.workflow_id) == (
            rebuilt.type,
            rebuilt.id,
            rebuilt.workflow_id,
        )
        assert direct.data == rebuilt.data

"""The operations of one WebSocket share a context and its read session: one cancelled
during a read invalidates the session's connection, and the next read of any of them
gets a fresh session instead of failing ("Can't reconnect until invalid transaction is
rolled back", which once left a console page's new subscription dead)."""

from __future__ import annotations

from api.auth import user_for_token
from api.context import Context
from tests.factories import create_user, create_workflow


async def test_a_read_after_the_shared_connection_was_invalidated_opens_a_fresh_session(gql):
    admin = await create_user(gql.services, "admin")
    workflow = await create_workflow(gql, admin)
    ctx = Context(gql.services, await user_for_token(gql.services, admin))
    assert (await (await ctx.reads()).workflow_by_key(workflow["key"])) is not None
    broken = ctx._session
    assert broken is not None
    await (await broken.connection()).invalidate()  # as a cancelled read leaves it

    found = await (await ctx.reads()).workflow_by_key(workflow["key"])

    assert found is not None and found.key == workflow["key"]
    assert ctx._session is not broken
    await ctx.close()

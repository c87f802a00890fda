"""The read side of agreement and reliability: the standing votes cast on a workflow's real
items, each with what its item became (domain.agreement_report turns them into figures).

A vote is a decision with vote = true; undone votes and votes on canaries never count
(store.standing). Votes are few next to the log (one row per review of an item that needs
several), so they are read as rows and counted in Python, where the statistics live.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from domain.agreement_report import CastVote
from domain.enums import ConsensusState, Tier, Verdict
from store.queries import Reads
from store.standing import standing_decisions_on_real_items
from store.tables import decisions_t, recs_t

d = decisions_t.c


class AgreementReads(Reads):
    """Votes over a request's (or a job's) read session (shares its lock)."""

    @classmethod
    def over(cls, model: Reads) -> AgreementReads:
        return cls(model.session, model._lock)

    async def votes(
        self,
        workflow_id: str,
        since: datetime | None = None,
        tiers: Collection[Tier] | None = None,
    ) -> list[CastVote]:
        """The workflow's standing votes on real items, oldest first: those cast since
        `since` (all of them when None), in `tiers` (any when None)."""
        query = (
            standing_decisions_on_real_items(
                d.recommendation_id,
                d.actor_id,
                d.verdict,
                d.final_action,
                recs_t.c.proposed_action,
                recs_t.c.consensus_state,
                recs_t.c.final_action.label("item_final_action"),
            )
            .join(recs_t, recs_t.c.id == d.recommendation_id)
            .where(d.workflow_id == workflow_id, d.vote.is_(True), d.automated.is_(False))
            .order_by(d.created_at, d.seq)
        )
        if since is not None:
            query = query.where(d.created_at >= since)
        if tiers is not None:
            query = query.where(d.tier.in_([t.value for t in tiers]))
        return [
            CastVote(
                item_id=row.recommendation_id,
                reviewer_id=row.actor_id,
                verdict=Verdict(row.verdict),
                final_action=row.final_action,
                proposed_action=row.proposed_action,
                consensus_state=None
                if row.consensus_state is None
                else ConsensusState(row.consensus_state),
                item_final_action=row.item_final_action,
            )
            for row in await self._execute(query)
        ]

"""Reading the whole decision log back to verify its hash chains."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from domain.audit import ChainBreak, ChainVerifier
from store.database import Database
from store.loading import load_all
from store.tables import DecisionRow, decisions_t, workflows_t

BATCH = 5_000


@dataclass(frozen=True)
class ChainReport:
    workflow_key: str
    records: int
    problem: ChainBreak | None


async def verify_log(database: Database) -> list[ChainReport]:
    """Verify every workflow's chain, reading the log in batches of `BATCH` records."""
    reports = []
    async with database.read_sessions()() as session:
        heads = list(
            await session.execute(
                sa.select(
                    workflows_t.c.id,
                    workflows_t.c.key,
                    workflows_t.c.chain_seq,
                    workflows_t.c.chain_head,
                ).order_by(workflows_t.c.key)
            )
        )
        for head in heads:
            verifier, records, problem, after = ChainVerifier(), 0, None, 0
            while problem is None:
                rows = await load_all(
                    session,
                    sa.select(DecisionRow)
                    .where(decisions_t.c.workflow_id == head.id, decisions_t.c.seq > after)
                    .order_by(decisions_t.c.seq)
                    .limit(BATCH),
                )
                if not rows:
                    break
                for row in rows:
                    records += 1
                    problem = verifier.feed(row.to_domain())
                    if problem is not None:
                        break
                after = rows[-1].seq
            if problem is None:
                problem = verifier.finish(head.chain_seq, head.chain_head)
            reports.append(ChainReport(head.key, records, problem))
    return reports

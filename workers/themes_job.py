"""The MINE_THEMES job: what the window's overrides have in common, as themes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.clock import utcnow
from domain.enums import Window
from domain.ids import new_id
from domain.jobs import Job
from domain.learning import ModelKind, ThemeReport, ThemeSummary
from ml.themes import OverrideSample, mine_themes
from workers.job_runtime import JobResult, JobRuntime, Report

CONTRAST_LIMIT = 20_000


async def run_theme_mining(runtime: JobRuntime, job: Job, report: Report) -> JobResult:
    workflow_id = job.args["workflow_id"]
    window = job.args.get("window", "MONTH")
    since = utcnow() - timedelta(days=Window(window).days)
    await report(0.05, "loading overrides")
    async with runtime.job_reads() as reads:
        rows = await reads.learning.overrides_since(workflow_id, since)
        decided = await reads.learning.decided_since(workflow_id, since, CONTRAST_LIMIT)
        active = await reads.models.active(workflow_id, ModelKind.CLASSIFIER)
    model_features = set(active.features) if active is not None else None
    samples = [
        OverrideSample(
            reason=row.reason,
            proposed_action=row.proposed_action,
            chosen_action=row.chosen_action,
            payload=dict(row.payload),
        )
        for row in rows
    ]
    await report(0.2, f"mining {len(samples)} override reasons")
    others = [payload for payload, _ in decided]
    # The proposals tell which fields they already use when there is no active model.
    proposals = [proposed for _, proposed in decided]
    themes = await asyncio.to_thread(
        mine_themes, samples, others, model_features, other_proposals=proposals
    )
    summaries = [
        ThemeSummary(
            label=t.label,
            keywords=list(t.keywords),
            count=t.count,
            share=t.share,
            proposed_action=t.proposed_action,
            share_of_action_overrides=t.share_of_action_overrides,
            conditions=list(t.conditions),
            suggested_feature=t.suggested_feature,
            examples=list(t.examples),
            suggested_features=list(t.suggested_features),
        )
        for t in themes
    ]
    members = {rows[i].id: t.label for t in themes for i in t.members}
    theme_report = ThemeReport(
        id=new_id("thm"),
        workflow_id=workflow_id,
        window=window,
        overrides_analysed=len(samples),
        themes=summaries,
        created_at=utcnow(),
    )
    await report(0.9, "storing the report")
    async with runtime.unit_of_work() as uow:
        await uow.models.add_theme_report(theme_report, members)
        await uow.commit()
    top = summaries[0] if summaries else None
    message = f"{len(summaries)} themes over {len(samples)} overrides" + (
        f"; top: {top.label} ({top.share:.0%})" if top else ""
    )
    return {"report": theme_report.id, "themes": len(summaries), "message": message}

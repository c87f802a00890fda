"""The MINE_THEMES job: what the window's overrides have in common, as themes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from domain.clock import utcnow
from domain.ids import new_id
from domain.jobs import Job
from domain.learning import ModelKind, ThemeReport, ThemeSummary
from domain.usecases.learning import WINDOWS
from ml.themes import OverrideSample, mine_themes
from store.learning import LearningReadModel, SqlModels
from workers.execute import Report

CONTRAST_LIMIT = 20_000


async def run_theme_mining(runtime: Any, job: Job, report: Report) -> dict[str, Any]:
    workflow_id = job.args["workflow_id"]
    window = job.args.get("window", "MONTH")
    since = utcnow() - timedelta(days=WINDOWS[window])
    await report(0.05, "loading overrides")
    async with runtime.read_session() as session:
        model = LearningReadModel(session)
        rows = await model.overrides_since(workflow_id, since)
        others = await model.decided_payloads_since(workflow_id, since, CONTRAST_LIMIT)
    async with runtime.unit_of_work() as uow:
        active = await SqlModels(uow.session).active_row(workflow_id, ModelKind.CLASSIFIER)
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
    themes = await asyncio.to_thread(mine_themes, samples, others, model_features)
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
        await SqlModels(uow.session).add_theme_report(theme_report, members)
        await uow.commit()
    top = summaries[0] if summaries else None
    message = f"{len(summaries)} themes over {len(samples)} overrides" + (
        f"; top: {top.label} ({top.share:.0%})" if top else ""
    )
    return {"report": theme_report.id, "themes": len(summaries), "message": message}

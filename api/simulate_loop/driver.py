"""The world driver: a month of cases through the public API, as the people around a
workflow would send them.

Each simulated day at 09:00 the day's cases are submitted (the upstream model's proposals
by submitRecommendations until a retrained model is ACTIVE, then submitCases, where the
served model proposes); the ladder routes them; the analyst on duty and the senior claim
and decide their queues (claimNext, approve or override, a minute or two of simulated
time each). Every `threshold_every_days` days and at the month's end recommendThreshold is
asked and, when it names a threshold other than the ladder's, updateEscalationPolicy
moves it. At the month's end themes are mined and the model retrains (each a job, waited
for), and the feedback report and the drift alarms heard on modelEvents are read.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from api.simulate_loop import operations as ops
from api.simulate_loop.client import ApiError, InProcessApi, ModelEventFeed
from api.simulate_loop.measures import (
    BAYES_ACCURACY,
    MonthFigures,
    Routed,
    auto_approval,
    month_accuracy,
)
from api.simulate_loop.reviewers import Fatigue, Reviewer
from api.simulate_loop.settings import DAYS_PER_MONTH, MONTH, LoopSettings, driver_key
from domain.clock import ManualClock
from ml.worlds import ACTIONS, RULES, WorldCase, generate_world

UPSTREAM = "upstream"
ANALYST_AT, SENIOR_AT = 0.70, 0.50
WORKDAY = timedelta(hours=9)
JOB_POLL_SECONDS = 0.2


class LoopDriver:
    """Runs the months of one loop on an InProcessApi whose clock is `clock`."""

    def __init__(
        self,
        api: InProcessApi,
        clock: ManualClock,
        settings: LoopSettings,
        admin: str,
        say: Callable[[str], None] = print,
    ) -> None:
        self.api, self.clock, self.settings, self.admin, self.say = (
            api,
            clock,
            settings,
            admin,
            say,
        )
        self.key = driver_key(settings)
        self.rng = random.Random(settings.seed)
        self.service = ""
        self.analysts: list[Reviewer] = []
        self.senior: Reviewer | None = None
        self.served: str | None = None  # the ACTIVE model's version label, once there is one
        self.threshold = 1.0
        self.last_recommendation = ""
        self._pending: dict[str, Routed] = {}  # by externalId: submitted, waiting for people

    async def open(self) -> None:
        """The workflow (every proposal to a person until the evidence says otherwise),
        the service that submits, the analysts and the senior."""
        s = self.settings
        policy = {
            "autoApproveAt": 1.0,
            "analystAt": ANALYST_AT,
            "seniorAt": SENIOR_AT,
            "auditSampleRate": s.audit_sample_rate,
            "note": "simulate-loop: people see every proposal until a threshold is guaranteed",
        }
        await self.api.result(
            ops.CREATE_WORKFLOW,
            self.admin,
            input={
                "key": self.key,
                "name": f"Simulated loans ({RULES[s.world].label})",
                "kind": "CLASSIFICATION",
                "reviewerRole": "EXPERT",
                "actions": list(ACTIONS),
                "policy": policy,
            },
        )
        self.service = await self._user("loop-service", "SERVICE")
        fatigue = Fatigue()
        for n in range(s.analysts):
            token = await self._user(f"loop-analyst-{n + 1}", "ANALYST")
            self.analysts.append(Reviewer(f"analyst {n + 1}", token, s.world, fatigue, self.rng))
        token = await self._user("loop-senior", "SENIOR")
        self.senior = Reviewer("senior", token, s.world, fatigue, self.rng)

    async def _user(self, name: str, role: str) -> str:
        created = await self.api.result(ops.CREATE_USER, self.admin, name=name, role=role)
        return str(created["token"])

    # ------------------------------------------------------------------ a month

    async def month(self, index: int, feed: ModelEventFeed) -> MonthFigures:
        """Run simulated month `index` (0-based) and measure it."""
        s = self.settings
        begins = self.settings.start + index * MONTH
        rules = [s.rule_of(index, day) for day in range(DAYS_PER_MONTH)]
        worlds = {
            rule: generate_world(s.cases_per_month, s.seed * 1000 + index, rule)
            for rule in dict.fromkeys(rules)
        }
        threshold_start = self.threshold
        proposer = self.served or UPSTREAM
        routed: list[Routed] = []
        reviews = audits = mistakes = 0
        per_day = [worlds[rules[d]][d::DAYS_PER_MONTH] for d in range(DAYS_PER_MONTH)]
        for day, todays in enumerate(per_day):
            self.clock.set(begins + timedelta(days=day) + WORKDAY)
            for reviewer in [*self.analysts, *([self.senior] if self.senior else [])]:
                reviewer.rule = rules[day]  # the concern people write about is the day's
            routed_today = await self._submit(index, day, todays)
            routed.extend(routed_today)
            done, audited, slips = await self._review_day(day)
            reviews, audits, mistakes = reviews + done, audits + audited, mistakes + slips
            if (day + 1) % s.threshold_every_days == 0 or day == DAYS_PER_MONTH - 1:
                await self._move_ladder()
        threshold_end = self.threshold
        self.clock.set(begins + MONTH - timedelta(hours=6))
        themes = await self._run_job(ops.MINE_THEMES)
        retraining = await self._run_job(ops.START_RETRAINING)
        standing = await self.api(ops.STANDING, self.admin, workflow=self.key)
        active = standing["workflow"]["activeModel"]
        self.served = f"v{active['version']}" if active else None
        feedback = standing["feedbackReport"]
        found = standing["overrideThemes"]
        top = found["themes"][0] if found and found["themes"] else None
        await asyncio.sleep(0.05)  # let a drift event raised by the last sweep arrive
        heard = feed.drain()
        alarms = [e["message"] for e in heard if e["kind"] == "DRIFT"]
        accuracy, accuracy_se, realised, upstream = month_accuracy(routed)
        share, error = auto_approval(routed)
        figures = MonthFigures(
            month=index + 1,
            world=" -> ".join(dict.fromkeys(rules)),
            start=begins.isoformat(),
            end=self.clock().isoformat(),
            proposer=proposer,
            cases=len(routed),
            accuracy=accuracy,
            accuracy_realised=realised,
            upstream_accuracy=upstream,
            bayes_accuracy=BAYES_ACCURACY,
            auto_approved_share=share,
            auto_approved_error=error,
            human_reviews=reviews,
            audit_reviews=audits,
            reviewer_mistakes=mistakes,
            threshold_start=threshold_start,
            threshold_end=threshold_end,
            recommendation=self.last_recommendation,
            top_theme=f"{top['label']} ({top['share']:.0%})" if top else themes,
            retraining=retraining,
            active_model_after=self.served,
            feedback=feedback["message"] if feedback else None,
            drift_alarms=alarms,
            model_events=[f"{e['kind']} v{e['model']['version']}" for e in heard],
            accuracy_se=accuracy_se,
        )
        self.say(_progress(figures))
        return figures

    async def _submit(self, month: int, day: int, cases: list[WorldCase]) -> list[Routed]:
        ids = [f"m{month + 1}-d{day + 1}-{n}" for n in range(len(cases))]
        if self.served is None:
            items = [
                {
                    "payload": c.payload,
                    "proposedAction": c.upstream_action,
                    "confidence": c.upstream_confidence,
                    "externalId": i,
                    "modelVersion": UPSTREAM,
                }
                for c, i in zip(cases, ids, strict=True)
            ]
            answer = await self.api.result(
                ops.SUBMIT_RECOMMENDATIONS, self.service, workflow=self.key, items=items
            )
        else:
            answer = await self.api.result(
                ops.SUBMIT_CASES,
                self.service,
                workflow=self.key,
                cases=[
                    {"payload": c.payload, "externalId": i} for c, i in zip(cases, ids, strict=True)
                ],
            )
        routed = [
            Routed(
                case=case,
                proposed=item["proposedAction"],
                confidence=item["confidence"],
                tier=item["tier"],
                auto_approved=item["tier"] == "AUTO_APPROVE" and item["status"] == "APPROVED",
                sampled_for_audit=item["sampledForAudit"],
            )
            for case, item in zip(cases, answer["recommendations"], strict=True)
        ]
        for item, one in zip(answer["recommendations"], routed, strict=True):
            if item["status"] == "PENDING":
                self._pending[item["externalId"]] = one
        return routed

    async def _review_day(self, day: int) -> tuple[int, int, int]:
        """The analyst on duty works the analyst queue, the senior the senior one, each
        until it is empty. Returns (decisions, of them audit samples, mistakes)."""
        assert self.senior is not None
        analyst = self.analysts[day % len(self.analysts)]
        totals = [0, 0, 0]
        for reviewer, tier in ((analyst, "ANALYST_REVIEW"), (self.senior, "SENIOR_REVIEW")):
            reviewer.start_run()
            while True:
                claimed = await self.api(
                    ops.CLAIM_NEXT, reviewer.token, workflow=self.key, tiers=[tier]
                )
                answer = claimed["claimNext"]
                if answer["__typename"] != "ClaimSuccess":
                    break
                item = answer["recommendation"]
                found = self._pending.pop(item["externalId"])
                self.clock.advance(timedelta(seconds=self.rng.uniform(30, 150)))
                call = reviewer.call(found.case, item["proposedAction"], ACTIONS)
                if call.approve:
                    await self.api.result(
                        ops.APPROVE, reviewer.token, id=item["id"], version=item["version"]
                    )
                else:
                    await self.api.result(
                        ops.OVERRIDE,
                        reviewer.token,
                        id=item["id"],
                        version=item["version"],
                        action=call.action,
                        reason=call.reason or "",
                    )
                totals[0] += 1
                totals[1] += found.sampled_for_audit
                totals[2] += call.mistaken
        return totals[0], totals[1], totals[2]

    async def _move_ladder(self) -> None:
        """Ask recommendThreshold; move the ladder when it names another threshold."""
        s = self.settings
        data = await self.api(
            ops.RECOMMEND_THRESHOLD,
            self.admin,
            workflow=self.key,
            target=s.max_auto_approve_error,
            level=s.confidence_level,
        )
        answer = data["recommendThreshold"]
        self.last_recommendation = answer["message"]
        at = answer["autoApproveAt"]
        if at is None or abs(at - self.threshold) < 1e-9:
            return
        await self.api.result(
            ops.UPDATE_POLICY,
            self.admin,
            workflow=self.key,
            input={
                "autoApproveAt": at,
                "analystAt": min(ANALYST_AT, at),
                "seniorAt": min(SENIOR_AT, at),
                "note": f"recommendThreshold: {answer['message']}"[:1000],
            },
        )
        self.threshold = at
        self.say(f"  {self.clock().date()}: the ladder moves to {at:.2f}: {answer['message']}")

    async def _run_job(self, start: str) -> str:
        """Start a job (MINE_THEMES or RETRAIN), wait for it to end; its message."""
        started = await self.api.result(start, self.admin, workflow=self.key)
        job_id = started["job"]["id"]
        while True:
            job: dict[str, Any] = (await self.api(ops.JOB, self.admin, id=job_id))["job"]
            if job["state"] in ("SUCCEEDED", "FAILED"):
                message = job["message"] or job["state"].lower()
                if job["state"] == "FAILED":
                    raise ApiError(f"the job failed: {message}")
                return str(message)
            await asyncio.sleep(JOB_POLL_SECONDS)


def _progress(m: MonthFigures) -> str:
    error = "-" if m.auto_approved_error is None else f"{m.auto_approved_error:.1%}"
    return (
        f"month {m.month} ({m.proposer} proposes): accuracy {m.accuracy:.1%}, "
        f"auto-approved {m.auto_approved_share:.0%} (error {error}), "
        f"{m.human_reviews} human reviews; ladder {m.threshold_start:.2f} -> "
        f"{m.threshold_end:.2f}; {m.retraining}"
    )

"""Entities with behaviour: users, workflows, recommendations and the decisions on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.consensus import Review, outcome_of, tally
from domain.decisions import Decision, Override
from domain.enums import (
    DECIDABLE_STATUSES,
    OPEN_STATUSES,
    ConsensusState,
    FloorAction,
    RecommendationStatus,
    ReviewerRole,
    Role,
    Tier,
    Verdict,
    WorkflowKind,
)
from domain.errors import ConflictError, ForbiddenError, InvalidInputError
from domain.ids import new_id
from domain.policy import EscalationPolicy, ReviewRule
from domain.rights import allowed_verdicts, may_decide
from domain.users import User, hash_token, new_token

# Decision, Override, User and the token helpers live in their own modules; they are
# re-exported here because every layer imports the entities from domain.model.
__all__ = [
    "Claim",
    "Decision",
    "Draft",
    "DraftRevision",
    "Override",
    "Recommendation",
    "User",
    "Workflow",
    "hash_token",
    "new_token",
]

Status = RecommendationStatus


@dataclass
class Workflow:
    id: str
    key: str
    name: str
    kind: WorkflowKind
    reviewer_role: ReviewerRole
    actions: list[str]
    score_label: str | None
    created_at: datetime
    policy: EscalationPolicy
    # Who reviews it: only these teams' members (and admins); none: every fitting role.
    team_ids: tuple[str, ...] = ()

    def require_action(self, action: str, field_name: str) -> None:
        if action not in self.actions:
            raise InvalidInputError(
                f"{action!r} is not one of this workflow's actions: {', '.join(self.actions)}",
                field_name,
            )

    def require_verdict(self, verdict: Verdict) -> None:
        allowed = allowed_verdicts(self.reviewer_role, self.kind)
        if verdict not in allowed:
            raise ForbiddenError(
                f"{verdict.value} is not offered in workflow {self.key!r} "
                f"({self.kind.value}, reviewers are {self.reviewer_role.value}s); "
                f"allowed: {', '.join(sorted(v.value for v in allowed))}"
            )


@dataclass
class DraftRevision:
    content: str
    predicted_score: float | None
    author_id: str | None
    created_at: datetime


@dataclass
class Draft:
    original: str
    content: str
    original_predicted_score: float | None = None
    predicted_score: float | None = None


@dataclass
class Claim:
    reviewer_id: str
    claimed_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass
class Recommendation:
    id: str
    workflow_id: str
    payload: dict[str, Any]
    proposed_action: str
    confidence: float
    created_at: datetime
    external_id: str | None = None
    subject: str | None = None
    explanation: list[dict[str, Any]] = field(default_factory=list)
    stakes: float | None = None
    model_version: str | None = None
    draft: Draft | None = None
    tier: Tier = Tier.ANALYST_REVIEW
    status: Status = Status.PENDING
    sampled_for_audit: bool = False
    version: int = 1
    claim: Claim | None = None
    flagged: bool = False
    confirm_until: datetime | None = None
    sla_due_at: datetime | None = None
    sla_breached: bool = False
    final_action: str | None = None
    decided_at: datetime | None = None
    # A known-wrong copy of a past overridden item (`canary_of`), handed to one reviewer
    # by claimNext to check attention. Never shown as such through the API.
    canary: bool = False
    canary_of: str | None = None
    # Pinned to one reviewer or one team: only they may claim or decide it.
    assignee_id: str | None = None
    assigned_team_id: str | None = None
    # Several reviews (domain.consensus): the rule fixed when the item entered a human
    # tier, who submitted it (kept from voting under four eyes), and the reviews so far.
    reviews_required: int = 1
    agreement_required: int = 1
    four_eyes: bool = False
    submitted_by_id: str | None = None
    consensus_state: ConsensusState | None = None
    reviews: list[Review] = field(default_factory=list)

    # ------------------------------------------------------------ routing

    def route(
        self, policy: EscalationPolicy, now: datetime, sample_for_audit: bool = False
    ) -> Decision | None:
        """Place a new (or re-routed PENDING) item on the ladder.

        Returns the automated Decision when the ladder decides by itself
        (auto-approval, rejection below the floor, a request for more data).
        """
        tier = policy.tier_for(self.confidence, self.stakes)
        if tier is Tier.AUTO_APPROVE and (sample_for_audit or self.sampled_for_audit):
            self.sampled_for_audit = True
            tier = Tier.ANALYST_REVIEW
        self.tier = tier
        self.sla_due_at = policy.sla_due(tier, now)
        self._set_review_rule(policy)
        if tier is Tier.AUTO_APPROVE:
            return self._decide_automatically(Verdict.APPROVE, policy, now)
        if tier is Tier.BELOW_FLOOR:
            if policy.below_floor is FloorAction.REJECT:
                return self._decide_automatically(Verdict.REJECT, policy, now)
            self.status = Status.NEEDS_DATA
            return self._automated_decision(Verdict.REQUEST_MORE_DATA, policy, now, None)
        self.status = Status.FLAGGED if self.flagged else Status.PENDING
        return None

    def _decide_automatically(
        self, verdict: Verdict, policy: EscalationPolicy, now: datetime
    ) -> Decision:
        if verdict is Verdict.APPROVE:
            self.status, self.final_action = Status.APPROVED, self.proposed_action
        else:
            self.status, self.final_action = Status.REJECTED, None
        self.decided_at = now
        return self._automated_decision(verdict, policy, now, self.final_action)

    def _automated_decision(
        self, verdict: Verdict, policy: EscalationPolicy, now: datetime, final: str | None
    ) -> Decision:
        return Decision(
            id=new_id("dec"),
            workflow_id=self.workflow_id,
            recommendation_id=self.id,
            verdict=verdict,
            automated=True,
            actor_id=None,
            proposed_action=self.proposed_action,
            final_action=final,
            confidence=self.confidence,
            tier=self.tier,
            policy_version=policy.version,
            created_at=now,
            reason=f"policy v{policy.version}: confidence {self.confidence:.2f}",
            model_version=self.model_version,
        )

    def _set_review_rule(self, policy: EscalationPolicy) -> None:
        """Fix how many reviews the item needs as it enters a tier (once reviewing has
        begun, its rule stands)."""
        if self.reviews or self.canary:
            return
        human = self.tier in (Tier.ANALYST_REVIEW, Tier.SENIOR_REVIEW)
        rule = policy.review_rule(self.stakes) if human else ReviewRule()
        self.reviews_required, self.agreement_required = rule.reviews, rule.agreement
        self.four_eyes = rule.four_eyes
        self.consensus_state = ConsensusState.COLLECTING if rule.needs_consensus else None

    # ------------------------------------------------------------ several reviews

    @property
    def review_rule(self) -> tuple[int, int, bool, ConsensusState | None]:
        """How many reviews it needs, how many must agree, four eyes, and the state."""
        return (
            self.reviews_required,
            self.agreement_required,
            self.four_eyes,
            self.consensus_state,
        )

    @property
    def collecting(self) -> bool:
        """Votes are coming in: each reviewer's decision is one vote of several."""
        return self.consensus_state is ConsensusState.COLLECTING

    def under_review(self, now: datetime) -> bool:
        """Reviewing has begun (a live lease or a vote): the ladder no longer moves it."""
        return self.collecting and any(r.engaged(now) for r in self.reviews)

    def votes_in(self) -> int:
        return sum(1 for r in self.reviews if r.voted)

    def review_of(self, user_id: str) -> Review | None:
        return next((r for r in self.reviews if r.reviewer_id == user_id), None)

    def live_reviews(self, now: datetime) -> list[Review]:
        return [r for r in self.reviews if r.is_live(now)]

    def open_reviews(self, now: datetime) -> int:
        """Reviews still to hand out: required, less votes and live leases."""
        return self.reviews_required - sum(1 for r in self.reviews if r.engaged(now))

    def hides_votes_from(self, user: User, blind: bool) -> bool:
        """Blind review: until a reviewer has voted on an item that still collects votes,
        its votes are hidden from them (never from admins)."""
        if not blind or not self.collecting or user.role is Role.ADMIN:
            return False
        mine = self.review_of(user.id)
        return mine is None or not mine.voted

    def require_may_vote(self, user: User, now: datetime) -> Review | None:
        """The caller's live lease, if any; refuses a proposer under four eyes, a second
        vote, and a reviewer with no lease when every review is taken."""
        if self.four_eyes and user.id == self.submitted_by_id:
            raise ForbiddenError(
                "four eyes: the user who submitted this high-stakes item may not review it"
            )
        mine = self.review_of(user.id)
        if mine is not None and mine.voted:
            raise ConflictError(
                "you have already reviewed this item; each reviewer votes once",
                self.status.value,
                self.version,
            )
        if (mine is None or not mine.is_live(now)) and self.open_reviews(now) <= 0:
            raise ConflictError(
                f"every one of this item's {self.reviews_required} reviews is taken",
                self.status.value,
                self.version,
            )
        return mine if mine is not None and mine.is_live(now) else None

    def _claim_review(self, user: User, now: datetime, lease: timedelta) -> Claim:
        mine = self.require_may_vote(user, now)
        claimed_at = mine.claimed_at if mine is not None else now
        self.reviews = [r for r in self.reviews if r.reviewer_id != user.id]
        self.reviews.append(Review(user.id, claimed_at, now + lease))
        self.version += 1
        return Claim(reviewer_id=user.id, claimed_at=claimed_at, expires_at=now + lease)

    def _end_unvoted_reviews(self) -> None:
        self.reviews = [r for r in self.reviews if r.voted]

    def take_back_vote(self, decision: Decision) -> None:
        """Undo one's own vote while the item still collects votes: that review is gone."""
        if not self.collecting:
            raise ConflictError(
                "the votes on this item are counted already; a vote can be taken back only "
                "while the item still collects them",
                self.status.value,
                self.version,
            )
        self.reviews = [r for r in self.reviews if r.decision_id != decision.id]
        self.version += 1

    def reroute(self, policy: EscalationPolicy, now: datetime) -> Decision | None:
        """Route a waiting item again after a policy change; a lapsed lease or confirmation
        is let go."""
        if self._lapsed(now) and self.live_claim(now) is None:
            self._free()
        self.reviews = [r for r in self.reviews if r.engaged(now)]
        return self.route(policy, now)

    def sweep(self, policy: EscalationPolicy, now: datetime) -> list[str]:
        """What the SLA sweep does to this item; returns the event kinds it caused.

        A lapsed lease or confirmation is let go (RELEASED); an overdue analyst item
        nobody holds moves to the senior queue with a new slaDueAt (ESCALATED); an
        overdue senior item is marked breached (ESCALATED). Each happens once: the
        conditions no longer hold afterwards.
        """
        kinds: list[str] = []
        before = (self.status, self.tier, self.sla_breached, self.claim)
        if self._lapsed(now):
            if self.live_claim(now) is not None:
                self.status, self.confirm_until = Status.CLAIMED, None
            else:
                self._free()
                kinds.append("RELEASED")
        overdue = (
            self.status in OPEN_STATUSES and self.sla_due_at is not None and self.sla_due_at <= now
        )
        held = self.live_claim(now) is not None or bool(self.live_reviews(now))
        if overdue and self.tier is Tier.ANALYST_REVIEW and not held:
            self.tier = Tier.SENIOR_REVIEW
            self.sla_due_at = policy.sla_due(Tier.SENIOR_REVIEW, now)
            kinds.append("ESCALATED")
        elif overdue and self.tier is Tier.SENIOR_REVIEW and not self.sla_breached:
            self.sla_breached = True
            kinds.append("ESCALATED")
        if (self.status, self.tier, self.sla_breached, self.claim) != before:
            self.version += 1
        return kinds

    def provide_data(self, data: dict[str, Any], policy: EscalationPolicy, now: datetime) -> None:
        """Merge new data into a NEEDS_DATA item and send it to the senior queue."""
        if self.status is not Status.NEEDS_DATA:
            raise ConflictError(
                "only items waiting for data (NEEDS_DATA) take more data",
                self.status.value,
                self.version,
            )
        self.payload = {**self.payload, **data}
        self.tier = Tier.SENIOR_REVIEW
        self.status = Status.PENDING
        self.sla_due_at = policy.sla_due(Tier.SENIOR_REVIEW, now)
        self._set_review_rule(policy)
        self.version += 1

    # ------------------------------------------------------------ state

    def live_claim(self, now: datetime) -> Claim | None:
        if self.claim is not None and self.claim.is_live(now):
            return self.claim
        return None

    def _lapsed(self, now: datetime) -> bool:
        """A lease or an outstanding confirmation that ran out without a write."""
        if self.status is Status.CLAIMED:
            return self.live_claim(now) is None
        if self.status is Status.AWAITING_CONFIRMATION:
            return self.confirm_until is None or self.confirm_until <= now
        return False

    def effective_status(self, now: datetime) -> Status:
        """The status as a reader should see it: an expired lease is free again, and an
        unanswered confirmation lapses back to what the item was before."""
        if not self._lapsed(now):
            return self.status
        if self.live_claim(now) is not None:
            return Status.CLAIMED
        return Status.FLAGGED if self.flagged else Status.PENDING

    def _require_open(self, now: datetime) -> None:
        if self.status not in DECIDABLE_STATUSES:
            raise ConflictError(
                f"this item was already decided ({self.status.value})",
                self.status.value,
                self.version,
            )

    def _require_not_held_by_other(self, user: User, now: datetime) -> None:
        claim = self.live_claim(now)
        if claim is not None and claim.reviewer_id != user.id:
            raise ConflictError(
                f"this item is claimed by someone else until {claim.expires_at.isoformat()}",
                self.effective_status(now).value,
                self.version,
            )

    def _require_rights(self, user: User) -> None:
        if not may_decide(user.role, self.tier, self.status):
            what = "NEEDS_DATA" if self.status is Status.NEEDS_DATA else self.tier.value
            raise ForbiddenError(f"a {user.role.value} may not decide {what} items")

    def require_decidable_by(self, user: User, now: datetime) -> None:
        """Every check a decision needs, in the order a reviewer would want to hear them."""
        self._require_rights(user)
        self._require_open(now)
        self._require_not_held_by_other(user, now)

    def claim_for(self, user: User, now: datetime, lease: timedelta) -> Claim:
        """Lease this item to `user`; renewing one's own live lease is allowed."""
        self._require_rights(user)
        self._require_open(now)
        if self.status is Status.NEEDS_DATA:
            raise ConflictError(
                "this item waits for more data (provideData) and cannot be claimed",
                self.status.value,
                self.version,
            )
        if self.collecting:
            return self._claim_review(user, now, lease)
        self._require_not_held_by_other(user, now)
        mine = self.live_claim(now)
        # Renewing keeps the first claim time: dwell is measured from when reading began.
        claimed_at = mine.claimed_at if mine is not None else now
        self.claim = Claim(reviewer_id=user.id, claimed_at=claimed_at, expires_at=now + lease)
        self.status = Status.CLAIMED
        self.version += 1
        return self.claim

    def release_by(self, user: User, now: datetime) -> None:
        if self.collecting:
            mine = self.review_of(user.id)
            if mine is None or not mine.is_live(now):
                raise ConflictError(
                    "you hold no lease on this item", self.effective_status(now).value, self.version
                )
            self.reviews.remove(mine)
            self.version += 1
            return
        claim = self.live_claim(now)
        if claim is None:
            raise ConflictError(
                "this item is not claimed", self.effective_status(now).value, self.version
            )
        if claim.reviewer_id != user.id and user.role is not Role.ADMIN:
            raise ConflictError(
                "this item is claimed by someone else", self.status.value, self.version
            )
        self._free()
        self.version += 1

    def _free(self) -> None:
        self.claim = None
        self.confirm_until = None
        self.status = Status.FLAGGED if self.flagged else Status.PENDING

    def pin(
        self, assignee_id: str | None, team_id: str | None, now: datetime, *, keep_claim: bool
    ) -> bool:
        """Pin this open item to a reviewer or a team (both None: unpin). A live claim of
        someone the pin now excludes ends (`keep_claim` False). True when anything changed."""
        if self.status not in DECIDABLE_STATUSES:
            raise ConflictError(
                f"this item was already decided ({self.status.value}); it cannot be assigned",
                self.status.value,
                self.version,
            )
        claim = self.live_claim(now)
        unchanged = (self.assignee_id, self.assigned_team_id) == (assignee_id, team_id)
        if unchanged and (claim is None or keep_claim):
            return False
        self.assignee_id, self.assigned_team_id = assignee_id, team_id
        if claim is not None and not keep_claim and self.status is not Status.NEEDS_DATA:
            self._free()
        self.version += 1
        return True

    def await_confirmation(self, until: datetime) -> None:
        """A high-stakes decision was asked: the token is outstanding until `until`.

        The version stays, so that the token (bound to it) remains valid.
        """
        self.status = Status.AWAITING_CONFIRMATION
        self.confirm_until = until

    def _outcome(
        self, workflow: Workflow, verdict: Verdict, action: str | None, content: str | None
    ) -> tuple[Status, str | None, str | None]:
        """What a verdict would make of this item: its status, final action and edited
        content. Checks the verdict's arguments; changes nothing."""
        if verdict is Verdict.APPROVE:
            return Status.APPROVED, self.proposed_action, None
        if verdict is Verdict.REJECT:
            return Status.REJECTED, None, None
        if verdict is Verdict.OVERRIDE:
            assert action is not None
            workflow.require_action(action, "action")
            if action == self.proposed_action:
                raise InvalidInputError(
                    "an override must choose another action than the proposal; approve instead",
                    "action",
                )
            return Status.OVERRIDDEN, action, None
        if verdict is Verdict.EDIT:
            assert content is not None
            if self.draft is None:
                raise InvalidInputError("this recommendation has no draft to edit", "content")
            return Status.EDITED, self.proposed_action, content
        raise InvalidInputError(f"{verdict.value} is not a reviewer's verdict", "verdict")

    def _take_outcome(
        self, status: Status, final: str | None, edited: str | None, now: datetime
    ) -> None:
        if edited is not None and self.draft is not None:
            self.draft.content = edited
            self.draft.predicted_score = None
        self.status, self.final_action, self.decided_at = status, final, now
        self.claim = None

    def decide(
        self,
        user: User,
        workflow: Workflow,
        verdict: Verdict,
        now: datetime,
        *,
        reason: str | None = None,
        reason_tags: list[str] | None = None,
        action: str | None = None,
        content: str | None = None,
    ) -> Decision:
        """Apply a human verdict. Checks rights, state, the lease and the workflow's offer.

        On an item that collects votes, an approve / reject / override / edit is one vote
        (`Decision.vote`): the item takes an outcome only when enough votes agree on it
        (see `_vote`). A decision on a DISPUTED item adjudicates it."""
        self.require_decidable_by(user, now)
        workflow.require_verdict(verdict)
        if self.collecting and verdict is not Verdict.FLAG:
            return self._vote(user, workflow, verdict, now, reason, reason_tags, action, content)
        claim = self.live_claim(now)
        dwell_ms = None
        if claim is not None and claim.reviewer_id == user.id:
            dwell_ms = max(0, int((now - claim.claimed_at).total_seconds() * 1000))
        final: str | None = None
        edited = None
        if verdict is Verdict.FLAG:
            if self.status is Status.NEEDS_DATA:
                raise ConflictError(
                    "this item waits for more data (provideData); it cannot be flagged",
                    self.status.value,
                    self.version,
                )
            self.flagged = True
            self.claim = None
            self.status = Status.FLAGGED
            # A flag is not a vote: the flagger's lease on a review ends, nothing else.
            self.reviews = [r for r in self.reviews if r.voted or r.reviewer_id != user.id]
        else:
            status, final, edited = self._outcome(workflow, verdict, action, content)
            self._take_outcome(status, final, edited, now)
            if self.consensus_state is ConsensusState.DISPUTED:
                self.consensus_state = ConsensusState.ADJUDICATED
        self.version += 1
        return self._human_decision(
            user, workflow, verdict, now, final, reason, reason_tags, edited, dwell_ms
        )

    def _human_decision(
        self,
        user: User,
        workflow: Workflow,
        verdict: Verdict,
        now: datetime,
        final: str | None,
        reason: str | None,
        reason_tags: list[str] | None,
        edited: str | None,
        dwell_ms: int | None,
        vote: bool = False,
    ) -> Decision:
        return Decision(
            id=new_id("dec"),
            workflow_id=self.workflow_id,
            recommendation_id=self.id,
            verdict=verdict,
            automated=False,
            actor_id=user.id,
            proposed_action=self.proposed_action,
            final_action=final,
            confidence=self.confidence,
            tier=self.tier,
            policy_version=workflow.policy.version,
            created_at=now,
            reason=reason,
            reason_tags=list(reason_tags or []),
            edited_content=edited,
            dwell_ms=dwell_ms,
            vote=vote,
            model_version=self.model_version,
        )

    def _vote(
        self,
        user: User,
        workflow: Workflow,
        verdict: Verdict,
        now: datetime,
        reason: str | None,
        reason_tags: list[str] | None,
        action: str | None,
        content: str | None,
    ) -> Decision:
        """One reviewer's vote. The vote that makes `agreement_required` votes agree gives
        the item their outcome (it is the item's deciding decision); when every required
        vote is in and not enough agree, the item is DISPUTED and waits in SENIOR_REVIEW
        for an adjudication. Leases of reviewers who have not voted end either way."""
        mine = self.require_may_vote(user, now)
        status, final, edited = self._outcome(workflow, verdict, action, content)
        dwell_ms = None
        if mine is not None:
            dwell_ms = max(0, int((now - mine.claimed_at).total_seconds() * 1000))
        decision = self._human_decision(
            user, workflow, verdict, now, final, reason, reason_tags, edited, dwell_ms, True
        )
        review = Review(
            reviewer_id=user.id,
            claimed_at=mine.claimed_at if mine is not None else now,
            expires_at=now,
            decision_id=decision.id,
            outcome=outcome_of(verdict, final, edited),
        )
        self.reviews = [r for r in self.reviews if r.reviewer_id != user.id] + [review]
        counted = tally(self.reviews)
        if counted.agreeing >= self.agreement_required and counted.leading == review.outcome:
            self._take_outcome(status, final, edited, now)
            self.consensus_state = ConsensusState.REACHED
            self._end_unvoted_reviews()
        elif counted.votes >= self.reviews_required:
            self.consensus_state = ConsensusState.DISPUTED
            self.tier = Tier.SENIOR_REVIEW
            self.sla_due_at = workflow.policy.sla_due(Tier.SENIOR_REVIEW, now)
            self.sla_breached = False
            self._end_unvoted_reviews()
        self.version += 1
        return decision

    # ------------------------------------------------------------ undo

    def undo(
        self,
        decision: Decision,
        *,
        flagged_before: bool,
        previous_draft: tuple[str, float | None] | None,
    ) -> None:
        """Take back `decision` (this item's latest): the item returns to where it waited.

        `flagged_before` says whether the item was flagged before the decision (an earlier
        FLAG still stands); `previous_draft` is the draft content (and its score) an EDIT
        replaced. The caller checks who may undo what and when (domain.usecases.undo).
        """
        if decision.vote:
            raise ConflictError(
                "the votes on this item are counted already; a vote can be taken back only "
                "while the item still collects them",
                self.status.value,
                self.version,
            )
        if decision.verdict is Verdict.FLAG:
            if self.status is not Status.FLAGGED or self.claim is not None:
                raise ConflictError(
                    "the flagged item was picked up since; it cannot be unflagged now",
                    self.status.value,
                    self.version,
                )
            self.flagged = flagged_before
        elif self.status in DECIDABLE_STATUSES or self.final_action != decision.final_action:
            raise ConflictError(
                "the item is no longer in the state this decision left it in",
                self.status.value,
                self.version,
            )
        if decision.verdict is Verdict.EDIT and self.draft is not None:
            content, score = previous_draft or (self.draft.original, None)
            self.draft.content = content
            self.draft.predicted_score = score
        self.final_action = None
        self.decided_at = None
        self.claim = None
        self.confirm_until = None
        if self.consensus_state is ConsensusState.ADJUDICATED:
            self.consensus_state = ConsensusState.DISPUTED
        if self.tier is Tier.BELOW_FLOOR:
            # Only items waiting for data are decided by a person in the floor tier.
            self.status = Status.NEEDS_DATA
        else:
            self.status = Status.FLAGGED if self.flagged else Status.PENDING
        self.version += 1

    def undo_decision(
        self, decision: Decision, user: User, workflow: Workflow, now: datetime
    ) -> Decision:
        """The UNDO record that takes back `decision`; it is itself logged and chained."""
        return Decision(
            id=new_id("dec"),
            workflow_id=self.workflow_id,
            recommendation_id=self.id,
            verdict=Verdict.UNDO,
            automated=False,
            actor_id=user.id,
            proposed_action=decision.proposed_action,
            final_action=None,
            confidence=decision.confidence,
            tier=decision.tier,
            policy_version=workflow.policy.version,
            created_at=now,
            reason=f"undid {decision.verdict.value} {decision.id}",
            reverts_id=decision.id,
            model_version=self.model_version,
        )

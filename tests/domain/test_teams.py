"""Teams and assignment as rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.admin_actions import AdminAction, without_secrets
from domain.enums import RecommendationStatus, Role
from domain.errors import ConflictError, InvalidInputError
from domain.model import Recommendation, User
from domain.teams import ReviewerIdentity, require_team_key, reviews_workflow

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def create_user(role: Role = Role.ANALYST, user_id: str = "usr_ana") -> User:
    return User(id=user_id, name=user_id, role=role, created_at=NOW)


def create_item(**fields: object) -> Recommendation:
    item = Recommendation(
        id="rec_1",
        workflow_id="wf_1",
        payload={},
        proposed_action="A",
        confidence=0.8,
        created_at=NOW,
    )
    for name, value in fields.items():
        setattr(item, name, value)
    return item


def test_a_workflow_without_teams_is_reviewed_by_everyone_of_a_fitting_role():
    assert reviews_workflow(create_user(), (), set())


def test_a_workflow_with_teams_is_reviewed_only_by_their_members():
    analyst = create_user()
    assert not reviews_workflow(analyst, ("team_a",), {"team_b"})
    assert reviews_workflow(analyst, ("team_a", "team_c"), {"team_b", "team_c"})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SERVICE])
def test_admins_and_services_see_every_workflow(role):
    assert reviews_workflow(create_user(role), ("team_a",), set())


def test_an_unpinned_item_is_anyones_and_a_pinned_one_only_its_reviewers_or_teams():
    ana = ReviewerIdentity("usr_ana", frozenset({"team_a"}))
    assert ana.may_take(None, None)
    assert ana.may_take("usr_ana", None)
    assert not ana.may_take("usr_bob", None)
    assert ana.may_take(None, "team_a")
    assert not ana.may_take(None, "team_b")


@pytest.mark.parametrize("key", ["", "Team", "-team", "a" * 65, "team a", "tëam"])
def test_a_team_key_is_short_lower_case_and_plain(key):
    with pytest.raises(InvalidInputError):
        require_team_key(key)


def test_pinning_an_item_ends_the_claim_of_someone_it_now_excludes():
    item = create_item()
    item.claim_for(create_user(), NOW, timedelta(minutes=5))
    version = item.version

    assert item.pin("usr_bob", None, NOW, keep_claim=False)

    assert item.claim is None and item.status is RecommendationStatus.PENDING
    assert item.assignee_id == "usr_bob" and item.version == version + 1


def test_pinning_keeps_the_claim_of_the_reviewer_it_pins_to():
    item = create_item()
    item.claim_for(create_user(), NOW, timedelta(minutes=5))

    assert item.pin("usr_ana", None, NOW, keep_claim=True)

    assert item.status is RecommendationStatus.CLAIMED and item.claim is not None


def test_pinning_the_same_way_again_changes_nothing():
    item = create_item(assignee_id="usr_bob")
    version = item.version
    assert not item.pin("usr_bob", None, NOW, keep_claim=True)
    assert item.version == version


def test_a_decided_item_cannot_be_pinned():
    item = create_item(status=RecommendationStatus.APPROVED)
    with pytest.raises(ConflictError):
        item.pin("usr_bob", None, NOW, keep_claim=True)


def test_the_admin_record_leaves_secrets_out_at_any_depth():
    details = {"url": "https://x", "secret": "s3", "nested": {"Token": "t", "keep": 1}}
    assert without_secrets(details) == {
        "url": "https://x",
        "secret": "(secret)",
        "nested": {"Token": "(secret)", "keep": 1},
    }
    recorded = AdminAction.record("usr_admin", "createWebhook", "wf", details)
    assert recorded.details is not None and "s3" not in repr(recorded.details)

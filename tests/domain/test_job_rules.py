"""A job's life as the domain rules it: who may claim it, and when its worker is dead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.jobs import Job, JobKind, JobState

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
STALE_AFTER = timedelta(seconds=120)


def running(beat_seconds_ago: float) -> Job:
    job = Job.new(JobKind.RETRAIN, NOW - timedelta(hours=1))
    job.start(NOW - timedelta(seconds=beat_seconds_ago))
    return job


def test_a_queued_job_is_claimable_and_starting_it_counts_an_attempt():
    job = Job.new(JobKind.RETRAIN, NOW)
    assert job.claimable(NOW, STALE_AFTER)
    job.start(NOW)
    assert (job.state, job.started_at, job.heartbeat_at, job.attempts) == (
        JobState.RUNNING,
        NOW,
        NOW,
        1,
    )


def test_a_running_job_is_claimable_only_once_its_worker_stopped_beating():
    assert not running(beat_seconds_ago=60).claimable(NOW, STALE_AFTER)
    assert running(beat_seconds_ago=121).claimable(NOW, STALE_AFTER)


def test_a_finished_job_is_never_claimed_again():
    job = running(beat_seconds_ago=500)
    job.finish(JobState.SUCCEEDED, "done", NOW)
    assert job.progress == 1.0 and job.finished_at == NOW
    assert not job.claimable(NOW + timedelta(days=1), STALE_AFTER)


def test_a_failed_job_keeps_the_progress_it_reached():
    job = running(beat_seconds_ago=0)
    job.report(0.4, "training", NOW)
    job.finish(JobState.FAILED, "boom", NOW)
    assert (job.state, job.progress, job.message) == (JobState.FAILED, 0.4, "boom")


def test_a_report_is_clamped_and_beats_the_heartbeat():
    job = running(beat_seconds_ago=100)
    job.report(1.7, "almost", NOW)
    assert (job.progress, job.heartbeat_at) == (1.0, NOW)


def test_only_a_stale_job_is_failed_by_the_sweep():
    fresh, stale = running(beat_seconds_ago=10), running(beat_seconds_ago=300)
    assert not fresh.fail_if_stale(NOW, STALE_AFTER)
    assert fresh.state is JobState.RUNNING
    assert stale.fail_if_stale(NOW, STALE_AFTER)
    assert (stale.state, stale.finished_at) == (JobState.FAILED, NOW)
    assert stale.message == "the worker running it stopped (no heartbeat)"

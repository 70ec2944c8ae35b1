"""A publication never fails because Redis is away: the job waits in the outbox and goes out later."""
from __future__ import annotations

import pytest
from flask import Flask

from consultation import create_app
from consultation.extensions import db
from consultation.models import BackgroundJob, Document
from consultation.services import jobs

from . import factories
from .conftest import Browser


@pytest.fixture
def app_without_redis(app: Flask) -> Flask:
    """The same database, but Redis on a port where nothing listens."""
    broken = create_app({**app.config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    broken.extensions.pop("redis", None)
    return broken


def test_publishing_while_redis_is_down_succeeds_and_the_job_goes_out_later(app, app_without_redis, city):
    doc = factories.in_publication(city)
    gov = Browser(app_without_redis.test_client()).login("govoffice")
    page = f"/staff/documents/{doc.id}"
    response = gov.post(f"{page}/publish", {"final_text": factories.REVISED, "policy_interpretation": "",
                                            "effective_date": str(factories.utcnow().date() + factories.timedelta(days=1)), "validity_years": "5"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Document, doc.id).stage == "published"
    # The newest: the feedback was public, with its PDF, from the meeting's deliberation (feedback_stage.py).
    job = db.session.scalars(db.select(BackgroundJob).where(BackgroundJob.kind == "feedback_pdf")
                             .order_by(BackgroundJob.id.desc()).limit(1)).one()
    assert job.enqueued_at is None and job.state == "queued"
    waiting = db.session.scalar(db.select(db.func.count(BackgroundJob.id)).where(BackgroundJob.enqueued_at.is_(None)))

    # Redis is back (the app's own, working connection): the outbox is emptied.
    assert jobs.dispatch_pending() == waiting >= 1
    db.session.expire_all()
    assert db.session.get(BackgroundJob, job.id).enqueued_at is not None
    assert jobs.dispatch_pending() == 0


def test_the_next_request_empties_the_outbox_once_redis_is_back(app, app_without_redis, city, monkeypatch):
    doc = factories.in_publication(city)
    gov = Browser(app_without_redis.test_client()).login("govoffice")
    tomorrow = factories.utcnow().date() + factories.timedelta(days=1)  # never before the Beijing publication day
    r = gov.post(f"/staff/documents/{doc.id}/publish", {"final_text": factories.REVISED, "policy_interpretation": "",
                                                       "effective_date": str(tomorrow), "validity_years": "5"})
    assert r.status_code == 302
    waiting = db.session.scalars(db.select(BackgroundJob.id).where(BackgroundJob.enqueued_at.is_(None))).all()
    assert waiting
    monkeypatch.setitem(app.config, "OUTBOX_REQUEST_SWEEP_SECONDS", 0)
    assert Browser(app.test_client()).get("/").status_code == 200  # any page, by anyone, with Redis back
    db.session.expire_all()
    assert all(db.session.get(BackgroundJob, i).enqueued_at is not None for i in waiting)


# --- the sweeper reconciles the outbox with Redis ----------------------------------------------------

def _mails(count: int) -> list[BackgroundJob]:
    from consultation.models import Notification

    made = []
    for i in range(count):
        note = Notification(key=f"outbox-test-{i}", event="outbox_test", recipient=f"o{i}@example.org",
                            subject="测试", body="测试。")
        db.session.add(note)
        db.session.flush()
        made.append(jobs.request_mail(note))
    db.session.commit()
    return made


@pytest.fixture
def mail_queue(app):
    """The mail queue of the test's Redis, emptied at the end (no other test's worker meets these jobs)."""
    from consultation import queue as queues

    yield queues.queue("mail")
    queues.queue("mail").empty()


def test_a_job_redis_lost_is_queued_again_under_the_same_id_and_a_job_it_holds_is_left_alone(app, mail_queue):
    from rq.job import Job

    kept, lost, dropped = (job.id for job in _mails(3))
    assert jobs.dispatch_committed() == 3
    redis = mail_queue.connection
    rq_ids = {i: db.session.get(BackgroundJob, i).rq_job_id for i in (kept, lost, dropped)}
    redis.delete(Job.key_for(rq_ids[lost]))  # Redis came back without it
    redis.hset(Job.key_for(rq_ids[dropped]), "status", "failed")  # ended before it could start (database away)
    assert jobs.requeue_lost() == 2
    db.session.expire_all()
    for job_id in (lost, dropped):
        job = db.session.get(BackgroundJob, job_id)
        assert job.rq_job_id == rq_ids[job_id] and job.enqueued_at is not None  # the same attempt, queued again
        assert Job.fetch(rq_ids[job_id], connection=redis).get_status() == "queued"
    assert jobs.requeue_lost() == 0  # Redis holds them all now: nothing to do, and no copy made


def test_the_outbox_is_sent_page_by_page(app, mail_queue, monkeypatch):
    monkeypatch.setattr(jobs, "PAGE", 2)
    waiting = [job.id for job in _mails(5)]
    db.session.info.pop("consultation_jobs_committed", None)  # as if the request had died before sending them
    assert jobs.dispatch_pending(limit=3) == 3  # a web request sends a bounded part
    assert jobs.dispatch_pending() == 2  # the worker walks every page
    db.session.expire_all()
    assert all(db.session.get(BackgroundJob, i).enqueued_at is not None for i in waiting)


def test_a_job_whose_worker_died_is_queued_again_until_its_attempts_run_out(app, mail_queue):
    from datetime import timedelta

    from consultation.models import JobState, utcnow

    again, spent = _mails(2)
    db.session.info.pop("consultation_jobs_committed", None)
    long_ago = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 5)
    for job, attempts in ((again, 1), (spent, app.config["RQ_RETRIES"] + 1)):
        job.state, job.attempts, job.started_at, job.heartbeat_at = JobState.RUNNING.value, attempts, long_ago, long_ago
    db.session.commit()
    assert jobs.recover_stale() == 1
    db.session.expire_all()
    again, spent = db.session.get(BackgroundJob, again.id), db.session.get(BackgroundJob, spent.id)
    assert again.state == JobState.QUEUED.value and again.enqueued_at is not None and "WorkerLost" in again.error
    assert spent.state == JobState.FAILED.value and "WorkerLost" in spent.error  # for staff to run again

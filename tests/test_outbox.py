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
    job = db.session.scalars(db.select(BackgroundJob).where(BackgroundJob.kind == "feedback_pdf")).one()
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

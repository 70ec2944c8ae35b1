"""Faults, with real processes: Redis killed and back empty under a working worker, PostgreSQL stopped and
started under the web application, concurrent comments against the per-address limit, a limit setting that
does not parse. Nothing acknowledged is lost; every job asked for is done exactly once."""
from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultation import create_app
from consultation.extensions import db
from consultation.models import AuditEvent, BackgroundJob, Comment, JobState, Notification
from consultation.services import consultations, jobs

from . import factories
from .conftest import Browser
from .test_jobs_resilience import free_port, own_redis, wait_for, worker_process  # noqa: F401 - fixtures

API = "/api/v1"


def ask_for_mails(site, count: int, tag: str) -> list[int]:
    """Ask for ``count`` notification mails in one transaction of ``site`` and send them to its Redis."""
    with site.app_context():
        ids = []
        for i in range(count):
            note = Notification(key=f"fault-{tag}-{i}", event="fault_test", recipient=f"{tag}-{i}@example.org",
                                subject=f"故障测试 {tag} {i}", body="测试邮件。")
            db.session.add(note)
            db.session.flush()
            ids.append(jobs.request_mail(note).id)
        db.session.commit()
        jobs.dispatch_committed()  # Redis away: they stay in the outbox
        db.session.remove()
    return ids


def fresh_states(ids: list[int]) -> dict[int, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(BackgroundJob.id, BackgroundJob.state).where(BackgroundJob.id.in_(ids))).all())


def test_the_worker_outlives_redis_killed_and_back_empty_and_every_job_is_done_exactly_once(
        app, tmp_path, worker_process, own_redis):  # noqa: F811 - fixtures
    server = own_redis
    url = f"redis://127.0.0.1:{server.port}/0"
    site = create_app({**app.config, "REDIS_URL": url})
    mail_dir = tmp_path / "mail"
    worker = worker_process(REDIS_URL=url, MAIL_DIR=str(mail_dir), WORKER_RECONNECT_MAX_SECONDS=1)

    time.sleep(2)  # started while Redis is away: it waits instead of quitting
    assert worker.poll() is None, "the worker quit because Redis was away at its start"
    first = ask_for_mails(site, 5, "before")
    assert all(j.enqueued_at is None for j in db.session.scalars(select(BackgroundJob).where(BackgroundJob.id.in_(first))))
    server.start()
    wait_for(lambda: set(fresh_states(first).values()) == {JobState.DONE.value}, 60,
             "the mails asked for while Redis was away", logs=tmp_path)

    # A burst handed to Redis; Redis dies with SIGKILL while the worker works through it.
    burst = ask_for_mails(site, 40, "burst")
    wait_for(lambda: JobState.DONE.value in fresh_states(burst).values(), 60, "the burst to start", logs=tmp_path)
    server.kill()
    left = [i for i, state in fresh_states(burst).items() if state != JobState.DONE.value]
    during = ask_for_mails(site, 5, "during")  # asked for while Redis is dead: the outbox keeps them
    time.sleep(3)
    assert worker.poll() is None, "the worker quit when Redis died"

    server.start()  # back, and empty: the RQ jobs of the burst are gone
    everything = first + burst + during
    wait_for(lambda: set(fresh_states(everything).values()) == {JobState.DONE.value}, 120,
             "every mail after Redis came back empty", logs=tmp_path)
    assert worker.poll() is None
    assert left, "Redis died after the burst was done: nothing was lost to recover"
    server.stop()

    sent = [email.message_from_bytes(p.read_bytes(), policy=policy.default)["To"] for p in mail_dir.glob("*.eml")]
    assert sorted(sent) == sorted({f"{tag}-{i}@example.org" for tag, n in (("before", 5), ("burst", 40),
                                                                          ("during", 5)) for i in range(n)})
    recorded = [json.loads(e.payload)["job_id"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "mail_sent"))]
    assert sorted(recorded) == sorted(everything)  # one record of each, none twice
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))) == 0


# --- the per-address comment limit ---------------------------------------------------------------

def test_concurrent_comments_from_one_address_pass_the_limit_exactly_as_often_as_it_allows(app, city):
    doc = factories.in_consultation(city)
    consultation_id = consultations.consultation_of(doc).id
    db.session.commit()
    site = create_app({**app.config, "COMMENT_RATE_LIMIT": "5 per minute; 50 per day",
                       "RATELIMIT_KEY_PREFIX": f"test-limits-{uuid.uuid4().hex[:6]}"})
    senders, statuses = 16, []
    start = threading.Barrier(senders)

    def send(i: int) -> None:
        client = site.test_client()
        start.wait(10)
        r = client.post(f"{API}/consultations/{consultation_id}/comments", json={"body": f"并发提交的意见{i}。"},
                        environ_base={"REMOTE_ADDR": "198.51.100.77"})
        statuses.append((r.status_code, r.headers.get("Retry-After")))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = sorted(code for code, _ in statuses)
    assert codes == [201] * 5 + [429] * (senders - 5)
    assert all(int(wait) >= 1 for code, wait in statuses if code == 429)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Comment.id))) == 5


@pytest.mark.parametrize("setting, value", [
    ("COMMENT_RATE_LIMIT", "five a minute"),
    ("COMMENT_RATE_LIMIT", ""),
    ("RECEIPT_LOOKUP_RATE_LIMIT", "30 per fortnight"),
    ("SUBSCRIBE_RATE_LIMIT", None),
])
def test_a_rate_limit_setting_that_does_not_parse_stops_the_start(app, setting, value):
    from consultation.ratelimit import RateLimitSettingError

    with pytest.raises(RateLimitSettingError) as refused:
        create_app({**app.config, setting: value})
    assert setting in str(refused.value) and "per minute" in str(refused.value)


# --- PostgreSQL away ------------------------------------------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder, on a free port; run as the `postgres`
    OS user when the tests run as root (initdb refuses root)."""

    def __init__(self) -> None:
        # Not under the tests' own temporary folders: the `postgres` user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="consultation-faults-pg-", dir="/var/tmp"))
        self.port = free_port()
        self.data = self.dir / "data"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_owner, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)

    def create(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                 "-E", "UTF8", "--locale", "C")

    def start(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_owner, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 binaries are not installed (apt-get install postgresql-15)")
    cluster = PostgresCluster()
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_postgresql_away_answers_503_with_retry_after_and_loses_no_acknowledged_comment(app, own_postgres):
    from flask_migrate import upgrade

    from consultation.demo import seed_accounts
    from consultation.models import User

    site = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": own_postgres.url,
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}, "UNAVAILABLE_RETRY_AFTER": 7})
    with site.app_context():
        upgrade()
        seed_accounts("pg-fault-pass-1")
        db.session.commit()
        city = {u.username: u for u in db.session.scalars(select(User))}
        consultation_id = consultations.consultation_of(factories.in_consultation(city)).id
        db.session.commit()
        db.session.remove()
    client = site.test_client()
    page = f"{API}/consultations/{consultation_id}/comments"
    receipts = [client.post(page, json={"body": f"停库前的意见{i}。"}).get_json()["receipt_number"] for i in range(3)]
    assert all(receipts)
    staff = Browser(site.test_client()).login("drafter", "pg-fault-pass-1")

    own_postgres.stop()
    r = staff.get("/staff/")  # the signed-in account cannot even be looked up
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert "Sign out" not in r.get_data(as_text=True) and "退出" not in r.get_data(as_text=True)
    r = client.post(page, json={"body": "停库期间的意见。"}, headers={"Accept-Language": "en"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert r.get_json()["error"]["code"] == "unavailable" and "try again" in r.get_json()["error"]["message"]
    r = client.get(f"/consultations/{consultation_id}")
    assert r.status_code == 503 and r.headers["Retry-After"] == "7" and r.mimetype == "text/html"
    assert client.get(f"{API}/receipts/{receipts[0]}").status_code == 503

    own_postgres.start()
    r = client.post(page, json={"body": "恢复后的意见。"})
    assert r.status_code == 201
    assert staff.get("/staff/").status_code == 200  # still signed in
    for number in [*receipts, r.get_json()["receipt_number"]]:
        assert client.get(f"{API}/receipts/{number}").status_code == 200  # nothing acknowledged was lost
    with site.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 4
        db.session.remove()
        db.engine.dispose()

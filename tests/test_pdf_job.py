"""The adoption-feedback PDF, rendered by a real RQ worker against a real Redis."""
from __future__ import annotations

import hashlib
import re
import io
from pathlib import Path

from pypdf import PdfReader

from consultation.extensions import db
from consultation.models import BackgroundJob, JobState
from consultation.services import jobs

from . import factories

PERSONAL = {"name": "司马隐私", "organisation": "隐私科技有限公司", "phone": "13600001111",
            "email": "sima.private@example.net", "show_masked_name": True}


def _published_with_personal_data(city):
    doc = factories.in_consultation(city, opens_at=factories.utcnow() - factories.timedelta(days=50))
    factories.comment(doc, body="建议增加第一条的适用情形。", article_seq=1, **PERSONAL)
    factories.comment(doc, body="建议整体精简。", phone="13700002222", email="other.private@example.net")
    from consultation.workflow import engine
    engine.settle(doc)
    db.session.commit()
    factories.answer_all(doc, city["drafter"], decision="partly_adopted")
    from consultation.services import drafting, review, publication
    from consultation.models import ReviewOrgan
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE)
    review.approve(doc, city["justice"], ReviewOrgan.JUSTICE)
    publication.record_adoption(doc, city["govoffice"], decision="adopted",
                                decision_date=factories.date.today(), prefix="华政办发")
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=10), validity_years=2)
    db.session.commit()
    return doc


def _run_worker(app) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Map each font's name to whether its file is embedded."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(target["/BaseFont"])] = embedded
    return found


def test_publication_enqueues_the_feedback_pdf_and_a_real_worker_renders_it(app, city, as_user, browser):
    doc = _published_with_personal_data(city)
    assert jobs.dispatch_committed() >= 1  # the review packet of the joint review and the feedback
    # The feedback was public from the meeting's deliberation (services/feedback_stage.py): the last job is the
    # feedback updated with the final text.
    job = db.session.scalars(db.select(BackgroundJob).where(BackgroundJob.kind == "feedback_pdf")
                             .order_by(BackgroundJob.id.desc()).limit(1)).one()
    assert job.state == JobState.QUEUED.value and job.enqueued_at is not None
    job_id, doc_id = job.id, doc.id

    _run_worker(app)

    job = db.session.get(BackgroundJob, job_id)
    assert job.state == JobState.DONE.value, job.error
    data = Path(job.file_path).read_bytes()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == job.sha256

    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = "".join(page.extract_text() for page in reader.pages)
    assert "共收到意见2条，采纳0条，部分采纳2条，未采纳0条" in text
    squeezed = re.sub(r"\s+", "", text)  # table cells wrap words across lines
    assert "Partlyadopted" not in squeezed and "Thedraftasawhole" not in squeezed  # always in Chinese
    assert "意见采纳情况" in text and "华城市测试管理办法" in text and "建议增加第一条的适用情形" in text
    fonts = _fonts(reader)
    assert fonts and all(fonts.values()), fonts
    assert any("CJK" in name for name in fonts), fonts
    for private in ("司马隐私", "隐私科技有限公司", "13600001111", "sima.private@example.net",
                    "13700002222", "other.private@example.net"):
        assert private not in text
    assert "司**私" in text  # masked, with consent

    # The public page links the PDF once it is done; staff see the job's state.
    page = browser.get(f"/feedback/{doc_id}").get_data(as_text=True)
    assert f"/feedback/{doc_id}/feedback.pdf" in page
    download = browser.get(f"/feedback/{doc_id}/feedback.pdf")
    assert download.status_code == 200 and download.data == data
    staff = as_user("govoffice").get(f"/staff/documents/{doc_id}/jobs").get_data(as_text=True)
    assert 'data-state="done"' in staff and f"/staff/jobs/{job.id}/file" in staff
    # The audit trail records the file's SHA-256.
    from consultation.models import AuditEvent
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "file_generated")).all()
    assert [e for e in events if job.sha256 in e.payload]


def test_the_public_page_has_no_pdf_link_before_the_job_is_done(app, city, browser):
    doc = _published_with_personal_data(city)
    page = browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    assert f"/feedback/{doc.id}/feedback.pdf" not in page
    assert browser.get(f"/feedback/{doc.id}/feedback.pdf").status_code == 404

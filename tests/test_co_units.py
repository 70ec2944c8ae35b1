"""Co-responsible units (会签单位): named by the drafter, they see the document from its submission for review on
and sign every joint-review round with the organs named by the procedure file, on the same version."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from consultation import pdf, reports
from consultation.errors import InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import (
    AuditEvent, Department, DepartmentKind, DocumentCoUnit, ReviewOrgan, RoundStatus, Signoff, User,
)
from consultation.services import co_units, consultations, drafting, review
from consultation.services import dashboard as dashboard_service
from consultation.workflow import engine, signers
from consultation.workflow.artefacts import ARTEFACTS, KNOWN_ARTEFACTS
from consultation.workflow.conditions import CONDITIONS, KNOWN_CONDITIONS, all_signers_approved
from consultation.workflow.definition import WorkflowFileError, load_procedure

from . import factories
from .conftest import PASSWORD
from .test_chinese_punctuation import MIXED, _visible_text
from .test_mail import EMAILS, addressed, smtp  # noqa: F401 - the real SMTP server's fixtures

GOV, JUSTICE = ReviewOrgan.GOVERNMENT_OFFICE, ReviewOrgan.JUSTICE
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
UNIT_OPINION = "会签意见：第二条应当明确市场监管部门的职责分工。"
UNIT_ANSWER = "已在第二条明确市场监管部门负责监督检查。"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def waiting_section(html: str) -> str:
    """The dashboard's "waiting for you" list (up to the list of every visible document)."""
    start = html.index('id="mine-h"')
    return html[start:html.index('id="all-h"', start)]


@pytest.fixture
def third(city):
    """A third drafting department, never named: it must see nothing of the document."""
    department = Department(name="华城市交通运输局", kind=DepartmentKind.DRAFTING.value)
    db.session.add(department)
    people = {}
    for username, role in (("drafter3", "drafter"), ("head3", "department_head")):
        user = User(username=username, display_name=f"{username}（交通局）", department=department)
        user.set_password(PASSWORD)
        user.set_roles([role])
        db.session.add(user)
        people[username] = user
    db.session.commit()
    return people


def market(city) -> Department:
    return city["head2"].department


def with_unit(doc, city) -> DocumentCoUnit:
    unit = co_units.name_unit(doc, city["drafter"], market(city).id)
    db.session.commit()
    return unit


def unit_key(city) -> str:
    return signers.unit_key(market(city).id)


def in_joint_review_with_unit(city):
    doc = factories.ready_for_submission(city)
    with_unit(doc, city)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()
    return doc


def audit_actions(doc) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.document_id == doc.id)
                                   .order_by(AuditEvent.id)))


# --- naming units -------------------------------------------------------------------------------------------------

def test_the_drafter_names_and_removes_units_on_the_web_with_audit(city, as_user):
    doc = factories.document(city)
    page = f"/staff/documents/{doc.id}/co-units"
    drafter = as_user("drafter")
    html = text_of(drafter.get(page))
    own, other = city["drafter"].department, market(city)
    options = dict((int(v), name) for v, name in re.findall(r'<option value="(\d+)">([^<]+)</option>', html))
    assert options == {other.id: other.name}  # drafting departments other than its own; not the organs
    assert own.name not in options.values()

    r = drafter.post(page, {"name-department": other.id, "name-submit": "1"})
    assert r.status_code == 302, text_of(r)
    assert [u.department_id for u in co_units.units_of(doc)] == [other.id]
    assert other.name in text_of(drafter.get(f"/staff/documents/{doc.id}"))
    again = drafter.post(page, {"name-department": other.id, "name-submit": "1"})
    assert again.status_code == 400  # no longer offered
    assert len(co_units.units_of(doc)) == 1

    r = drafter.post(page, {"remove-department": other.id, "remove-submit": "1"})
    assert r.status_code == 302
    assert co_units.units_of(doc) == []
    assert audit_actions(doc)[-2:] == ["name_co_unit", "remove_co_unit"]
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "name_co_unit")).one()
    assert other.name in event.payload and event.actor_id == city["drafter"].id


def test_only_the_drafting_department_names_units_before_submission(city, as_user):
    doc = factories.document(city)
    with pytest.raises(InvalidInput):
        co_units.name_unit(doc, city["drafter"], city["drafter"].department_id)  # its own department
    db.session.rollback()
    with pytest.raises(InvalidInput):
        co_units.name_unit(doc, city["drafter"], city["justice"].department_id)  # an organ, not a unit
    db.session.rollback()
    for someone in ("head", "drafter2", "govoffice"):
        with pytest.raises(NotAllowed):
            co_units.name_unit(doc, city[someone], market(city).id)
        db.session.rollback()
    assert as_user("drafter2").post(f"/staff/documents/{doc.id}/co-units",
                                     {"name-department": market(city).id, "name-submit": "1"}).status_code == 404

    submitted = factories.ready_for_submission(city, title="华城市第二测试办法")
    review.submit_for_review(submitted, city["drafter"])
    db.session.commit()
    with pytest.raises(NotAllowed):
        co_units.name_unit(submitted, city["drafter"], market(city).id)
    db.session.rollback()
    r = as_user("drafter").post(f"/staff/documents/{submitted.id}/co-units",
                                {"name-department": market(city).id, "name-submit": "1"})
    assert r.status_code == 403
    assert co_units.units_of(submitted) == []


# --- visibility ---------------------------------------------------------------------------------------------------

def _sees(browser, doc) -> bool:
    status = browser.get(f"/staff/documents/{doc.id}").status_code
    assert status in (200, 404)
    return status == 200


def _listed(user, doc) -> bool:
    page = dashboard_service.visible_documents(user, query=doc.title, limit=50)
    return doc.id in [d.id for d in page.items]


def test_units_see_the_document_from_submission_and_a_third_department_never(city, third, as_user):
    doc = factories.ready_for_submission(city)
    with_unit(doc, city)
    unit_staff = {name: as_user(name) for name in ("drafter2", "head2")}
    outsiders = {name: as_user(name) for name in ("drafter3", "head3")}
    for name, browser in {**unit_staff, **outsiders}.items():
        assert not _sees(browser, doc), name
        user = db.session.scalars(db.select(User).where(User.username == name)).one()
        assert not engine.can_see(user, doc) and not _listed(user, doc), name

    review.submit_for_review(doc, city["drafter"])
    db.session.commit()
    assert doc.stage == "head_submission"
    for name, browser in unit_staff.items():
        assert _sees(browser, doc), name
        assert engine.can_see(city[name], doc) and _listed(city[name], doc), name
    for name, browser in outsiders.items():
        assert not _sees(browser, doc), name
        assert not engine.can_see(third[name], doc) and not _listed(third[name], doc), name

    # Returned for revision, the document goes back to comment handling: the unit follows its opinion's answer.
    review.send_to_joint_review(doc, city["head"])
    review.return_for_revision(doc, city["head2"], unit_key(city), UNIT_OPINION)
    db.session.commit()
    assert doc.stage == "handling"
    assert all(_sees(b, doc) for b in unit_staff.values())
    assert not any(_sees(b, doc) for b in outsiders.values())
    assert _listed(city["drafter2"], doc) and not _listed(third["drafter3"], doc)
    # A unit's drafter sees but does not act: no answer, no signature, no naming.
    assert not review.may_sign(doc, city["drafter2"]) and not co_units.may_name(city["drafter2"], doc)


# --- signing ------------------------------------------------------------------------------------------------------

def test_a_round_needs_every_signer_on_the_same_version(city, as_user):
    doc = in_joint_review_with_unit(city)
    key = unit_key(city)
    assert signers.required(doc) == ["gov_office", "justice", key]
    review.approve(doc, city["govoffice"], GOV, "同意。")
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    db.session.commit()
    assert doc.stage == "joint_review"  # the unit has not signed yet
    assert review.awaited(doc) == [key]
    assert market(city).name in all_signers_approved(doc, factories.utcnow())
    assert CONDITIONS["both_organs_approved"] is all_signers_approved

    # The unit's head finds the document waiting on the dashboard, and the page says who is awaited.
    head2 = as_user("head2")
    assert doc.title in waiting_section(text_of(head2.get("/staff/")))
    page = f"/staff/documents/{doc.id}"
    html = text_of(head2.get(page))
    assert f"{page}/signoff" in html and market(city).name in html
    signoff_page = text_of(head2.get(f"{page}/signoff"))
    assert f'value="{key}"' in signoff_page and 'value="gov_office"' not in signoff_page
    assert 'value="reject"' not in signoff_page  # 不合法 is the justice bureau's
    # The document's own head and a reviewer cannot sign for the unit; the unit's head not for an organ.
    with pytest.raises(NotAllowed):
        review.approve(doc, city["head"], key)
    with pytest.raises(NotAllowed):
        review.approve(doc, city["govoffice"], key)
    db.session.rollback()
    refused = head2.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "approve"})
    assert refused.status_code == 200 and 'class="error"' in text_of(refused)  # the form again, no signature
    assert review.rounds_of(doc)[-1].signoff_of(GOV).signed_by_id == city["govoffice"].id

    r = head2.post(f"{page}/signoff", {"organ": key, "outcome": "approve", "opinion": "同意。"})
    assert r.status_code == 302, text_of(r)
    db.session.expire_all()
    assert doc.stage == "deliberation"
    rnd = review.rounds_of(doc)[-1]
    assert rnd.status == RoundStatus.APPROVED.value
    signed = rnd.signoff_of(key)
    assert signed.signed_by_id == city["head2"].id and signed.version_id == rnd.version_id == doc.current_version.id
    assert doc.title not in waiting_section(text_of(head2.get("/staff/")))
    assert [e for e in audit_actions(doc) if e in ("sign_off", "joint_approval")] == [
        "sign_off", "sign_off", "sign_off", "joint_approval"]


def test_a_units_return_is_answered_and_the_next_round_needs_every_signer_again(city, as_user):
    doc = in_joint_review_with_unit(city)
    key = unit_key(city)
    page = f"/staff/documents/{doc.id}"
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    db.session.commit()
    head2 = as_user("head2")
    refused = head2.post(f"{page}/signoff", {"organ": key, "outcome": "return", "opinion": " "})
    assert refused.status_code == 200 and doc.stage == "joint_review"  # a return needs a written opinion
    r = head2.post(f"{page}/signoff", {"organ": key, "outcome": "return", "opinion": UNIT_OPINION})
    assert r.status_code == 302
    db.session.expire_all()
    assert doc.stage == "handling"
    first = review.rounds_of(doc)[0]
    assert first.status == RoundStatus.RETURNED.value
    opinion = first.signoff_of(key)
    assert opinion.needs_response and opinion.opinion == UNIT_OPINION

    # The opinion must be answered before the draft goes back (review_opinions_answered counts any signer).
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 市场监管部门负责监督检查。",
                          explanation="根据会签意见修改。")
    db.session.commit()
    assert CONDITIONS["review_opinions_answered"](doc, factories.utcnow()) is not None
    with pytest.raises(InvalidInput):
        review.submit_for_review(doc, city["drafter"])
    db.session.rollback()
    drafter = as_user("drafter")
    assert UNIT_OPINION in text_of(drafter.get(page))
    r = drafter.post(f"{page}/opinions/{opinion.id}", {"response": UNIT_ANSWER})
    assert r.status_code == 302
    db.session.expire_all()
    assert CONDITIONS["review_opinions_answered"](doc, factories.utcnow()) is None
    assert UNIT_ANSWER in text_of(head2.get(page))  # the unit reads how its opinion was handled
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()

    second = review.rounds_of(doc)[-1]
    assert second.seq == 2 and second.version_id == doc.current_version.id != first.version_id
    assert review.awaited(doc) == ["gov_office", "justice", key]  # nothing carries over from round 1
    review.approve(doc, city["govoffice"], GOV, "同意。")
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    db.session.commit()
    assert doc.stage == "joint_review"
    review.approve(doc, city["head2"], key, "同意。")
    db.session.commit()
    assert doc.stage == "deliberation"
    assert [r.status for r in review.rounds_of(doc)] == [RoundStatus.RETURNED.value, RoundStatus.APPROVED.value]
    answered = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "answer_opinion")).one()
    assert key in answered.payload


def test_a_unit_removed_before_the_next_round_no_longer_signs_but_its_opinion_stays(city):
    doc = in_joint_review_with_unit(city)
    key = unit_key(city)
    returned = review.return_for_revision(doc, city["head2"], key, UNIT_OPINION)
    review.answer_opinion(doc, city["drafter"], returned.id, UNIT_ANSWER)
    co_units.remove_unit(doc, city["drafter"], market(city).id)
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 新增。", explanation="修改。")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["govoffice"], GOV)
    review.approve(doc, city["justice"], JUSTICE)
    db.session.commit()
    assert doc.stage == "deliberation"
    assert db.session.scalar(db.select(db.func.count(Signoff.id)).where(Signoff.organ == key)) == 1
    assert not engine.can_see(city["head2"], doc)


# --- the procedure file decides who signs -------------------------------------------------------------------------

def _procedure_with(tmp_path, review_block: str | None, extra: str = ""):
    text = (WORKFLOWS / "normative_document.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[review\]\nsigners = \[[^\]]*\]\n", "" if review_block is None else review_block, text)
    path = tmp_path / "normative_document.toml"
    path.write_text(text + extra, encoding="utf-8")
    return load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)


def test_the_files_name_the_signers_and_a_wrong_name_stops_start_up(tmp_path):
    for name in ("normative_document.toml", "major_decision.toml"):
        procedure = load_procedure(WORKFLOWS / name, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
        assert procedure.review_signers == ("gov_office", "justice", "co_units")
        assert {t.name: t.conditions for t in procedure.transitions.values()}["joint_approval"] == (
            "all_signers_approved",)
    assert _procedure_with(tmp_path, None).review_signers == ("gov_office", "justice")  # as before the table
    with pytest.raises(WorkflowFileError) as refused:
        _procedure_with(tmp_path, '[review]\nsigners = ["gov_office", "justice", "co-units"]\n')
    assert str(refused.value).startswith("normative_document.toml: [review] signers: unknown signer 'co-units'")
    for broken in ('[review]\nsigners = []\n', '[review]\nsigners = ["justice", "justice"]\n',
                   '[review]\nsigners = "justice"\n', '[review]\nsignatories = ["justice"]\n'):
        with pytest.raises(WorkflowFileError, match=r"^normative_document.toml: \[review\]"):
            _procedure_with(tmp_path, broken)


def test_a_procedure_without_co_units_works_as_before(city, app, as_user, monkeypatch, tmp_path):
    monkeypatch.setitem(app.extensions["procedures"], "normative_document", _procedure_with(tmp_path, None))
    doc = factories.ready_for_submission(city)
    assert not co_units.may_name(city["drafter"], doc)
    with pytest.raises(NotAllowed):
        co_units.name_unit(doc, city["drafter"], market(city).id)
    db.session.rollback()
    assert as_user("drafter").get(f"/staff/documents/{doc.id}/co-units").status_code == 404
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["govoffice"], GOV)
    review.approve(doc, city["justice"], JUSTICE)
    db.session.commit()
    assert doc.stage == "deliberation"
    assert not engine.can_see(city["head2"], doc)


def test_a_procedure_naming_the_openness_office_waits_for_its_signature(city, app, as_user, monkeypatch, tmp_path):
    procedure = _procedure_with(tmp_path, '[review]\nsigners = ["gov_office", "justice", "openness_office"]\n')
    monkeypatch.setitem(app.extensions["procedures"], "normative_document", procedure)
    doc = factories.in_joint_review(city)
    review.approve(doc, city["govoffice"], GOV)
    review.approve(doc, city["justice"], JUSTICE)
    db.session.commit()
    assert doc.stage == "joint_review" and review.awaited(doc) == ["openness_office"]
    openness = as_user("openness")
    page = f"/staff/documents/{doc.id}"
    assert doc.title in waiting_section(text_of(openness.get("/staff/")))
    r = openness.post(f"{page}/signoff", {"organ": "openness_office", "outcome": "approve", "opinion": "同意公开。"})
    assert r.status_code == 302, text_of(r)
    db.session.expire_all()
    assert doc.stage == "deliberation"

    # The openness office may also return the draft.
    other = factories.in_joint_review(city, title="华城市第三测试办法")
    review.return_for_revision(other, city["openness"], "openness_office", "公开方式应当明确。")
    db.session.commit()
    assert other.stage == "handling"


def test_the_admin_procedure_page_shows_the_signers(city, as_user):
    admin = as_user("admin")
    admin.get("/lang/en", headers={"Referer": "http://localhost/"})
    html = text_of(admin.get("/admin/procedures/normative_document"))
    assert "Who signs the joint review" in html
    assert "Government office, Justice bureau, Co-responsible units" in html


# --- the review packet --------------------------------------------------------------------------------------------

def test_the_review_packet_lists_the_units_and_their_opinions_per_round(city):
    doc = in_joint_review_with_unit(city)
    key = unit_key(city)
    returned = review.return_for_revision(doc, city["head2"], key, UNIT_OPINION)
    review.answer_opinion(doc, city["drafter"], returned.id, UNIT_ANSWER)
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 新增。", explanation="修改。")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    db.session.commit()
    report = reports.review_packet(doc)
    result = pdf.render_report(report.template, report.context, report.chunks(), rows=report.rows, processes=1)
    text = "".join(re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(result.data)).pages)
    name = market(city).name
    assert f"会签单位：{name}" in text
    assert f"第1轮（第{review.rounds_of(doc)[0].version.seq}版）" in text
    assert f"{name}（会签单位）" in text and UNIT_OPINION in text and UNIT_ANSWER in text
    assert f"尚待签署：市政府办公室、{name}（会签单位）" in text  # round 2 is still open


def test_a_units_opinion_never_reaches_the_public(city, browser):
    doc = in_joint_review_with_unit(city)
    review.return_for_revision(doc, city["head2"], unit_key(city), UNIT_OPINION)
    db.session.commit()
    consultation = consultations.consultation_of(doc).id
    for url in (f"/consultations/{consultation}", f"/api/v1/consultations/{consultation}", "/", "/feed.atom",
                f"/feedback/{doc.id}", f"/api/v1/feedback/{doc.id}"):
        response = browser.get(url)
        assert UNIT_OPINION not in text_of(response), url



# --- mail -----------------------------------------------------------------------------------------------------

def test_the_units_head_hears_of_the_submission_through_a_real_smtp_server(app, addressed, smtp):  # noqa: F811
    from .test_pdf_job import _run_worker

    head2 = addressed["head2"]
    head2.email = "qian.head@scjg.huacheng.gov.cn"
    db.session.commit()
    doc = in_joint_review_with_unit(addressed)
    title, doc_id = doc.title, doc.id
    _run_worker(app)
    [message] = [m for m in smtp.to("qian.head@scjg.huacheng.gov.cn") if "收到送审材料" in m["Subject"]]
    assert title in message["Subject"] and f"/staff/documents/{doc_id}" in message.get_content()
    assert not smtp.to(EMAILS["drafter2"])  # the unit's drafters read, they do not sign


def _outcome_labels(html: str) -> list[str]:
    """The signing form's outcome choices as shown (the radio buttons' labels)."""
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'<label class="check">(.*?)</label>', html, re.S)]


def _opinion_label(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<label for="opinion"[^>]*>(.*?)</label>', html, re.S).group(1)).strip()


def test_each_signer_signs_in_its_own_words(city, as_user):
    """Finding 8: a co-unit and the government office agree or return (同意 / 退回修改, a unit's 会签意见); only the
    justice bureau judges legality (合法 / 应当予以修改 / 不合法). The pages name each signature in its words, with
    the full-width colon of Chinese (finding 7)."""
    doc = in_joint_review_with_unit(city)
    key, name = unit_key(city), market(city).name
    page = f"/staff/documents/{doc.id}"

    head2 = as_user("head2")
    unit_form = text_of(head2.get(f"{page}/signoff"))
    assert _outcome_labels(unit_form) == ["同意", "退回修改"]
    assert _opinion_label(unit_form) == "会签意见"
    assert "合法" not in unit_form and "应当予以修改" not in unit_form
    in_english = as_user("head2")
    in_english.get("/lang/en", headers={"Referer": "http://localhost/staff/"})
    english_form = text_of(in_english.get(f"{page}/signoff"))
    assert _outcome_labels(english_form) == ["Agree (同意)", "Return for revision (退回修改)"]
    assert _opinion_label(english_form) == "Co-signing opinion (会签意见)"

    govoffice = as_user("govoffice")
    gov_form = text_of(govoffice.get(f"{page}/signoff"))
    assert _outcome_labels(gov_form) == ["同意", "退回修改"]
    assert _opinion_label(gov_form) == "审核意见" and "合法" not in gov_form

    justice = as_user("justice")
    justice_form = text_of(justice.get(f"{page}/signoff"))
    assert _outcome_labels(justice_form) == ["合法", "应当予以修改", "不合法，退回起草"]
    assert _opinion_label(justice_form) == "审核意见"
    assert ">同意<" not in justice_form and "退回修改" not in "".join(_outcome_labels(justice_form))

    assert govoffice.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "approve",
                                              "opinion": "同意。"}).status_code == 302
    assert justice.post(f"{page}/signoff", {"organ": "justice", "outcome": "approve",
                                            "opinion": "合法。"}).status_code == 302
    # The signing page lists the signatures so far in each signer's words, with the full-width colon.
    listed = text_of(head2.get(f"{page}/signoff"))
    assert "市政府办公室：<strong>同意</strong>" in listed and "市司法局：<strong>合法</strong>" in listed
    assert "市政府办公室: " not in listed and "同意 / 合法" not in listed
    assert not MIXED.search(_visible_text(listed)), MIXED.search(_visible_text(listed))
    assert head2.post(f"{page}/signoff", {"organ": key, "outcome": "return",
                                          "opinion": UNIT_OPINION}).status_code == 302
    db.session.expire_all()
    assert doc.stage == "handling"

    drafter = as_user("drafter")
    document_page = text_of(drafter.get(page))
    rounds = document_page[document_page.index('id="rounds"'):]
    assert "市政府办公室：<strong>同意</strong>" in rounds and "市司法局：<strong>合法</strong>" in rounds
    assert f"{name}（会签单位）：<strong>退回修改</strong>" in rounds
    assert not re.search(r"[\u4e00-\u9fff）]: ", rounds[:rounds.index("</section>")])  # no ASCII colon after Chinese
    assert "同意 / 合法" not in rounds and "应当予以修改" not in rounds
    opinion = review.rounds_of(doc)[0].signoff_of(key)
    answer_page = text_of(drafter.get(f"{page}/opinions/{opinion.id}"))
    assert f"{name}（会签单位） · 退回修改" in answer_page and "应当予以修改" not in answer_page
    assert not MIXED.search(_visible_text(answer_page)), MIXED.search(_visible_text(answer_page))
    rounds_text = _visible_text("<main>" + rounds[:rounds.index("</section>")] + "</main>")
    assert not MIXED.search(rounds_text), MIXED.search(rounds_text)

    # The review packet (always in Chinese) names each outcome in its signer's words too.
    report = reports.review_packet(doc)
    result = pdf.render_report(report.template, report.context, report.chunks(), rows=report.rows, processes=1)
    text = "".join(re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(result.data)).pages)
    assert "市政府办公室同意" in text and "市司法局合法" in text and f"{name}（会签单位）退回修改" in text
    assert "同意/合法" not in text


def test_the_checklist_asks_for_every_signers_opinion_not_two_organs(city, as_user):
    """Finding 8: the required material names no fixed number of organs, and is there only once every signer
    of the file (the co-unit too) signed the round."""
    doc = in_joint_review_with_unit(city)
    review.approve(doc, city["govoffice"], GOV, "同意。")
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    db.session.commit()
    assert ARTEFACTS["review_opinions"].present(doc) is False  # two of three signatures are not the material

    html = text_of(as_user("drafter").get(f"/staff/documents/{doc.id}"))
    checklist = html[html.index('class="checklist"'):]
    checklist = checklist[:checklist.index("</ul>")]
    assert "联合审查各方的审核（会签）意见" in checklist and "两家" not in html
    item = re.search(r"<li[^>]*>联合审查各方的审核（会签）意见.*?</li>", checklist, re.S).group(0)
    assert "done" not in item and "缺" in item

    review.approve(doc, city["head2"], unit_key(city), "同意。")
    db.session.commit()
    assert ARTEFACTS["review_opinions"].present(doc) is True

"""Prior assessment (事前评估): invited enterprise representatives, industry associations and experts assess the
draft through a personal link; the drafting department answers; the procedure file may require them."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from consultation.errors import InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import (
    AssessmentInvitation, AuditEvent, Document, InvitedAssessment, Notification, utcnow,
)
from consultation.receipts import display
from consultation.services import invitations
from consultation.workflow import engine
from consultation.workflow.artefacts import KNOWN_ARTEFACTS
from consultation.workflow.conditions import CONDITION_TITLES, KNOWN_CONDITIONS
from consultation.workflow.definition import WorkflowFileError, load_procedure

from . import factories
from .test_mail import addressed, smtp  # noqa: F401 - fixtures
from .test_pdf_job import _run_worker

EXPERT = {"kind": "expert", "name": "钱教授", "organisation": "华城大学法学院", "email": "qian.prof@univ.example.edu"}
ENTERPRISE = {"kind": "enterprise", "name": "孙经理", "organisation": "华城某某科技有限公司",
              "email": "sun.manager@corp.example.com"}
ASSESSMENT = {"necessity": "确有必要，现行规定不足。", "feasibility": "总体可行。", "market_impact": "企业合规成本较低。",
              "fair_competition": "未见排除、限制竞争的内容。", "interests": "本人与本文件无直接利益关系。"}


@pytest.fixture(autouse=True)
def _generous_link_limit(app, monkeypatch):
    """Many links opened in a few seconds from one address: the limit itself is tested on its own below."""
    monkeypatch.setitem(app.config, "ASSESSMENT_LINK_RATE_LIMIT", "10000 per minute")


def _invite(doc: Document, city, person: dict = EXPERT) -> AssessmentInvitation:
    invitation = invitations.invite(doc, city["drafter"], **person)
    db.session.commit()
    return invitation


def _submit(invitation: AssessmentInvitation, **overrides) -> InvitedAssessment:
    data = {**ASSESSMENT, "consent_named": False, "remarks": {}, **overrides}
    assessment = invitations.submit(invitation, **data)
    db.session.commit()
    return assessment


def _open(browser, invitation_or_token):
    """Follow the mailed link: it keeps the token in the session and moves to /assess."""
    token = invitation_or_token if isinstance(invitation_or_token, str) else invitations.token_of(invitation_or_token)
    first = browser.get(f"/assess/{token}")
    assert first.status_code == 302 and first.headers["Location"].endswith("/assess")
    assert first.headers["Cache-Control"] == "no-store"
    return browser.get("/assess")


def _form(token_page_html: bytes) -> dict:
    return {f"remark-{m}": "" for m in re.findall(rb'name="remark-(\d+)"', token_page_html)}


# --- the link ----------------------------------------------------------------------------------------------

def test_the_link_is_unguessable_and_only_its_digest_is_stored(app, city):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    token = invitations.token_of(invitation)
    assert len(token) >= 40
    assert invitation.token_hash != token and token not in invitation.token_nonce
    notification = db.session.scalars(select(Notification).where(Notification.event == "assessment_invitation")).one()
    assert token not in notification.body and invitations.LINK_PLACEHOLDER in notification.body
    assert invitations.by_token(token).id == invitation.id
    with pytest.raises(invitations.LinkInvalid):
        invitations.by_token(token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_an_expired_or_revoked_link_is_refused_with_one_message(app, city, browser):
    doc = factories.in_handling(city, market=True)
    expired, revoked = _invite(doc, city), _invite(doc, city, ENTERPRISE)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    invitations.revoke(revoked, city["drafter"])
    db.session.commit()
    pages = [_open(browser, i) for i in (expired, revoked)]
    pages.append(_open(browser, "x" * 43))
    pages.append(browser.get("/assess"))  # no link at all
    for page in pages:
        assert page.status_code == 404
        assert page.headers["Cache-Control"] == "no-store" and "noindex" in page.headers["X-Robots-Tag"]
        text = page.get_data(as_text=True)
        assert "此评估链接无效" in text or "not valid" in text
        assert doc.title not in text and "钱教授" not in text and "孙经理" not in text
    assert pages[0].get_data() == pages[2].get_data()  # nothing tells a guess from a lapsed link


def test_a_new_link_replaces_the_old_one(app, city):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    old = invitations.token_of(invitation)
    invitations.resend(invitation, city["drafter"])
    db.session.commit()
    with pytest.raises(invitations.LinkInvalid):
        invitations.by_token(old)
    assert invitations.by_token(invitations.token_of(invitation)).id == invitation.id
    assert invitation.sent_count == 2


def test_the_invitation_mail_carries_the_personal_link_over_smtp(app, addressed, smtp, browser):  # noqa: F811 - fixtures
    doc = factories.in_handling(addressed, market=True)
    invitation = _invite(doc, addressed)
    token = invitations.token_of(invitation)
    _run_worker(app)
    received = smtp.to(EXPERT["email"])
    assert len(received) == 1
    body = received[0].get_content()
    assert "事前评估邀请" in received[0]["Subject"] and "钱教授" in body
    link = f"http://yijian.huacheng.gov.cn/assess/{token}"
    assert link in body
    page = _open(browser, token)
    assert page.status_code == 200 and "钱教授" in page.get_data(as_text=True)
    assert token not in page.get_data(as_text=True)  # nor in the print or error-report links


# --- the invitee's page ------------------------------------------------------------------------------------

def test_the_invitee_assesses_overall_and_per_article_and_gets_a_receipt_shown_and_mailed(app, addressed, smtp, browser):  # noqa: F811 - fixtures
    doc = factories.in_handling(addressed, market=True)
    invitation = _invite(doc, addressed)
    url = "/assess"
    page = _open(browser, invitation)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and "noindex" in page.headers["X-Robots-Tag"]
    assert "不公开" in html and "钱教授" in html and "第一条" in html
    first_article = doc.current_version.articles[0]
    data = {**_form(page.data), **ASSESSMENT, f"remark-{first_article.id}": "建议明确适用范围。", "consent_named": "y"}
    done = browser.post(url, data)
    assert done.status_code == 302
    shown = browser.get(url).get_data(as_text=True)
    assessment = db.session.scalars(select(InvitedAssessment)).one()
    assert display(assessment.receipt_number) in shown
    assert [r.body for r in assessment.remarks] == ["建议明确适用范围。"]
    assert assessment.consent_named is True and assessment.interests == ASSESSMENT["interests"]
    db.session.refresh(invitation)
    assert invitation.opened_at is not None
    receipt = display(assessment.receipt_number)
    _run_worker(app)
    receipts = [m for m in smtp.to(EXPERT["email"]) if "事前评估回执" in m["Subject"]]
    assert len(receipts) == 1 and receipt in receipts[0].get_content()


def test_the_declaration_of_interests_is_required_and_something_must_be_assessed(app, city, browser):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    url = "/assess"
    page = _open(browser, invitation)
    refused = browser.post(url, {**_form(page.data), **ASSESSMENT, "interests": ""})
    assert refused.status_code == 400
    with pytest.raises(InvalidInput):
        invitations.submit(invitation, necessity="", feasibility="", market_impact="", fair_competition="",
                           interests="无。", consent_named=False, remarks={})
    db.session.rollback()
    assert db.session.scalar(select(InvitedAssessment.id)) is None


def test_submitting_again_before_the_answer_revises_it_under_the_same_receipt_and_the_answer_closes_it(app, city):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city, ENTERPRISE)
    first = _submit(invitation)
    receipt = first.receipt_number
    second = _submit(invitation, necessity="修改后的意见。", consent_named=True)
    assert second.id == first.id and second.receipt_number == receipt and second.revision == 2
    assert second.consent_named is False  # only an expert can be named
    invitations.answer(second, city["drafter"], overall=("partly_adopted", "部分采纳。"), remarks={})
    db.session.commit()
    with pytest.raises(InvalidInput):
        invitations.submit(invitation, **ASSESSMENT, consent_named=False, remarks={})


# --- staff -------------------------------------------------------------------------------------------------

def test_the_drafter_invites_through_the_page_and_sees_the_status(app, city, as_user):
    doc = factories.in_handling(city, market=True)
    drafter = as_user("drafter")
    page = drafter.get(f"/staff/documents/{doc.id}")
    assert f"/staff/documents/{doc.id}/invitations" in page.get_data(as_text=True)
    response = drafter.post(f"/staff/documents/{doc.id}/invitations/new",
                            {**EXPERT, "expires_on": (utcnow() + timedelta(days=10)).date().isoformat()})
    assert response.status_code == 302, response.data
    listing = drafter.get(f"/staff/documents/{doc.id}/invitations").get_data(as_text=True)
    assert "钱教授" in listing and "已发送" in listing
    invitation = db.session.scalars(select(AssessmentInvitation)).one()
    assert drafter.post(f"/staff/documents/{doc.id}/invitations/{invitation.id}/revoke", {},
                        form_page=f"/staff/documents/{doc.id}/invitations").status_code == 302
    db.session.expire_all()
    assert invitation.revoked_at is not None
    assert "已撤销" in drafter.get(f"/staff/documents/{doc.id}/invitations").get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.document_id == doc.id)))
    assert {"invite_assessor", "send_assessment_invitation", "revoke_assessment_invitation"} <= actions


def test_only_the_drafting_department_sees_the_invitations(app, city, as_user):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    for user in ("drafter2", "justice", "govoffice", "openness"):
        browser = as_user(user)
        assert browser.get(f"/staff/documents/{doc.id}/invitations").status_code == 404, user
        assert browser.get(f"/staff/documents/{doc.id}/invitations/{invitation.id}").status_code == 404, user
    with pytest.raises(NotAllowed):
        invitations.invite(doc, city["drafter2"], **ENTERPRISE)


def test_the_drafter_answers_the_assessment_and_each_remark(app, city, as_user):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    article = doc.current_version.articles[1]
    assessment = _submit(invitation, remarks={article.id: "第二条应当细化。"})
    remark = assessment.remarks[0]
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/invitations/{invitation.id}"
    page = drafter.get(url).get_data(as_text=True)
    assert "第二条应当细化。" in page and ASSESSMENT["necessity"] in page
    assert invitations.requirement_problem(doc, utcnow())  # submitted, not answered
    response = drafter.post(url, {"decision": "adopted", "reason": "已采纳。",
                                  f"decision-{remark.id}": "not_adopted", f"reason-{remark.id}": "已有规定。"})
    assert response.status_code == 302
    db.session.expire_all()
    assert assessment.decision == "adopted" and assessment.remarks[0].decision == "not_adopted"
    assert invitations.status_of(invitation) == "answered"
    assert "answer_prior_assessment" in set(db.session.scalars(select(AuditEvent.action)))


# --- the requirement ---------------------------------------------------------------------------------------

def _handled(city, **kw) -> Document:
    doc = factories.in_handling(city, **kw)
    factories.answer_all(doc, city["drafter"])
    factories.drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    if doc.procedure == "major_decision":
        factories.assessments(doc, city["drafter"])
    db.session.commit()
    return doc


def _blockers(doc: Document, user, name: str = "submit_for_review") -> list[str]:
    return [r for o in engine.options(doc, user) if o.transition.name == name for r in o.blocked_by]


def test_a_document_concerning_market_entities_needs_an_enterprise_and_an_expert_assessment(app, city):
    doc = _handled(city, market=True)
    blocked = " ".join(_blockers(doc, city["drafter"]))
    assert "事前评估" in blocked
    with pytest.raises(InvalidInput):
        engine.perform(doc, "submit_for_review", city["drafter"])
    db.session.rollback()
    factories.prior_assessments(doc, city["drafter"], ("expert",))
    assert "企业代表" in " ".join(_blockers(doc, city["drafter"]))  # the enterprise is still missing
    factories.prior_assessments(doc, city["drafter"], ("enterprise",))
    assert not _blockers(doc, city["drafter"])
    engine.perform(doc, "submit_for_review", city["drafter"])
    engine.perform(doc, "head_approve_submission", city["head"])
    db.session.commit()
    assert doc.stage == "joint_review"


def test_a_document_not_concerning_market_entities_needs_none(app, city):
    doc = _handled(city, market=False)
    assert not _blockers(doc, city["drafter"])


def test_a_major_decision_always_needs_them(app, city):
    doc = _handled(city, procedure="major_decision")
    assert "事前评估" in " ".join(_blockers(doc, city["drafter"]))


def test_a_written_reason_accepted_by_the_department_head_satisfies_the_requirement(app, city, as_user):
    doc = _handled(city, market=True)
    drafter, head = as_user("drafter"), as_user("head")
    url = f"/staff/documents/{doc.id}/invitations"
    assert drafter.post(f"{url}/waiver", {"reason": "本文件仅调整内部程序，企业代表已在座谈会上表达意见。"},
                        form_page=url).status_code == 302
    assert "事前评估" in " ".join(_blockers(doc, city["drafter"]))  # not yet accepted
    waiver = invitations.latest_waiver(doc)
    assert drafter.post(f"{url}/waiver/{waiver.id}", {"decision": "accept"}, form_page=url).status_code == 302
    db.session.expire_all()
    assert waiver.decided_at is None  # a drafter cannot accept it
    assert head.post(f"{url}/waiver/{waiver.id}", {"decision": "accept"}, form_page=url).status_code == 302
    db.session.expire_all()
    assert waiver.accepted is True and waiver.decided_by_id == city["head"].id and waiver.decided_at is not None
    assert not _blockers(doc, city["drafter"])
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.document_id == doc.id)))
    assert {"request_assessment_waiver", "decide_assessment_waiver"} <= actions


def test_a_submitted_assessment_without_an_answer_blocks_submission(app, city):
    doc = _handled(city, market=False)
    _submit(_invite(doc, city))
    assert "没有答复" in " ".join(_blockers(doc, city["drafter"])) or "no answer" in " ".join(
        _blockers(doc, city["drafter"]))


def test_the_condition_has_a_title_for_the_procedure_page():
    assert "prior_assessments_answered" in KNOWN_CONDITIONS and "prior_assessments_answered" in CONDITION_TITLES


@pytest.mark.parametrize("table, problem", [
    ('[prior_assessment]\nrequired_when = "sometimes"\nkinds = ["expert"]\n', "'required_when' must be one of"),
    ('[prior_assessment]\nrequired_when = "always"\nkinds = ["lawyer"]\n', "unknown kind 'lawyer'"),
    ('[prior_assessment]\nrequired_when = "always"\nkinds = []\n', "at least one kind"),
    ('[prior_assessment]\nrequired_when = "always"\nkinds = ["expert"]\nkind = ["expert"]\n', "unknown key 'kind'"),
    ('[prior_assessment]\nkinds = ["expert"]\n', "missing 'required_when'"),
])
def test_a_broken_prior_assessment_table_stops_start_up_naming_file_and_entry(tmp_path, table, problem):
    source = (Path(__file__).resolve().parent.parent / "workflows" / "normative_document.toml").read_text("utf-8")
    start = source.index("[prior_assessment]")
    end = source.index("\n[", start + 1) + 1
    broken = tmp_path / "normative_document.toml"
    broken.write_text(source[:start] + table + source[end:], encoding="utf-8")
    with pytest.raises(WorkflowFileError) as caught:
        load_procedure(broken, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    assert "normative_document.toml: [prior_assessment]:" in str(caught.value) and problem in str(caught.value)


def test_the_procedure_files_hold_the_requirement(app):
    procedures = engine.procedures()
    assert procedures["normative_document"].prior_assessment.required_when == "concerns_market_entities"
    assert procedures["major_decision"].prior_assessment.required_when == "always"
    for procedure in procedures.values():
        assert set(procedure.prior_assessment.kinds) == {"enterprise", "expert"}
        for step in ("submit_for_review", "head_approve_submission"):
            assert "prior_assessments_answered" in procedure.transitions[step].conditions


# --- the review packet -------------------------------------------------------------------------------------

def test_the_review_packet_has_a_section_for_the_invited_assessments_with_their_answers(app, city):
    from consultation import reports

    from .test_comparison import _pdf_text

    doc = _handled(city, market=True)
    expert = _invite(doc, city)
    article = doc.current_version.articles[0]
    assessment = _submit(expert, remarks={article.id: "第一条宜增加立法依据。"})
    invitations.answer(assessment, city["drafter"], overall=("adopted", "已据此完善说明。"),
                       remarks={assessment.remarks[0].id: ("partly_adopted", "增加了部分依据。")})
    factories.prior_assessments(doc, city["drafter"], ("enterprise",))
    text = _pdf_text(reports.review_packet(doc))
    section = text[text.index("企业代表、行业协会和专家事前评估意见"):text.index("五、历次审查意见")]
    assert "专家：钱教授（华城大学法学院）" in section and display(assessment.receipt_number) in section
    assert "第一条宜增加立法依据。" in section and "部分采纳" in section and "增加了部分依据。" in section
    assert ASSESSMENT["interests"] in section and "企业代表：enterprise评估人" in section
    assert EXPERT["email"] not in text and "@assess.example.com" not in text


# --- the public feedback -----------------------------------------------------------------------------------

ASSOCIATION = {"kind": "association", "name": "郑秘书长", "organisation": "华城市物业管理协会",
               "email": "zheng.assoc@assoc.example.org"}
PRIVATE = [ENTERPRISE["name"], ENTERPRISE["organisation"], ENTERPRISE["email"], ASSOCIATION["name"],
           ASSOCIATION["organisation"], ASSOCIATION["email"], EXPERT["email"], EXPERT["organisation"],
           "孙经理", "郑秘书长", "华城大学法学院", "本人与本文件无直接利益关系"]


def _published_with_assessments(city) -> Document:
    """A market document whose expert agreed to be named, an enterprise person and an association who
    did not (an enterprise person cannot be named at all), answered and published."""
    from consultation.services import publication

    doc = factories.in_handling(city, market=True, title="华城市市场主体测试办法")
    factories.answer_all(doc, city["drafter"])
    article = doc.current_version.articles[0]
    for person, consent, decision in ((EXPERT, True, "adopted"), (ENTERPRISE, True, "not_adopted"),
                                      (ASSOCIATION, False, "partly_adopted")):
        assessment = _submit(_invite(doc, city, person), consent_named=consent,
                             remarks={article.id: f"{person['name']}对第一条的意见。"})
        invitations.answer(assessment, city["drafter"], overall=(decision, f"答复{decision}。"),
                           remarks={assessment.remarks[0].id: ("explained", "已说明。")})
    db.session.commit()
    factories.adopt(doc, city)
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=utcnow().date() + timedelta(days=30), validity_years=5)
    db.session.commit()
    return doc


def test_the_feedback_counts_invited_assessments_apart_and_names_only_a_consenting_expert(app, city, browser):
    doc = _published_with_assessments(city)
    page = browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    assert "事前评估意见3份：企业代表1份、行业协会1份、专家1份；采纳1份，部分采纳1份，未采纳1份" in page
    assert "钱教授" in page and "答复not_adopted。" in page
    api = browser.get(f"/api/v1/feedback/{doc.id}")
    data = api.get_json()
    assert data["prior_assessments"]["by_kind"] == {"enterprise": 1, "association": 1, "expert": 1}
    assert [i["named_expert"] for i in data["prior_assessments"]["items"]] == ["钱教授", None, None]
    csv_text = browser.get(f"/feedback/{doc.id}/feedback.csv").get_data(as_text=True)
    assert "事前评估意见3份" in csv_text and "事前评估意见（专家）" in csv_text and "钱教授" in csv_text
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    header = rows[0]
    assessed = [dict(zip(header, row, strict=True)) for row in rows if row[0].startswith("事前评估") and row[0] != "事前评估"]
    assert all(len(row) == len(header) for row in rows)  # every row lines up with the header
    assert [r["条款"] for r in assessed] == ["草案整体"] * 3
    assert [r["意见人"] for r in assessed] == ["钱教授", "", ""]
    assert [r["采纳情况"] for r in assessed] == ["采纳", "未采纳", "部分采纳"]
    assert all("另提出逐条意见1条" in r["意见建议"] for r in assessed)
    for where, text in (("page", page), ("api", api.get_data(as_text=True)), ("csv", csv_text)):
        for secret in PRIVATE:
            assert secret not in text, f"{secret!r} on the {where}"


def test_the_feedback_pdf_counts_them_without_personal_data(app, city):
    from consultation import reports

    from .test_comparison import _pdf_text

    doc = _published_with_assessments(city)
    text = _pdf_text(reports.feedback(doc))
    assert "企业代表和专家事前评估意见" in text and "事前评估意见3份" in text and "专家（钱教授）" in text
    for secret in PRIVATE:
        assert secret not in text


def test_no_public_page_feed_or_api_answer_shows_an_invitees_details(app, city, browser):
    from .test_privacy import _crawl

    doc = _published_with_assessments(city)
    open_doc = factories.in_consultation(city, title="开放中的市场办法", market=True)
    _submit(_invite(open_doc, city, {**ENTERPRISE, "email": "open.sun@corp.example.com"}))
    pages = _crawl(browser, ["/", f"/feedback/{doc.id}", "/feed.atom", f"/api/v1/feedback/{doc.id}"], [])
    assert f"/feedback/{doc.id}" in pages
    for url, body in pages.items():
        for secret in [*PRIVATE, "open.sun@corp.example.com"]:
            assert secret not in body, f"{secret!r} leaked on {url}"
        assert "/assess/" not in body


def test_the_admin_procedure_page_shows_the_requirement(app, city, as_user):
    page = as_user("admin").get("/admin/procedures/normative_document").get_data(as_text=True)
    assert "企业代表和专家事前评估" in page and "适用于主要涉及市场主体的文件" in page and "企业代表、专家" in page
    page = as_user("admin").get("/admin/procedures/major_decision").get_data(as_text=True)
    assert "适用于所有文件" in page


def test_guessing_links_is_rate_limited(app, city, browser, monkeypatch):
    monkeypatch.setitem(app.config, "ASSESSMENT_LINK_RATE_LIMIT", "3 per minute")
    codes = [browser.client.get(f"/assess/guess{i}", environ_base={"REMOTE_ADDR": "198.51.100.41"}).status_code
             for i in range(4)]
    assert codes == [302, 302, 302, 429]


# --- after the walk-through: the invitee keeps track, links close with the document, refusals say why -------

from consultation.services import feedback_stage, notifications, publication  # noqa: E402
from consultation.workflow.engine import settle  # noqa: E402

from .test_feedback_stages import (  # noqa: E402
    DECIDED, DECIDED_ZH, PERSON, REASON, WITHDRAWN, approve_both, look_up,
)


def _answered_in_joint_review(city, person: dict = EXPERT) -> tuple[Document, InvitedAssessment]:
    """A consulted document whose invited assessment (overall and one remark) is answered, in joint review."""
    from consultation.services import review

    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=50))
    factories.comment(doc, body="建议第二条写明适用范围。", article_seq=2, **PERSON)
    settle(doc)
    article = doc.current_version.articles[0]
    assessment = _submit(_invite(doc, city, person), remarks={article.id: "第一条宜增加立法依据。"})
    invitations.answer(assessment, city["drafter"], overall=("partly_adopted", "总体部分采纳。"),
                       remarks={assessment.remarks[0].id: ("explained", "第一条已有依据。")})
    factories.answer_all(doc, city["drafter"])
    factories.drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()
    assert doc.stage == "joint_review"
    return doc, assessment


def test_the_receipt_lookup_finds_an_assessment_with_its_answers_only_once_the_feedback_is_public(app, city, browser):
    doc, assessment = _answered_in_joint_review(city)
    receipt, doc_id = display(assessment.receipt_number), doc.id
    before = look_up(browser, receipt)
    assert "没有找到" not in before and "No comment has this receipt" not in before
    assert doc.title in before and "专家" in before and "起草单位正在研究处理" in before
    assert "总体部分采纳。" not in before and "第一条已有依据。" not in before  # the answers wait for the feedback
    approve_both(doc, city)
    public = look_up(browser, receipt)
    assert "总体部分采纳。" in public and "第一条已有依据。" in public and "部分采纳：总体部分采纳。" in public
    assert f"/feedback/{doc_id}" in public
    doc = db.session.get(Document, doc_id)
    govoffice = db.session.scalars(select(invitations.User).where(invitations.User.username == "govoffice")).one()
    publication.record_rejection(doc, govoffice, decision_date=DECIDED, note=REASON)
    db.session.commit()
    ended = look_up(browser, receipt)
    assert REASON in ended and 'id="receipt-assessment-outcome"' in ended
    for text in (before, public, ended):  # never the person, their address, organisation or text
        for secret in (EXPERT["name"], EXPERT["email"], EXPERT["organisation"], "第一条宜增加立法依据。",
                       ASSESSMENT["interests"], ASSESSMENT["necessity"]):
            assert secret not in text


def test_invitees_hear_once_per_feedback_event_like_commenters(app, city, smtp):  # noqa: F811 - fixture
    doc, assessment = _answered_in_joint_review(city)
    other = _answered_in_joint_review(city, {**ENTERPRISE, "email": PERSON["email"]})[0]  # also a commenter there
    receipt, doc_id = display(assessment.receipt_number), doc.id
    approve_both(doc, city)
    approve_both(other, city)
    notifications.tick()
    notifications.tick()
    _run_worker(app)
    before = [m for m in smtp.to(EXPERT["email"]) if "提交常务会议审议前" in m["Subject"]]
    assert len(before) == 1
    body = before[0].get_content()
    assert receipt in body and "事前评估意见" in body and f"/feedback/{doc_id}" in body and "/receipt" in body
    # An address that both commented and assessed hears once per event.
    assert len([m for m in smtp.to(PERSON["email"]) if "提交常务会议审议前" in m["Subject"]]) == 2  # two documents
    doc = db.session.get(Document, doc_id)
    govoffice = db.session.scalars(select(invitations.User).where(invitations.User.username == "govoffice")).one()
    publication.record_rejection(doc, govoffice, decision_date=DECIDED, note=REASON)
    db.session.commit()
    notifications.tick()
    _run_worker(app)
    [outcome] = [m for m in smtp.to(EXPERT["email"]) if "【审议未通过】" in m["Subject"]]
    assert REASON in outcome.get_content() and DECIDED_ZH in outcome.get_content()
    assert EXPERT["name"] not in outcome.get_content()


def test_the_invitee_page_shows_their_own_text_and_every_answer_after_the_answer(app, city, browser):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    article = doc.current_version.articles[0]
    assessment = _submit(invitation, remarks={article.id: "第一条宜增加立法依据。"})
    assert 'name="csrf_token"' in _open(browser, invitation).get_data(as_text=True)  # the form, while open
    invitations.answer(assessment, city["drafter"], overall=("adopted", "已据此完善。"),
                       remarks={assessment.remarks[0].id: ("not_adopted", "已有规定。")})
    db.session.commit()
    page = browser.get("/assess").get_data(as_text=True)
    assert ASSESSMENT["necessity"] in page and ASSESSMENT["interests"] in page and "第一条宜增加立法依据。" in page
    assert "采纳：已据此完善。" in page and "未采纳：已有规定。" in page
    assert f"事前评估：{doc.title}" in page and f"回执编号：{display(assessment.receipt_number)}" in page
    assert "事前评估: " not in page and "回执编号: " not in page and "答复: " not in page
    # Posting to a closed assessment says why (400), and nothing changes.
    refused = browser.post("/assess", {"necessity": "再改一次。", "interests": "无。"}, form_page="/assess")
    assert refused.status_code == 400 and "起草单位已答复您的评估意见" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert assessment.necessity == ASSESSMENT["necessity"]


def test_a_short_article_is_shown_once_in_its_fold(app, city, browser):
    doc = factories.in_handling(city, market=True)
    page = _open(browser, _invite(doc, city)).get_data(as_text=True)
    for article in doc.current_version.articles:
        if len(article.text) <= 40:
            assert page.count(article.text) == 1, article.label


def test_a_final_stage_closes_the_links_with_the_one_message(app, city, browser):
    doc, assessment = _answered_in_joint_review(city)
    invitation = assessment.invitation
    token = invitations.token_of(invitation)
    assert _open(browser, token).status_code == 200
    feedback_stage.withdraw(doc, city["head"], WITHDRAWN)
    db.session.commit()
    closed = _open(browser, token)
    assert closed.status_code == 404 and "此评估链接无效" in closed.get_data(as_text=True)
    assert invitations.status_of(invitation) == "answered"
    # The receipt lookup still answers the invitee, with the outcome.
    assert WITHDRAWN in look_up(browser, display(assessment.receipt_number))


def test_a_pending_invitation_closes_with_the_outcome_and_its_status_says_so(app, city):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    feedback_stage.withdraw(doc, city["head"], WITHDRAWN)
    db.session.commit()
    with pytest.raises(invitations.LinkInvalid):
        invitations.by_token(invitations.token_of(invitation))
    assert invitations.status_of(invitation) == "closed"


def test_the_invitation_mail_says_whether_the_draft_was_publicly_consulted(app, city):
    consulted = factories.in_handling(city, market=True)
    _invite(consulted, city)
    unconsulted = factories.document(city, title="尚未征求意见的办法")
    db.session.commit()
    _invite(unconsulted, city, ENTERPRISE)
    bodies = {n.recipient: n.body for n in db.session.scalars(
        select(Notification).where(Notification.event == "assessment_invitation"))}
    assert "已向社会公开征求意见" in bodies[EXPERT["email"]] and "尚未公开" not in bodies[EXPERT["email"]]
    assert "草案尚未公开" in bodies[ENTERPRISE["email"]]


def test_a_drafter_deciding_the_waiver_hears_about_the_role(app, city, as_user):
    doc = _handled(city, market=True)
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/invitations"
    drafter.post(f"{url}/waiver", {"reason": "本文件仅调整内部程序。"}, form_page=url)
    waiver = invitations.latest_waiver(doc)
    page = drafter.post(f"{url}/waiver/{waiver.id}", {"decision": "accept"}, form_page=url, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "部门负责人" in text and "所处阶段" not in text


def test_a_refused_answer_is_400_with_the_message_beside_its_field(app, city, as_user):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    article = doc.current_version.articles[1]
    assessment = _submit(invitation, remarks={article.id: "第二条应当细化。"})
    remark = assessment.remarks[0]
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/invitations/{invitation.id}"
    refused = drafter.post(url, {"decision": "adopted", "reason": " "})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="reason-error-1"' in html and "理由" in html
    refused = drafter.post(url, {"decision": "adopted", "reason": "已采纳。", f"decision-{remark.id}": "adopted",
                                 f"reason-{remark.id}": ""})
    assert refused.status_code == 400 and f'id="reason-{remark.id}-error"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert assessment.decision is None  # nothing saved


def test_the_staff_page_uses_chinese_punctuation_and_the_timeline_names_the_invitee(app, city, as_user):
    doc = factories.in_handling(city, market=True)
    invitation = _invite(doc, city)
    assessment = _submit(invitation)
    invitations.answer(assessment, city["drafter"], overall=("explained", "已作说明。"), remarks={})
    db.session.commit()
    drafter = as_user("drafter")
    response = as_user("head").get(f"/staff/documents/{doc.id}/invitations/{invitation.id}")  # reads, no form
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert f"回执编号：{display(assessment.receipt_number)}" in page and "作出说明：已作说明。" in page, page[page.find("<main"):]
    assert "回执编号: " not in page and "作出说明: " not in page
    timeline = drafter.get(f"/staff/documents/{doc.id}").get_data(as_text=True)
    assert "invitee" not in timeline.replace("invitees", "") and "受邀评估人" in timeline


def test_the_old_free_text_form_no_longer_offers_the_prior_assessment(app, city, as_user):
    from consultation.models import Assessment

    doc = factories.in_handling(city, market=True)
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/assessments/new"
    form = drafter.get(url).get_data(as_text=True)
    assert 'value="prior_assessment"' not in form and 'value="expert_argument"' in form
    refused = drafter.post(url, {"kind": "prior_assessment", "held_on": utcnow().date().isoformat(),
                                 "participants": "某专家", "conclusion": "结论。"})
    assert refused.status_code in (200, 400)
    assert db.session.scalar(select(Assessment.id).where(Assessment.document_id == doc.id)) is None


def test_the_feedback_summary_and_the_packet_read_the_assessments_in_a_few_queries_whatever_their_number(city):
    """The public feedback page reads the summary on every view: its queries do not grow with the invitations."""
    from sqlalchemy import event

    doc = factories.in_handling(city, title="华城市评估查询数测试办法")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def queries(read) -> int:
        db.session.expire_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            read(doc)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    factories.prior_assessments(doc, city["drafter"])
    few = (queries(invitations.public_summary), queries(invitations.packet_context))
    factories.prior_assessments(doc, city["drafter"], ("enterprise", "expert", "association", "expert"))
    assert invitations.public_summary(doc).total == 6 and len(invitations.packet_context(doc)) == 6
    assert (queries(invitations.public_summary), queries(invitations.packet_context)) == few

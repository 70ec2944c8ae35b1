"""Co-responsible units (会签单位) in a real browser: the drafter names the market-regulation bureau as a co-unit
and submits; after the two organs approved, the bureau's head finds the document waiting, sees who is still
awaited, and signs the unit's opinion with the keyboard alone; the document moves on to the meeting. Every page
passes axe-core, in Chinese and in English, and the Nu HTML checker. At desktop and phone size."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import AuditEvent, Signoff
from consultation.services import review
from consultation.workflow import signers

from .. import factories
from .helpers import check_page, city, current_stage, document_titled, sign_in, sign_out, stage_title, step_title, zh
from .test_html_valid import _nu_check

TITLE = "华城市住宅小区会签测试办法"
UNIT = "华城市市场监督管理局"


def test_the_drafter_names_a_unit_and_its_head_signs_with_the_keyboard(page: Page, demo, axe, shoot, tmp_path):
    people = city()
    doc = factories.ready_for_submission(people, title=TITLE)
    doc_page = f"/staff/documents/{doc.id}"
    saved: list = []

    def keep(name: str) -> None:
        path = tmp_path / f"{name}.html"
        path.write_text(page.content(), encoding="utf-8")
        saved.append(path)

    # The drafter names the co-responsible unit before submission.
    sign_in(page, "drafter")
    page.goto(doc_page)
    check_page(page, axe)
    page.get_by_role("link", name=zh("Name or remove co-responsible units")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Co-responsible units (会签单位)"))
    expect(page.locator("main")).to_contain_text(zh("No co-responsible unit is named."))
    check_page(page, axe)
    page.get_by_label(zh("Department"), exact=True).select_option(label=UNIT)
    page.get_by_role("button", name=zh("Name as co-responsible unit")).click()
    expect(page.locator("main")).to_contain_text(zh("The co-responsible unit was named."))
    expect(page.get_by_role("button", name=zh("Remove %(department)s", department=UNIT))).to_be_visible()
    check_page(page, axe)
    keep("co-units.zh")
    shoot(page, "co-units")

    # …and submits the review draft.
    page.goto(doc_page)
    expect(page.locator("#co-units")).to_contain_text(UNIT)
    page.get_by_role("button", name=step_title("submit_for_review")).click()
    expect(current_stage(page)).to_have_text(stage_title("head_submission"))
    sign_out(page)

    # The department head sends it to joint review; both organs approve the same version.
    doc = document_titled(TITLE)
    people = city()
    review.send_to_joint_review(doc, people["head"])
    review.approve(doc, people["govoffice"], "gov_office", "同意。")
    review.approve(doc, people["justice"], "justice", "合法。")
    db.session.commit()
    assert doc.stage == "joint_review"

    # The co-unit's head finds it waiting, with the unit named as still awaited.
    sign_in(page, "head2")
    page.goto("/staff/")
    check_page(page, axe)
    page.locator("ul.cards").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    awaited = zh("%(department)s (co-responsible unit)", department=UNIT)
    expect(page.locator("#rounds")).to_contain_text(awaited)
    check_page(page, axe)
    page.get_by_role("link", name=zh("Sign the joint review")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Joint review: sign"))
    expect(page.get_by_label(zh("Signing for"))).to_have_value(signers.unit_key(people["head2"].department_id))
    expect(page.get_by_label(zh("Return for revision (退回修改)"))).to_be_visible()
    expect(page.locator("form:has(#organ)")).not_to_contain_text("合法")  # the legality review's words are the justice bureau's
    expect(page.locator("main")).to_contain_text("市司法局：合法")  # the signatures so far, in their words
    check_page(page, axe)
    keep("signoff.zh")

    # With the keyboard alone: the outcome, the opinion, the button.
    page.get_by_label(zh("Signing for")).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label(zh("Agree (同意)"))).to_be_focused()  # a unit's own words: 同意 / 退回修改, 会签意见
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label(zh("Co-signing opinion (会签意见)"))).to_be_focused()
    page.keyboard.type("同意，无修改意见。")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=zh("Sign"), exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text(zh("Your signature was recorded."))
    expect(current_stage(page)).to_have_text(stage_title("deliberation"))
    check_page(page, axe)
    shoot(page, "co-unit-signed")

    db.session.rollback()
    signed = db.session.scalars(db.select(Signoff).where(
        Signoff.organ == signers.unit_key(people["head2"].department_id))).one()
    assert (signed.outcome, signed.opinion, signed.signed_by_id) == ("approve", "同意，无修改意见。", people["head2"].id)
    assert signed.version_id == document_titled(TITLE).current_version.id
    actions = list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.document_id == doc.id)
                                      .order_by(AuditEvent.id)))
    assert "name_co_unit" in actions
    assert [a for a in actions if a in ("sign_off", "joint_approval")][-2:] == ["sign_off", "joint_approval"]

    # The drafter's pages in English.
    sign_out(page)
    sign_in(page, "drafter")
    page.goto("/lang/en")
    page.goto(doc_page)
    expect(page.locator("#co-units")).to_contain_text("Co-responsible units")
    expect(page.locator("#rounds")).to_contain_text(UNIT)
    check_page(page, axe)
    keep("document.en")
    page.goto(f"{doc_page}/co-units")
    expect(page.get_by_role("heading", level=1)).to_have_text("Co-responsible units (会签单位)")
    check_page(page, axe)
    keep("co-units.en")

    errors = _nu_check(saved)
    assert not errors, [(e.get("url"), e.get("message")) for e in errors]

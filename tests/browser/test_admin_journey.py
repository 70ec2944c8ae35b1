"""The administrator: a new department, an account for it (which then signs in), its deactivation, and the
working-day calendar (a corrected day, a year loaded from a file). At desktop and phone size."""
from __future__ import annotations

import json
from datetime import date

from playwright.sync_api import Page, expect

from consultation import working_days
from consultation.extensions import db
from consultation.models import AuditEvent, Department, User

from .conftest import assert_accessible
from .helpers import sign_in, sign_out, zh


def _actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


def _open_admin(page: Page, link: str) -> None:
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Administration")).click()
    page.get_by_role("link", name=link).click()


def test_the_admin_adds_a_department_and_an_account_which_signs_in_and_is_then_deactivated(page: Page, demo,
                                                                                            axe, shoot):
    sign_in(page, "admin")

    # A department.
    _open_admin(page, zh("Departments"))
    assert_accessible(axe, page)
    page.get_by_label(zh("Name of the department")).fill("华城市交通运输局")
    page.get_by_label(zh("Kind")).select_option("drafting")
    page.get_by_role("button", name=zh("Save the department")).click()
    expect(page.locator("#departments")).to_contain_text("华城市交通运输局")
    page.get_by_role("link", name="华城市交通运输局").click()
    page.get_by_label(zh("Name of the department")).fill("华城市交通运输局（港航）")
    page.get_by_role("button", name=zh("Save the department")).click()
    expect(page.locator("#departments")).to_contain_text("华城市交通运输局（港航）")

    # An account in it: first with passwords that differ, which keeps everything else typed.
    _open_admin(page, zh("Accounts"))
    assert_accessible(axe, page)
    page.get_by_role("link", name=zh("New account")).click()
    page.get_by_label(zh("Username")).fill("traffic")
    page.get_by_label(zh("Name shown to colleagues")).fill("孙起草（交通局）")
    page.get_by_label(zh("Email (optional)")).fill("traffic@demo.huacheng.gov.cn")
    page.get_by_label(zh("Department")).select_option(label="华城市交通运输局（港航）")
    page.get_by_role("group", name=zh("Roles")).get_by_label(zh("drafter")).check()
    page.get_by_label(zh("Password"), exact=True).fill("long-enough-pass-1")
    page.get_by_label(zh("Password again")).fill("long-enough-pass-2")
    page.get_by_role("button", name=zh("Create the account")).click()
    expect(page.locator("#password_confirm-error-1")).to_be_visible()
    expect(page.get_by_label(zh("Username"))).to_have_value("traffic")
    expect(page.get_by_role("group", name=zh("Roles")).get_by_label(zh("drafter"))).to_be_checked()
    assert_accessible(axe, page)
    page.get_by_label(zh("Password"), exact=True).fill("long-enough-pass-1")
    page.get_by_label(zh("Password again")).fill("long-enough-pass-1")
    page.get_by_role("button", name=zh("Create the account")).click()
    expect(page.locator("#accounts")).to_contain_text("孙起草（交通局）")
    shoot(page, "admin-accounts")
    sign_out(page)

    # The new drafter signs in and reaches the workspace.
    sign_in(page, "traffic", "long-enough-pass-1")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/staff" in page.url
    sign_out(page)

    # Deactivated, the account no longer signs in.
    sign_in(page, "admin")
    _open_admin(page, zh("Accounts"))
    page.locator("#accounts").get_by_role("link", name="traffic", exact=True).click()
    page.get_by_label(zh("Active: the account may sign in")).uncheck()
    page.get_by_role("button", name=zh("Save the account")).click()
    expect(page.locator("#accounts")).to_contain_text(zh("deactivated"))
    sign_out(page)
    page.goto("/auth/login")
    page.get_by_label(zh("Username")).fill("traffic")
    page.get_by_label(zh("Password")).fill("long-enough-pass-1")
    page.get_by_role("button", name=zh("Sign in")).click()
    expect(page.get_by_role("alert")).to_have_text(zh("Wrong username or password."))

    db.session.rollback()
    user = db.session.scalars(db.select(User).where(User.username == "traffic")).one()
    assert not user.active and user.department.name == "华城市交通运输局（港航）" and user.roles == {"drafter"}
    assert db.session.scalars(db.select(Department).where(Department.name == "华城市交通运输局")).first() is None
    actions = _actions()
    for action in ("department_created", "department_updated", "account_created", "account_deactivated"):
        assert action in actions, actions
    assert actions.count("sign_in") >= 3  # admin twice, traffic once
    payloads = " ".join(e.payload or "" for e in db.session.scalars(db.select(AuditEvent)))
    assert "long-enough-pass" not in payloads


def test_the_admin_corrects_a_day_and_loads_a_year_of_the_working_day_calendar(page: Page, demo, axe, tmp_path,
                                                                               shoot):
    sign_in(page, "admin")
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Administration")).click()
    page.goto("/admin/calendar?year=2031")
    assert_accessible(axe, page)
    expect(page.locator("#calendar-source")).to_have_attribute("data-source", "estimated")

    # One day: a Saturday that becomes a make-up working day.
    page.get_by_label(zh("Day")).fill("2031-10-11")
    page.get_by_label(zh("Make-up working day (调休上班)")).check()
    page.get_by_label(zh("Name, for example 春节")).fill("国庆节调休")
    page.get_by_role("button", name=zh("Save the day")).click()
    expect(page.get_by_role("status")).to_contain_text("2031-10-11")
    expect(page.get_by_role("region", name=zh("Holidays and make-up working days"))).to_contain_text("国庆节调休")
    db.session.rollback()
    working_days.forget()  # this test's own reading of the calendar is older than the change
    assert working_days.current().is_working_day(date(2031, 10, 11))

    # A whole year from a file; a bad line refuses the file and names the line.
    bad = tmp_path / "2032-bad.txt"
    bad.write_text("year 2032\n2032-01-01 holiday 元旦\n2032-13-40 holiday 不存在\n", encoding="utf-8")
    page.get_by_label(zh("Year file (.txt)")).set_input_files(bad)
    page.get_by_role("button", name=zh("Load the year")).click()
    expect(page.get_by_role("alert")).to_contain_text(zh("line %(n)d: %(problem)s", n=3, problem=zh("not a real date")))
    page.goto("/admin/calendar?year=2032")
    expect(page.locator("#calendar-source")).to_have_attribute("data-source", "estimated")  # nothing of it kept
    good = tmp_path / "2032.txt"
    good.write_text("year 2032\n2032-01-01 holiday 元旦\n2032-02-10..2032-02-16 holiday 春节\n"
                    "2032-02-08 workday 春节调休\n", encoding="utf-8")
    page.get_by_label(zh("Year file (.txt)")).set_input_files(good)
    page.get_by_role("button", name=zh("Load the year")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2032")
    expect(page.locator("#calendar-source")).to_have_attribute("data-source", "loaded")
    expect(page.get_by_role("region", name=zh("Holidays and make-up working days"))).to_contain_text("春节调休")
    assert_accessible(axe, page)
    shoot(page, "admin-calendar")

    actions = _actions()
    assert "calendar_day_changed" in actions and "calendar_loaded" in actions, actions
    loaded = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "calendar_loaded")).one()
    assert "2032" in json.dumps(json.loads(loaded.payload))

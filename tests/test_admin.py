"""The administration pages: the procedures drawn from their files, the holiday calendar, departments and accounts."""
from __future__ import annotations

import io
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consultation import audit, working_days
from consultation.extensions import db
from consultation.models import AuditEvent, CalendarOverride, CalendarYear, Department, User
from consultation.workflow import engine

from .conftest import PASSWORD, Browser


def account_pages(city) -> list[str]:
    user = city["drafter"]
    return ["/admin/departments", f"/admin/departments/{user.department_id}", "/admin/accounts",
            "/admin/accounts/new", f"/admin/accounts/{user.id}", f"/admin/accounts/{user.id}/password"]


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["drafter", "head", "govoffice", "justice", "openness"])
def test_only_administrators_reach_the_admin_pages(city, as_user, username):
    browser = as_user(username)
    for page in ("/admin/", "/admin/procedures/normative_document", "/admin/calendar?year=2026", *account_pages(city)):
        assert browser.get(page).status_code == 403, page
    assert "/admin/" not in text_of(browser.get("/staff/"))


def test_anonymous_visitors_are_sent_to_sign_in(browser):
    response = browser.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_admin_index_lists_both_procedures(as_user):
    html = text_of(as_user("admin").get("/admin/"))
    assert "/admin/procedures/normative_document" in html and "/admin/procedures/major_decision" in html


@pytest.mark.parametrize("procedure_id", ["normative_document", "major_decision"])
def test_each_procedure_is_drawn_from_its_file(app, as_user, procedure_id):
    html = text_of(as_user("admin").get(f"/admin/procedures/{procedure_id}"))
    svg = html[html.index("<svg"):html.index("</svg>")]
    procedure = app.extensions["procedures"][procedure_id]
    # Every stage is a node and every transition an edge, labelled in Chinese by default.
    nodes = re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg)
    assert set(nodes) == set(procedure.stages)
    for stage in procedure.stages.values():
        assert stage.title in svg
    edges = set(re.findall(r'<g id="t(?:-|&#45;)([a-z_]+)(?:-|&#45;)[a-z_]+" class="edge">', svg))
    assert edges == set(procedure.transitions)
    assert svg.count("stroke-dasharray") == 2  # the two automatic steps are dashed
    # Who acts is written on the arrows and in the table below.
    assert "司法局审核人员" in html or "justice-bureau reviewer" in html


def test_the_diagram_follows_the_language(as_user):
    admin = as_user("admin")
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    html = text_of(admin.get("/admin/procedures/major_decision"))
    assert "Expert argument" in html or "Joint review (legality review)" in html
    assert "Joint review (legality review)" in html[html.index("<svg"):]


def test_an_unknown_procedure_is_404(as_user):
    assert as_user("admin").get("/admin/procedures/nothing").status_code == 404


# --- the calendar ----------------------------------------------------------------------------

YEAR_2031 = """# 国务院办公厅关于2031年部分节假日安排的通知 (an example schedule)
year 2031
2031-01-01 holiday 元旦
2031-01-19 workday 春节调休
2031-01-22..2031-01-28 holiday 春节
2031-02-08 workday 春节调休
"""


def test_a_year_without_data_is_estimated_until_its_schedule_is_loaded_on_the_page(city, as_user):
    admin = as_user("admin")
    assert 'data-source="estimated"' in text_of(admin.get("/admin/calendar?year=2031"))
    assert working_days.add_working_days(date(2031, 1, 20), 3).estimated
    response = admin.post("/admin/calendar?year=2031", {"file-text": YEAR_2031, "file-submit": "1"})
    assert response.status_code == 302, text_of(response)
    working_days.forget()
    assert db.session.scalar(select(CalendarYear.year)) == 2031
    assert not working_days.is_working_day(date(2031, 1, 1))      # Wednesday, 元旦
    assert working_days.is_working_day(date(2031, 1, 19))         # Sunday, make-up day
    assert not working_days.is_working_day(date(2031, 1, 27))     # Monday, 春节
    assert working_days.is_working_day(date(2031, 2, 8))          # Saturday, make-up day
    assert not working_days.add_working_days(date(2031, 1, 20), 3).estimated
    # Monday 20 January + 2 working days: the 21st, then the holiday until the 28th, so 29 January.
    assert working_days.add_working_days(date(2031, 1, 20), 2).day == date(2031, 1, 29)
    page = text_of(admin.get("/admin/calendar?year=2031"))
    assert 'data-source="loaded"' in page and "2031-01-19" in page and "春节调休" in page
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_loaded")).all()
    assert event.actor_id == city["admin"].id and '"year": 2031' in event.payload


def test_loading_a_year_again_replaces_its_corrections(city):
    from consultation.holiday_calendar import load_year

    load_year(YEAR_2031, city["admin"])
    load_year("year 2031\n2031-10-01..2031-10-07 holiday 国庆节\n", city["admin"])
    working_days.forget()
    assert working_days.is_working_day(date(2031, 1, 27))   # the Spring Festival lines are gone
    assert not working_days.is_working_day(date(2031, 10, 1))
    assert db.session.scalar(select(db.func.count(CalendarYear.id))) == 1


def test_a_file_with_bad_lines_is_refused_whole_naming_each_line(city, as_user):
    admin = as_user("admin")
    broken = "year 2031\n2031-01-01 holiday 元旦\n2031-02-30 holiday 无此日\n2031-01-27 workday 周一调休\n"
    response = admin.post("/admin/calendar?year=2031", {"file-text": broken, "file-submit": "1"})
    html = text_of(response)
    assert response.status_code == 400
    assert "第3行" in html and "第4行" in html
    assert "2031-02-30 holiday 无此日" in html  # the pasted text is kept for correction
    assert db.session.scalar(select(CalendarOverride.id)) is None
    assert db.session.scalar(select(CalendarYear.id)) is None


def test_a_year_file_can_be_uploaded(city, as_user):
    data = {"file-upload": (io.BytesIO(YEAR_2031.encode()), "2031.txt"),
            "file-submit": "1"}
    response = as_user("admin").post("/admin/calendar?year=2031", data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(CalendarYear.source)) == "2031.txt"


def test_one_day_can_be_corrected_and_the_correction_removed(city, as_user):
    admin = as_user("admin")
    # An extra rest day decided locally (for example a typhoon closure) on Monday 30 November 2026.
    monday = date(2026, 11, 30)
    assert working_days.is_working_day(monday)
    r = admin.post("/admin/calendar?year=2026", {"day-day": monday.isoformat(), "day-kind": "holiday",
                                                 "day-name": "台风停工", "day-submit": "1"})
    assert r.status_code == 302
    working_days.forget()
    assert not working_days.is_working_day(monday)
    assert "台风停工" in text_of(admin.get("/admin/calendar?year=2026"))
    refused = admin.post("/admin/calendar?year=2026", {"day-day": "2026-12-01", "day-kind": "workday",
                                                       "day-name": "", "day-submit": "1"})
    assert refused.status_code == 400 and "周末" in text_of(refused)
    admin.post("/admin/calendar?year=2026", {"day-day": monday.isoformat(), "day-kind": "normal",
                                             "day-name": "", "day-submit": "1"})
    working_days.forget()
    assert working_days.is_working_day(monday)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("calendar_day_changed") == 2


def test_a_deadline_follows_the_corrected_calendar(city):
    from consultation.holiday_calendar import set_day

    before = working_days.add_working_days(date(2026, 11, 27), 1).day   # Friday → Monday 30 November
    assert before == date(2026, 11, 30)
    set_day(date(2026, 11, 30), "holiday", "台风停工", city["admin"])
    assert working_days.add_working_days(date(2026, 11, 27), 1).day == date(2026, 12, 1)


def test_the_calendar_commands(app, city, tmp_path):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["calendar", "show", "2026"])
    assert shown.exit_code == 0 and "chinesecalendar" in shown.output
    assert "2026-02-14 Sat workday 春节" in shown.output
    exported = runner.invoke(args=["calendar", "export", "2031"])
    assert exported.output.splitlines()[1] == "year 2031" and len(exported.output.splitlines()) == 2
    path = tmp_path / "2031.txt"
    path.write_text(YEAR_2031, encoding="utf-8")
    loaded = runner.invoke(args=["calendar", "load", str(path)])
    assert loaded.exit_code == 0 and "Loaded 2031" in loaded.output
    assert "loaded by an administrator" in runner.invoke(args=["calendar", "show", "2031"]).output
    path.write_text("year 2031\n2031-13-01 holiday 坏日期\n", encoding="utf-8")
    broken = runner.invoke(args=["calendar", "load", str(path)])
    assert broken.exit_code == 1 and "第2行" in broken.output


def test_the_export_of_every_official_year_loads_back_to_the_same_calendar(city):
    from consultation.holiday_calendar import export_year, parse

    for year in range(2020, 2027):
        parsed_year, entries = parse(export_year(year))
        assert parsed_year == year
        marked = {e.day: e.kind.value == "workday" for e in entries}
        day = date(year, 1, 1)
        while day.year == year:
            expected = working_days.is_working_day(day)
            assert marked.get(day, day.weekday() < 5) == expected, day
            day = date.fromordinal(day.toordinal() + 1)


def test_the_procedures_are_the_engine_s(app):
    with app.test_request_context():
        assert set(engine.procedures()) == {"normative_document", "major_decision"}


def test_without_graphviz_the_page_names_the_package_and_still_shows_the_procedure(as_user, monkeypatch):
    from consultation import diagrams

    diagrams._render.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")  # as on a machine where Debian's graphviz is not installed
    try:
        response = as_user("admin").get("/admin/procedures/normative_document")
    finally:
        diagrams._render.cache_clear()
    html = text_of(response)
    assert response.status_code == 200 and "<svg" not in html
    assert "graphviz" in html and "联合审查" in html


def test_the_calendar_page_says_in_words_that_an_unknown_year_is_estimated(as_user):
    admin = as_user("admin")
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    html = text_of(admin.get("/admin/calendar?year=2031"))
    assert "weekends only" in html and "estimated" in html
    assert "chinesecalendar" in text_of(admin.get("/admin/calendar?year=2026"))


def test_a_year_file_saved_by_windows_notepad_can_be_uploaded(city, as_user):
    data = {"file-upload": (io.BytesIO(YEAR_2031.replace("\n", "\r\n").encode("utf-8-sig")), "2031.txt"),
            "file-submit": "1"}
    response = as_user("admin").post("/admin/calendar?year=2031", data, content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)
    assert db.session.scalar(select(CalendarOverride.name).where(CalendarOverride.day == date(2031, 1, 1))) == "元旦"


def test_calendar_show_counts_the_working_days(app):
    output = app.test_cli_runner().invoke(args=["calendar", "show", "2025"]).output
    # 2025 has 261 weekdays; 18 are holidays (元旦 1, 春节 6, 清明 1, 劳动节 3, 端午 1, 国庆中秋 6) and
    # 5 weekend days are worked: 261 - 18 + 5 = 248.
    assert "2025: official schedule from the chinesecalendar package" in output
    assert output.splitlines()[1] == "248 working days, 18 holidays on weekdays, 5 make-up working days"


# Departments and accounts


class _Page(HTMLParser):
    """Ids, label targets, form controls and fieldsets of a page, to check its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.wrapped: set[str] = set()  # controls inside a <label>
        self.in_label = 0
        self.legends = 0
        self.fieldsets: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)
            if self.in_label:
                self.wrapped.add(a.get("id"))
        elif tag == "fieldset":
            self.fieldsets.append(a.get("id"))
        elif tag == "legend":
            self.legends += 1

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


def page_structure(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"
    for control in page.controls:
        assert control.get("id") in page.label_for | page.wrapped, f"no label for {control}"
    assert page.legends == len(page.fieldsets)
    for control in page.controls:  # every aria-describedby names something on the page
        for target in (control.get("aria-describedby") or "").split():
            assert target in page.ids, target
    return page


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def payload(event: AuditEvent) -> dict:
    return json.loads(event.payload)


def user_named(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def department_named(name: str) -> Department:
    return db.session.scalars(select(Department).where(Department.name == name)).one()


NEW_ACCOUNT = {"username": "zhang.san", "display_name": "张三（住建局）", "email": "zhangsan@example.gov.cn",
               "roles": ["drafter"], "password": "a-long-password-1", "password_confirm": "a-long-password-1"}


def new_account(city, **changes) -> dict:
    data = {**NEW_ACCOUNT, "department": str(city["drafter"].department_id), **changes}
    return {k: v for k, v in data.items() if v is not None}


def account_edit(user: User, **changes) -> dict:
    """The edit form as the page fills it, with some fields changed; active=None leaves the box unticked."""
    data = {"display_name": user.display_name, "email": user.email or "", "department": str(user.department_id),
            "roles": sorted(user.roles), "active": "y", **changes}
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("username", ["drafter", "head", "govoffice", "justice", "openness"])
def test_only_administrators_change_accounts_and_departments(city, as_user, username):
    browser = as_user(username)
    target = city["drafter"].id
    for url, data in [("/admin/departments", {"name": "华城市新部门", "kind": "drafting"}),
                      ("/admin/accounts/new", new_account(city, roles=["admin"])),
                      (f"/admin/accounts/{target}", account_edit(city["drafter"], roles=["admin"])),
                      (f"/admin/accounts/{target}/password", {"password": "x" * 12, "password_confirm": "x" * 12}),
                      (f"/admin/accounts/{target}/sessions", {})]:
        assert browser.post(url, data, form_page="/").status_code == 403, url
    assert db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.action != "sign_in")) == 0
    assert user_named("drafter").roles == {"drafter"}


def test_the_admin_index_links_to_accounts_and_departments(as_user):
    html = text_of(as_user("admin").get("/admin/"))
    assert 'href="/admin/accounts"' in html and 'href="/admin/departments"' in html


def test_the_pages_are_well_formed_and_labelled(city, as_user):
    admin = as_user("admin")
    for url in account_pages(city):
        response = admin.get(url)
        assert response.status_code == 200, url
        page_structure(text_of(response))
    # The roles are checkboxes in a fieldset with its legend; each checkbox is inside its label.
    page = page_structure(text_of(admin.get("/admin/accounts/new")))
    assert page.fieldsets == ["roles"]
    assert {c["id"] for c in page.controls if c.get("type") == "checkbox"} == {f"roles-{i}" for i in range(6)}
    assert "required" not in {k for c in page.controls if c.get("type") == "checkbox" for k in c}
    # The wide tables scroll sideways on a phone and the keyboard reaches them.
    html = text_of(admin.get("/admin/accounts"))
    assert '<div class="table-scroll" role="region" aria-labelledby="accounts-h" tabindex="0">' in html


def test_the_departments_page_lists_each_with_its_kind_and_active_accounts(city, as_user):
    html = text_of(as_user("admin").get("/admin/departments"))
    row = re.search(r"华城市住房和城乡建设局</a></th>\s*<td>([^<]+)</td><td>(\d+)</td>", html)
    assert row and row.groups() == ("起草单位", "2")  # drafter and head
    assert "市司法局" in html


def test_a_department_is_created_and_lands_in_the_audit_trail(city, as_user):
    response = as_user("admin").post("/admin/departments", {"name": "  华城市城市管理局 ", "kind": "drafting"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/departments")
    department = department_named("华城市城市管理局")
    assert department.kind == "drafting"
    [event] = audit_events("department_created")
    assert event.actor_id == city["admin"].id
    assert payload(event) == {"department_id": department.id, "name": "华城市城市管理局", "kind": "drafting"}


@pytest.mark.parametrize("name", ["华城市司法局", " 华城市司法局  ", "华城市司法局\u3000"])
def test_a_department_name_is_unique(city, as_user, name):
    before = db.session.scalar(select(db.func.count(Department.id)))
    response = as_user("admin").post("/admin/departments", {"name": name, "kind": "drafting"})
    html = text_of(response)
    assert response.status_code == 400
    assert "已存在" in html and 'aria-invalid="true"' in html and f'value="{name}"' in html
    assert db.session.scalar(select(db.func.count(Department.id))) == before
    assert not audit_events("department_created")


def test_a_department_created_twice_at_the_same_moment_is_refused_not_a_server_error(city, as_user, monkeypatch):
    from consultation.services import accounts

    # The second request passed the check before the first committed: the unique constraint decides.
    monkeypatch.setattr(accounts, "_department_name", lambda name, exclude=None: name.strip())
    response = as_user("admin").post("/admin/departments", {"name": "华城市司法局", "kind": "justice"})
    assert response.status_code == 400 and "已存在" in text_of(response)
    assert not audit_events("department_created")


def test_a_department_is_renamed_and_its_kind_changed(city, as_user):
    admin = as_user("admin")
    department = department_named("华城市市场监督管理局")
    url = f"/admin/departments/{department.id}"
    assert 'value="华城市市场监督管理局"' in text_of(admin.get(url))
    response = admin.post(url, {"name": "华城市市场监管局", "kind": "openness"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (department.name, department.kind) == ("华城市市场监管局", "openness")
    [event] = audit_events("department_updated")
    assert payload(event)["changes"] == {"name": ["华城市市场监督管理局", "华城市市场监管局"],
                                         "kind": ["drafting", "openness"]}
    # Saving again unchanged records nothing; taking another department's name is refused.
    assert admin.post(url, {"name": "华城市市场监管局", "kind": "openness"}).status_code == 302
    refused = admin.post(url, {"name": "华城市司法局", "kind": "openness"})
    assert refused.status_code == 400 and "已存在" in text_of(refused)
    assert len(audit_events("department_updated")) == 1
    assert admin.get("/admin/departments/999999").status_code == 404


@pytest.mark.parametrize(("data", "kind"), [({"name": "", "kind": "drafting"}, "drafting"),
                                            ({"name": "华城市某局", "kind": "ministry"}, "ministry")])
def test_a_department_form_with_bad_input_is_shown_again(city, as_user, data, kind):
    response = as_user("admin").post("/admin/departments", data)
    assert response.status_code == 400 and 'aria-invalid="true"' in text_of(response)
    assert not audit_events("department_created")


def test_an_account_is_created_and_can_sign_in(city, as_user, browser):
    response = as_user("admin").post("/admin/accounts/new", new_account(city, roles=["drafter", "department_head"]))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/accounts")
    user = user_named("zhang.san")
    assert user.display_name == "张三（住建局）" and user.email == "zhangsan@example.gov.cn" and user.active
    assert user.roles == {"drafter", "department_head"} and user.department_id == city["drafter"].department_id
    assert user.password_hash != NEW_ACCOUNT["password"] and user.check_password(NEW_ACCOUNT["password"])
    [event] = audit_events("account_created")
    assert event.actor_id == city["admin"].id
    assert payload(event) == {"user_id": user.id, "username": "zhang.san", "display_name": "张三（住建局）",
                              "department": "华城市住房和城乡建设局", "department_id": user.department_id,
                              "roles": ["department_head", "drafter"], "email_given": True}
    browser.login("zhang.san", NEW_ACCOUNT["password"])
    assert browser.get("/staff/").status_code == 200
    listing = text_of(as_user("admin").get("/admin/accounts"))
    assert "zhang.san" in listing and "部门负责人, 起草人员" in listing


BAD_ACCOUNTS = [
    ({"username": "张三"}, "username"),
    ({"username": "zhang san"}, "username"),
    ({"username": "a"}, "username"),
    ({"username": "x" * 81}, "username"),
    ({"display_name": "  "}, "display_name"),
    ({"email": "not-an-address"}, "email"),
    ({"department": ""}, "department"),
    ({"department": "999999"}, "department"),
    ({"department": "99999999999999"}, "department"),
    ({"department": "abc"}, "department"),
    ({"email": "x" * 60 + "@" + "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + ".cn"}, "email"),  # 245 characters
    ({"roles": None}, "roles"),
    ({"roles": ["emperor"]}, "roles"),
    ({"password": "short-pw1", "password_confirm": "short-pw1"}, "password"),
    ({"password_confirm": "a-long-password-2"}, "password_confirm"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_ACCOUNTS)
def test_a_bad_account_form_is_shown_again_with_the_message_beside_the_field(city, as_user, changes, field):
    response = as_user("admin").post("/admin/accounts/new", new_account(city, **changes))
    html = text_of(response)
    assert response.status_code == 400
    assert f'id="{field}-error-1"' in html
    page_structure(html)
    # What was typed is kept, except the passwords.
    assert 'value="张三（住建局）"' in html or field == "display_name"
    assert 'value="zhangsan@example.gov.cn"' in html or field == "email"
    assert NEW_ACCOUNT["password"] not in html
    assert db.session.scalar(select(User.id).where(User.display_name == "张三（住建局）")) is None
    assert not audit_events("account_created")


@pytest.mark.parametrize("username", ["drafter", "Drafter", " DRAFTER "])
def test_a_username_is_unique_whatever_its_case(city, as_user, username):
    response = as_user("admin").post("/admin/accounts/new", new_account(city, username=username))
    assert response.status_code == 400 and "已被使用" in text_of(response)
    assert 'id="username-error-1"' in text_of(response)
    assert not audit_events("account_created")


def test_an_account_created_twice_at_the_same_moment_is_refused_not_a_server_error(city, as_user, monkeypatch):
    from consultation.services import accounts

    monkeypatch.setattr(accounts, "_username", lambda username: username.strip())
    response = as_user("admin").post("/admin/accounts/new", new_account(city, username="drafter"))
    assert response.status_code == 400 and "已被使用" in text_of(response)
    assert user_named("drafter").display_name == "王起草（住建局）"


def test_an_account_is_edited_and_the_trail_names_what_changed(city, as_user):
    drafter = city["drafter"]
    other = department_named("华城市市场监督管理局")
    admin = as_user("admin")
    page = text_of(admin.get(f"/admin/accounts/{drafter.id}"))
    assert 'value="王起草（住建局）"' in page and '<input checked id="roles-0"' in page
    response = admin.post(f"/admin/accounts/{drafter.id}", account_edit(
        drafter, display_name="王起草（市场监管局）", email="wang@example.gov.cn", department=str(other.id),
        roles=["drafter", "department_head"]))
    assert response.status_code == 302
    user = user_named("drafter")
    assert (user.display_name, user.email, user.department_id) == ("王起草（市场监管局）", "wang@example.gov.cn", other.id)
    assert user.roles == {"drafter", "department_head"} and user.active
    [event] = audit_events("account_updated")
    assert event.actor_id == city["admin"].id
    assert payload(event) == {"user_id": drafter.id, "username": "drafter", "changes": {
        "display_name": ["王起草（住建局）", "王起草（市场监管局）"],
        "email": {"changed": True},  # the trail cannot be erased: no address in it
        "department": ["华城市住房和城乡建设局", "华城市市场监督管理局"],
        "roles": [["drafter"], ["department_head", "drafter"]],
    }}
    assert "wang@example.gov.cn" not in event.payload
    assert not audit_events("account_deactivated")
    # A role taken away, another kept: the kept role's row stays.
    assert admin.post(f"/admin/accounts/{drafter.id}", account_edit(user, roles=["department_head"])).status_code == 302
    assert user_named("drafter").roles == {"department_head"}
    assert payload(audit_events("account_updated")[-1])["changes"] == {
        "roles": [["department_head", "drafter"], ["department_head"]]}


def test_an_account_needs_at_least_one_role(city, as_user):
    drafter = city["drafter"]
    response = as_user("admin").post(f"/admin/accounts/{drafter.id}", account_edit(drafter, roles=None))
    assert response.status_code == 400 and 'id="roles-error-1"' in text_of(response)
    assert user_named("drafter").roles == {"drafter"}


def test_a_deactivated_account_cannot_sign_in_and_its_open_session_ends(city, as_user, browser):
    drafter = as_user("drafter")
    assert drafter.get("/staff/").status_code == 200
    admin = as_user("admin")
    response = admin.post(f"/admin/accounts/{city['drafter'].id}", account_edit(city["drafter"], active=None))
    assert response.status_code == 302
    assert not user_named("drafter").active
    [event] = audit_events("account_deactivated")
    assert payload(event) == {"user_id": city["drafter"].id, "username": "drafter"}
    # The open session is refused on its next request; signing in again is refused too.
    refused = drafter.get("/staff/")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert browser.post("/auth/login", {"username": "drafter", "password": PASSWORD}).status_code == 200
    assert browser.get("/staff/").status_code == 302
    assert "已停用" in text_of(admin.get("/admin/accounts"))
    # Reactivated, the account signs in again.
    assert admin.post(f"/admin/accounts/{city['drafter'].id}",
                      account_edit(user_named("drafter"))).status_code == 302
    assert len(audit_events("account_reactivated")) == 1 and not audit_events("account_updated")
    browser.login("drafter")
    assert browser.get("/staff/").status_code == 200


def test_flask_login_refuses_an_inactive_account(city, app):
    from consultation.security import _load_user
    from consultation.services import sign_in

    user = city["drafter"]
    token = sign_in.open_session(user)
    db.session.commit()
    assert _load_user(token) is user
    user.active = False
    db.session.commit()
    assert not user.is_active and _load_user(token) is None


def test_a_password_reset_ends_the_accounts_open_sessions_but_not_the_admins_own(city, as_user, browser):
    from consultation.security import _load_user
    from consultation.services import sign_in

    head = as_user("head")
    assert head.get("/staff/").status_code == 200
    admin = as_user("admin")
    new = "a-new-password-2027"
    assert admin.post(f"/admin/accounts/{city['head'].id}/password",
                      {"password": new, "password_confirm": new}).status_code == 302
    refused = head.get("/staff/")  # the session opened with the old password
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    browser.login("head", new)
    assert browser.get("/staff/").status_code == 200

    # The administrator's own new password keeps their session (and ends their others).
    other_admin_session = as_user("admin")
    own = f"/admin/accounts/{city['admin'].id}/password"
    assert admin.post(own, {"password": new, "password_confirm": new}).status_code == 302
    assert admin.get("/admin/accounts").status_code == 200
    assert other_admin_session.get("/admin/accounts").status_code == 302

    # Only the token of a live session is someone: not the account's id, nor a made-up token.
    user = user_named("head")
    assert _load_user(str(user.id)) is None and _load_user(f"{user.id}:{'0' * 32}") is None
    assert _load_user("x" * 43) is None and _load_user("x" * 10_000) is None
    token = sign_in.open_session(user)
    db.session.commit()
    assert _load_user(token) is user and user.get_id() == token


def test_a_password_reset_replaces_the_password_and_never_reaches_the_trail(city, as_user, browser):
    admin = as_user("admin")
    url = f"/admin/accounts/{city['head'].id}/password"
    mismatch = admin.post(url, {"password": "new-password-2027", "password_confirm": "new-password-2028"})
    assert mismatch.status_code == 400 and 'id="password_confirm-error-1"' in text_of(mismatch)
    assert "new-password-2027" not in text_of(mismatch)
    short = admin.post(url, {"password": "short", "password_confirm": "short"})
    assert short.status_code == 400 and 'id="password-error-1"' in text_of(short)
    response = admin.post(url, {"password": "new-password-2027", "password_confirm": "new-password-2027"})
    assert response.status_code == 302
    head = user_named("head")
    assert head.check_password("new-password-2027") and not head.check_password(PASSWORD)
    [event] = audit_events("password_reset")
    assert event.actor_id == city["admin"].id
    assert payload(event) == {"user_id": head.id, "username": "head"}
    for logged in db.session.scalars(select(AuditEvent)):
        assert "new-password-2027" not in logged.payload + logged.note
        assert head.password_hash not in logged.payload and "pbkdf2" not in logged.payload
    assert browser.post("/auth/login", {"username": "head", "password": PASSWORD}).status_code == 200
    browser.login("head", "new-password-2027")


def test_no_password_reaches_the_trail_when_an_account_is_created(city, as_user):
    as_user("admin").post("/admin/accounts/new", new_account(city))
    for logged in db.session.scalars(select(AuditEvent)):
        assert NEW_ACCOUNT["password"] not in logged.payload and "password" not in logged.payload
        assert user_named("zhang.san").password_hash not in logged.payload
    assert audit.verify_chain().first_broken_id is None


def test_an_administrator_cannot_deactivate_themselves_nor_drop_their_own_admin_role(city, as_user):
    admin_user = city["admin"]
    admin = as_user("admin")
    page = text_of(admin.get(f"/admin/accounts/{admin_user.id}"))
    assert 'id="self-note"' in page
    deactivate = admin.post(f"/admin/accounts/{admin_user.id}", account_edit(admin_user, active=None))
    assert deactivate.status_code == 400 and 'id="active-error-1"' in text_of(deactivate)
    demote = admin.post(f"/admin/accounts/{admin_user.id}", account_edit(admin_user, roles=["drafter"]))
    assert demote.status_code == 400 and 'id="roles-error-1"' in text_of(demote)
    user = user_named("admin")
    assert user.active and user.roles == {"admin"}
    assert not audit_events("account_updated") and not audit_events("account_deactivated")
    # Other changes to one's own account are fine, an extra role included.
    assert admin.post(f"/admin/accounts/{admin_user.id}",
                      account_edit(admin_user, roles=["admin", "openness_officer"])).status_code == 302
    assert user_named("admin").roles == {"admin", "openness_officer"}


def test_a_demoted_administrator_loses_the_admin_pages_at_once(app, city, as_user):
    admin = as_user("admin")
    admin.post("/admin/accounts/new", new_account(city, username="admin2", roles=["admin"]))
    second = Browser(app.test_client()).login("admin2", NEW_ACCOUNT["password"])
    assert second.get("/admin/").status_code == 200
    response = admin.post(f"/admin/accounts/{user_named('admin2').id}", account_edit(user_named("admin2"),
                                                                                     roles=["drafter"]))
    assert response.status_code == 302
    assert second.get("/admin/").status_code == 403  # at once, in the open session


def test_the_last_active_administrator_keeps_the_role_whoever_asks(city):
    from consultation.services import accounts

    admin, drafter = city["admin"], city["drafter"]
    # A retired administrator does not count: they cannot act.
    retired = accounts.create_account(admin, username="retired", display_name="退休管理员", email=None,
                                      department_id=admin.department_id, roles=["admin"],
                                      password=NEW_ACCOUNT["password"])
    accounts.update_account(retired, admin, display_name=retired.display_name, email=None,
                            department_id=retired.department_id, roles=["admin"], active=False)
    details = {"display_name": admin.display_name, "email": None, "department_id": admin.department_id}
    with pytest.raises(accounts.FieldRefused, match="最后一个") as refused:
        accounts.update_account(admin, drafter, **details, roles=["admin"], active=False)
    assert refused.value.field == "active"
    with pytest.raises(accounts.FieldRefused, match="最后一个"):
        accounts.update_account(admin, drafter, **details, roles=["drafter"], active=True)
    # With a second active administrator, the first may go.
    accounts.update_account(retired, admin, display_name=retired.display_name, email=None,
                            department_id=retired.department_id, roles=["admin"], active=True)
    accounts.update_account(admin, retired, **details, roles=["admin"], active=False)
    assert not admin.active


def test_unknown_accounts_are_not_found(city, as_user):
    admin = as_user("admin")
    for url in ("/admin/accounts/999999", "/admin/accounts/999999/password", "/admin/accounts/99999999999999"):
        assert admin.get(url).status_code == 404, url


def test_every_account_form_needs_its_csrf_token(city, as_user):
    admin = as_user("admin")
    for url, data in [("/admin/departments", {"name": "华城市新部门", "kind": "drafting"}),
                      ("/admin/accounts/new", new_account(city))]:
        response = admin._request("post", url, data=data)
        assert response.status_code == 400, url
    assert not audit_events("department_created") and not audit_events("account_created")


def test_the_account_pages_follow_the_language(city, as_user):
    admin = as_user("admin")
    chinese = text_of(admin.get("/admin/accounts/new"))
    assert "显示名称" in chinese and "角色" in chinese and "创建账号" in chinese
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    english = text_of(admin.get("/admin/accounts/new"))
    assert "Name shown to colleagues" in english and "Create the account" in english
    assert "department head" in english and "Drafting department" in text_of(admin.get("/admin/departments"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.fixed_dictionaries({}, optional={
    name: st.one_of(st.text(max_size=30), st.sampled_from(["", "1", "4", "admin", "drafter", "x" * 200]))
    for name in ("username", "display_name", "email", "department", "roles", "password", "password_confirm")}))
def test_the_new_account_form_refuses_clearly_or_creates(city, as_user, data):
    before = db.session.scalar(select(db.func.count(User.id)))
    response = as_user("admin").post("/admin/accounts/new", data)
    after = db.session.scalar(select(db.func.count(User.id)))
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert after == before
        html = text_of(response)
        assert any("\x00" in value for value in data.values()) or 'aria-invalid="true"' in html or 'role="alert"' in html
    else:
        assert after == before + 1

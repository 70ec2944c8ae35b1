"""Staff sign-in and sessions (OWASP ASVS level 2): where a sign-in may lead, throttled guessing, equal work
for unknown accounts, sessions the server ends, the password policy, cookies and HSTS."""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, update

from consultation import passwords, security
from consultation.config import DefaultConfig
from consultation.demo import seed_accounts
from consultation.extensions import db
from consultation.models import AuditEvent, User
from consultation.models.accounts import SignInSession
from consultation.services import sign_in

from .conftest import PASSWORD, Browser

NEW_PASSWORD = "plum river lantern 42"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def browser_from(app: Flask, address: str = "127.0.0.1") -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def english(browser: Browser) -> Browser:
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    return browser


def sessions_of(user: User) -> list[SignInSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(SignInSession).where(SignInSession.user_id == user.id)))


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def token_of(app: Flask, browser: Browser) -> str:
    """The session token the browser's (signed, readable) cookie carries."""
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)["_user_id"]


@contextmanager
def sign_in_limits(app: Flask, *, account: str = "10000 per minute", address: str = "10000 per minute"):
    """Lower the sign-in limits, with counts of their own (a fresh key prefix), for one test."""
    names = ("SIGN_IN_ACCOUNT_LIMIT", "SIGN_IN_ADDRESS_LIMIT", "RATELIMIT_KEY_PREFIX")
    before = {name: app.config[name] for name in names}
    app.config.update(SIGN_IN_ACCOUNT_LIMIT=account, SIGN_IN_ADDRESS_LIMIT=address,
                      RATELIMIT_KEY_PREFIX=f"test-sign-in-{uuid.uuid4().hex[:8]}")
    try:
        yield
    finally:
        app.config.update(before)


def attempt(browser: Browser, username: str, password: str, **kw):
    return browser.post("/auth/login", {"username": username, "password": password}, **kw)


# 6. Where a sign-in may lead


def _as_a_browser_reads(location: str) -> str:
    """What Chromium does to a Location before resolving it: drop tabs and line breaks, backslash as slash."""
    return location.replace("\t", "").replace("\n", "").replace("\r", "").strip().replace("\\", "/")


# Raw query strings as an attacker would send them (percent-encoded where a browser would encode).
OPEN_REDIRECTS = [
    "/%09/evil.example/phish", "/%0A/evil.example", "/%0D%0A/evil.example", "/%09%09/evil.example",
    "//evil.example", "///evil.example", "%2F%2Fevil.example", "/%2Fevil.example",
    "/%5Cevil.example", "%5C%5Cevil.example", "%5C/evil.example", "/%5C/evil.example", "/%09%5Cevil.example",
    "%20//evil.example", "%00//evil.example", "%0B//evil.example", "/%0B/evil.example", "%09//evil.example",
    "https://evil.example", "https:evil.example", "http:/evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "%20javascript:alert(1)", "data:text/html,phish",
    "%E3%80%80//evil.example", "%EF%BC%8F%EF%BC%8Fevil.example", "evil.example", "@evil.example",
    "//evil.example%23/staff/", "/%09/%09/evil.example",
]


@pytest.mark.parametrize("raw", OPEN_REDIRECTS)
def test_a_sign_in_never_leads_to_another_site(city, browser, raw):
    response = browser.post(f"/auth/login?next={raw}", {"username": "drafter", "password": PASSWORD})
    if "%00" in raw:  # the site refuses a NUL anywhere in a request
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302
    location = response.headers["Location"]
    resolved = urlsplit(urljoin("http://localhost/auth/login", _as_a_browser_reads(location)))
    assert (resolved.scheme, resolved.netloc) == ("http", "localhost"), location
    assert location == "/staff/", location  # nothing else on the list is a path of this site


@pytest.mark.parametrize("raw", ["/staff/", "/admin/accounts?page=2", "/staff/documents/1#comments",
                                 "/search?q=%E5%81%9C%E8%BD%A6", "/%E2%80%AE/staff"])
def test_a_sign_in_goes_on_to_the_page_asked_for_on_this_site(city, browser, raw):
    response = browser.post(f"/auth/login?next={raw}", {"username": "drafter", "password": PASSWORD})
    assert response.status_code == 302
    assert urlsplit(urljoin("http://localhost/", response.headers["Location"])).netloc == "localhost"
    assert response.headers["Location"].split("#")[0].startswith(raw.split("#")[0].split("%E2")[0])


# 7. Throttled guessing


def test_wrong_passwords_lock_the_account_for_that_address_only_for_a_while(app, city):
    with sign_in_limits(app, account="3 per 15 minutes"):
        attacker = english(browser_from(app, "203.0.113.9"))
        for _ in range(3):
            assert attempt(attacker, "drafter", "not-the-password").status_code == 200
        refused = attempt(attacker, "drafter", PASSWORD)  # the right password too, once locked
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
        assert "Too many wrong passwords for this account" in text_of(refused)
        assert attacker.get("/staff/").status_code == 302 and not sessions_of(city["drafter"])
        # Whatever case the username is typed in, it is the same account.
        assert attempt(attacker, "DRAFTER", PASSWORD).status_code == 429
        # The lockout is recorded once, without anything typed.
        [event] = audit_events("sign_in_locked")
        assert json.loads(event.payload) == {"user_id": city["drafter"].id, "username": "drafter", "minutes": 15}
        assert "not-the-password" not in event.payload
        # The drafter at the office, another address, signs in all the same; other accounts stay open.
        assert attempt(browser_from(app, "198.51.100.20"), "drafter", PASSWORD).status_code == 302
        assert attempt(attacker, "head", PASSWORD).status_code == 302


def test_unknown_usernames_are_throttled_like_real_ones(app, city):
    with sign_in_limits(app, account="2 per 15 minutes"):
        attacker = browser_from(app, "203.0.113.10")
        assert [attempt(attacker, "nobody", "guess-one").status_code for _ in range(3)] == [200, 200, 429]
        [event] = audit_events("sign_in_locked")
        assert json.loads(event.payload)["user_id"] is None and "nobody" not in event.payload


def test_a_right_password_does_not_clear_the_failures_counted_for_the_address(app, city):
    with sign_in_limits(app, address="4 per 15 minutes"):
        attacker = browser_from(app, "203.0.113.11")
        for username in ("head", "justice", "govoffice"):
            assert attempt(attacker, username, "spray-2026-spring").status_code == 200
        # Signing in to an account of one's own gives back that attempt's place, nothing more.
        assert attempt(attacker, "openness", PASSWORD).status_code == 302
        assert attempt(attacker, "drafter2", "spray-2026-spring").status_code == 200
        refused = attempt(attacker, "drafter", PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in text_of(english(attacker).post(
            "/auth/login", {"username": "drafter", "password": PASSWORD}))
        # Another address is not concerned.
        assert attempt(browser_from(app, "198.51.100.21"), "drafter", PASSWORD).status_code == 302


def test_guesses_sent_together_get_no_more_tries_than_the_limit(app, city):
    with sign_in_limits(app, account="3 per 15 minutes"):
        browsers = [browser_from(app, "203.0.113.12") for _ in range(8)]
        for b in browsers:
            b.get("/auth/login")
        start, statuses = threading.Barrier(len(browsers)), []

        def guess(b: Browser, n: int) -> None:
            start.wait()
            statuses.append(b._request("post", "/auth/login", data={
                "username": "drafter", "password": f"guess-{n}", "csrf_token": b._token}).status_code)

        threads = [threading.Thread(target=guess, args=(b, n)) for n, b in enumerate(browsers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(statuses) == [200] * 3 + [429] * 5


def test_a_bad_limit_setting_stops_the_start(app):
    from consultation import sign_in_throttle

    bad = Flask("bad")
    bad.config.update(SIGN_IN_ACCOUNT_LIMIT="five a minute", SIGN_IN_ADDRESS_LIMIT="30 per 15 minutes")
    with pytest.raises(ValueError, match="SIGN_IN_ACCOUNT_LIMIT"):
        sign_in_throttle.check_settings(bad)


# 8. The same work whether the account exists or not


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """The hashes every password check of a sign-in compares with (the real check runs)."""
    checked: list[str] = []
    real = sign_in.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(sign_in, "check_password_hash", spy)
    return checked


def test_an_unknown_or_inactive_account_costs_one_hash_check_of_the_same_method(app, city, hash_checks):
    drafter = city["drafter"]
    method = drafter.password_hash.split("$")[0]
    attempt(Browser(app.test_client()), "drafter", "wrong-password-1")
    attempt(Browser(app.test_client()), "no.such.person", "wrong-password-1")
    drafter.active = False
    db.session.commit()
    assert attempt(Browser(app.test_client()), "drafter", PASSWORD).status_code == 200  # refused, same message
    assert len(hash_checks) == 3
    assert hash_checks[0] == drafter.password_hash
    assert hash_checks[1] == hash_checks[2] == sign_in._dummy_hash(app.config["PASSWORD_HASH_METHOD"])
    assert {h.split("$")[0] for h in hash_checks} == {method}


def test_the_dummy_hash_follows_the_production_method(app):
    assert sign_in._dummy_hash("scrypt").startswith("scrypt:")
    assert sign_in._dummy_hash("scrypt") == sign_in._dummy_hash("scrypt")  # made once


# 9. Sessions the server ends


def test_a_sign_in_opens_a_session_row_holding_only_the_tokens_hash(app, city, browser):
    browser.login("drafter")
    token = token_of(app, browser)
    [row] = sessions_of(city["drafter"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert len(token) >= 40
    [event] = audit_events("sign_in")
    assert event.actor_id == city["drafter"].id


def test_a_cookie_copied_before_sign_out_no_longer_opens_anything(app, city, browser):
    browser.login("drafter")
    thief = Browser(app.test_client())
    thief.client.set_cookie(app.config["SESSION_COOKIE_NAME"],
                            browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    assert thief.get("/staff/").status_code == 200  # the copy works while the session lives
    response = browser.post("/auth/logout", {}, form_page="/staff/")
    assert response.status_code == 302
    assert thief.get("/staff/").status_code == 302 and browser.get("/staff/").status_code == 302
    assert not sessions_of(city["drafter"])
    assert [e.actor_id for e in audit_events("sign_out")] == [city["drafter"].id]


def test_signing_in_again_gives_a_new_token_and_ends_the_earlier_session(app, city, browser):
    browser.login("drafter")
    first = token_of(app, browser)
    browser.login("drafter")
    second = token_of(app, browser)
    assert first != second
    [row] = sessions_of(city["drafter"])
    assert row.token_hash == hashlib.sha256(second.encode()).hexdigest()


def test_two_browsers_have_two_sessions_and_each_ends_alone(app, city):
    office, home = Browser(app.test_client()).login("drafter"), Browser(app.test_client()).login("drafter")
    assert len(sessions_of(city["drafter"])) == 2
    office.post("/auth/logout", {}, form_page="/staff/")
    assert office.get("/staff/").status_code == 302 and home.get("/staff/").status_code == 200


def test_the_default_session_limits_suit_government_staff():
    assert (DefaultConfig.SESSION_IDLE_MINUTES, DefaultConfig.SESSION_MAX_HOURS) == (30, 12)


@pytest.mark.parametrize(("column", "age", "settings"), [
    ("last_seen_at", timedelta(minutes=31), {"SESSION_IDLE_MINUTES": DefaultConfig.SESSION_IDLE_MINUTES}),
    ("last_seen_at", timedelta(minutes=6), {"SESSION_IDLE_MINUTES": 5}),
    ("created_at", timedelta(hours=12, minutes=1), {"SESSION_MAX_HOURS": DefaultConfig.SESSION_MAX_HOURS}),
    ("created_at", timedelta(hours=2, minutes=1), {"SESSION_MAX_HOURS": 2}),
])
def test_a_session_ends_when_idle_or_too_old(app, city, browser, column, age, settings):
    before = {name: app.config[name] for name in settings}
    app.config.update(settings)
    try:
        browser.login("drafter")
        assert browser.get("/staff/").status_code == 200
        row = sessions_of(city["drafter"])[0]
        db.session.execute(update(SignInSession).where(SignInSession.id == row.id)
                           .values({column: getattr(row, column) - age}))
        db.session.commit()
        response = browser.get("/staff/")
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        assert not sessions_of(city["drafter"])
    finally:
        app.config.update(before)


def test_a_live_session_is_marked_seen_at_most_once_a_minute(app, city, browser):
    browser.login("drafter")
    [row] = sessions_of(city["drafter"])
    signed_in_at = row.last_seen_at
    for _ in range(3):
        assert browser.get("/staff/").status_code == 200
    assert sessions_of(city["drafter"])[0].last_seen_at == signed_in_at  # no write for these
    row = sessions_of(city["drafter"])[0]
    row.last_seen_at = row.created_at = signed_in_at - timedelta(minutes=2)
    db.session.commit()
    assert browser.get("/staff/").status_code == 200
    assert sessions_of(city["drafter"])[0].last_seen_at > signed_in_at - timedelta(minutes=1)


def test_deactivation_deletes_the_accounts_sessions(app, city, as_user):
    drafter = as_user("drafter")
    assert sessions_of(city["drafter"])
    admin = as_user("admin")
    user = city["drafter"]
    data = {"display_name": user.display_name, "email": "", "department": str(user.department_id),
            "roles": ["drafter"]}
    assert admin.post(f"/admin/accounts/{user.id}", data).status_code == 302
    assert not sessions_of(city["drafter"]) and drafter.get("/staff/").status_code == 302


def test_an_administrators_reset_deletes_the_accounts_sessions(app, city, as_user):
    head = as_user("head")
    as_user("head")
    assert len(sessions_of(city["head"])) == 2
    admin = as_user("admin")
    assert admin.post(f"/admin/accounts/{city['head'].id}/password",
                      {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 302
    assert not sessions_of(city["head"]) and head.get("/staff/").status_code == 302
    assert len(sessions_of(city["admin"])) == 1


def test_changing_ones_password_ends_the_other_sessions_and_renews_this_one(app, city, as_user):
    mine, other = as_user("drafter"), as_user("drafter")
    old_token = token_of(app, mine)
    english(mine)
    page = text_of(mine.get("/auth/password"))
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page
    wrong = mine.post("/auth/password", {"current_password": "not-it-at-all", "password": NEW_PASSWORD,
                                         "password_confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and 'id="current_password-error-1"' in text_of(wrong)
    weak = mine.post("/auth/password", {"current_password": PASSWORD, "password": "password1234",
                                        "password_confirm": "password1234"})
    assert weak.status_code == 400 and "common or leaked" in text_of(weak)
    same = mine.post("/auth/password", {"current_password": PASSWORD, "password": PASSWORD,
                                        "password_confirm": PASSWORD})
    assert same.status_code == 400 and 'id="password-error-1"' in text_of(same)
    assert len(sessions_of(city["drafter"])) == 2 and not audit_events("password_changed")

    response = mine.post("/auth/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                            "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert mine.get("/staff/").status_code == 200 and other.get("/staff/").status_code == 302
    [row] = sessions_of(city["drafter"])
    assert token_of(app, mine) != old_token
    assert row.token_hash == hashlib.sha256(token_of(app, mine).encode()).hexdigest()
    [event] = audit_events("password_changed")
    assert json.loads(event.payload) == {"user_id": city["drafter"].id, "username": "drafter"}
    assert NEW_PASSWORD not in event.payload
    assert attempt(Browser(app.test_client()), "drafter", PASSWORD).status_code == 200
    Browser(app.test_client()).login("drafter", NEW_PASSWORD)


def test_the_current_password_check_is_throttled_too(app, city, as_user):
    with sign_in_limits(app, account="2 per 15 minutes"):
        mine = english(as_user("drafter"))
        data = {"current_password": "guess-guess-1", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        assert mine.post("/auth/password", data).status_code == 400
        assert mine.post("/auth/password", data).status_code == 400
        refused = mine.post("/auth/password", {**data, "current_password": PASSWORD})
        assert refused.status_code == 400 and "Too many wrong passwords" in text_of(refused)
        db.session.expire_all()
        assert city["drafter"].check_password(PASSWORD)


def test_the_password_page_needs_a_sign_in(browser):
    response = browser.get("/auth/password")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# 10. The password policy


@pytest.mark.parametrize(("password", "why"), [
    ("short-pw-11", "12 to 128 characters"),
    ("x" * 129, "12 to 128 characters"),
    ("aaaaaaaaaaaa", "Repeated"),
    ("abcdefghijkl1", "Sequences"),
    ("password1234", "common or leaked"),
    ("qwertyuiop123", "common or leaked"),
    ("P@ssw0rd2024", "common or leaked"),
    ("woaini1314520", "common or leaked"),
    ("Qq5201314abc", "common or leaked"),
    ("zhang.san-notes-2026", "username, the name or the email"),
    ("ZHANG.SAN is my name", "username, the name or the email"),
    ("我是张三，今天天气真不错呀！", "username, the name or the email"),
    ("zhangsan-mail-box-9", "username, the name or the email"),  # the email's local part
])
def test_weak_or_personal_passwords_are_refused_with_the_reason(app, password, why):
    with app.test_request_context(), force_locale("en"):
        reason = passwords.refusal(password, personal=["zhang.san", "张三（住建局）", "zhangsan@example.gov.cn"])
    assert reason and why in reason, reason


@pytest.mark.parametrize("password", [
    "plum river lantern 42", "春眠不觉晓 处处闻啼鸟 2026", "Tr0ub4dor&3xyz-kettle", "x7#Qm!2pLz9@",
    "a quiet harbour at dawn, with seven grey gulls and one red boat " * 2,  # 128 characters: allowed
    "😀 emoji are fine 🐼 too 2026",
])
def test_long_phrases_and_any_characters_are_allowed(app, password):
    assert len(password) <= 128
    assert passwords.refusal(password, personal=["zhang.san", "张三（住建局）"]) is None


def test_the_administrator_cannot_give_an_account_a_weak_password(app, city, as_user):
    admin = english(as_user("admin"))
    data = {"username": "zhang.san", "display_name": "张三（住建局）", "email": "", "roles": ["drafter"],
            "department": str(city["drafter"].department_id)}
    for weak in ("aaaaaaaaaaaa", "woaini1314520", "zhang.san.2026!"):
        response = admin.post("/admin/accounts/new", {**data, "password": weak, "password_confirm": weak})
        assert response.status_code == 400 and 'id="password-error-1"' in text_of(response), weak
    assert db.session.scalar(select(User.id).where(User.username == "zhang.san")) is None
    response = admin.post(f"/admin/accounts/{city['head'].id}/password",
                          {"password": "password1234", "password_confirm": "password1234"})
    assert response.status_code == 400 and "common or leaked" in text_of(response)
    # A passphrase with spaces and Chinese characters is taken, and signs in as typed.
    phrase = "春眠不觉晓 处处闻啼鸟 2026"
    assert admin.post("/admin/accounts/new", {**data, "password": phrase, "password_confirm": phrase}) \
        .status_code == 302
    Browser(app.test_client()).login("zhang.san", phrase)


def test_demo_accounts_keep_their_short_password(app):
    seed_accounts("demo1234")  # the demo and the tests' seeding set passwords without the policy
    db.session.commit()
    Browser(app.test_client()).login("admin", "demo1234")


# 11. Cookies and HSTS


def test_the_session_cookie_is_http_only_and_same_site(app, city, browser):
    response = attempt(browser, "drafter", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


@pytest.mark.parametrize(("settings", "session_secure", "remember_secure", "name"), [
    ({}, False, False, "session"),
    ({"SITE_URL": "https://zqyj.huacheng.gov.cn"}, True, True, "__Host-session"),
    ({"PREFERRED_URL_SCHEME": "https"}, True, True, "__Host-session"),
    ({"SITE_URL": "https://zqyj.huacheng.gov.cn", "SESSION_COOKIE_SECURE": False}, False, True, "session"),
    ({"SESSION_COOKIE_SECURE": True, "APPLICATION_ROOT": "/zqyj"}, True, False, "session"),  # __Host- needs Path=/
])
def test_cookies_are_secure_when_the_site_is_behind_tls(settings, session_secure, remember_secure, name):
    from consultation.config import DefaultConfig

    site = Flask("site")
    site.config.from_object(DefaultConfig)
    site.config.update(settings)
    security._cookies(site)
    assert site.config["SESSION_COOKIE_SECURE"] is session_secure
    assert site.config["REMEMBER_COOKIE_SECURE"] is remember_secure
    assert site.config["SESSION_COOKIE_NAME"] == name


def test_hsts_is_sent_on_https_answers_only(app, browser):
    assert "Strict-Transport-Security" not in browser.get("/").headers
    secure = app.test_client().get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == f"max-age={365 * 24 * 3600}"


def test_while_redis_is_away_each_process_still_counts_failures(app, city):
    from types import SimpleNamespace

    from limits.storage import storage_from_string

    with socket.socket() as probe:  # a port where nothing listens: Redis is away
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    real = app.extensions["rate_limiter"]
    app.extensions["rate_limiter"] = SimpleNamespace(storage=storage_from_string(
        f"redis://127.0.0.1:{port}", socket_connect_timeout=1))
    try:
        with sign_in_limits(app, account="2 per 15 minutes"):
            attacker = browser_from(app, "203.0.113.13")
            assert [attempt(attacker, "drafter", "guess-guess-9").status_code for _ in range(3)] == [200, 200, 429]
            assert attempt(browser_from(app, "198.51.100.22"), "drafter", PASSWORD).status_code == 302
    finally:
        app.extensions["rate_limiter"] = real


def test_one_sees_ones_sessions_and_ends_the_others_after_giving_the_password(app, city, as_user):
    here, elsewhere = as_user("drafter"), as_user("drafter")
    english(here)
    page = text_of(here.get("/auth/sessions"))
    assert page.count("<tr><td>") == 2 and page.count("this session") == 1
    wrong = here.post("/auth/sessions", {"password": "not-my-password"})
    assert wrong.status_code == 400 and 'id="password-error-1"' in text_of(wrong)
    assert len(sessions_of(city["drafter"])) == 2 and not audit_events("sessions_ended")
    response = here.post("/auth/sessions", {"password": PASSWORD})
    assert response.status_code == 302
    assert here.get("/staff/").status_code == 200 and elsewhere.get("/staff/").status_code == 302
    [row] = sessions_of(city["drafter"])
    assert row.token_hash == sign_in.token_hash(token_of(app, here))
    [event] = audit_events("sessions_ended")
    assert json.loads(event.payload) == {"user_id": city["drafter"].id, "username": "drafter", "ended": 1}


def test_an_administrator_ends_every_session_of_an_account(app, city, as_user):
    drafter, admin = as_user("drafter"), as_user("admin")
    page = text_of(admin.get(f"/admin/accounts/{city['drafter'].id}"))
    assert 'id="end-sessions"' in page
    response = admin.post(f"/admin/accounts/{city['drafter'].id}/sessions", {},
                          form_page=f"/admin/accounts/{city['drafter'].id}")
    assert response.status_code == 302
    assert drafter.get("/staff/").status_code == 302 and not sessions_of(city["drafter"])
    [event] = audit_events("sessions_ended")
    assert event.actor_id == city["admin"].id and json.loads(event.payload)["ended"] == 1
    assert 'id="end-sessions"' not in text_of(admin.get(f"/admin/accounts/{city['drafter'].id}"))
    # Without the form's token nothing ends.
    as_user("drafter")
    assert admin._request("post", f"/admin/accounts/{city['drafter'].id}/sessions").status_code == 400
    assert sessions_of(city["drafter"])


def test_the_console_sets_a_password_under_the_same_policy_and_ends_the_sessions(app, city, as_user):
    drafter = as_user("drafter")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["accounts", "set-password", "drafter"], input="password1234\npassword1234\n")
    assert refused.exit_code == 1 and "Error" in refused.output
    assert sessions_of(city["drafter"]) and not audit_events("password_reset")
    done = runner.invoke(args=["accounts", "set-password", "DRAFTER", "--password", NEW_PASSWORD])
    assert done.exit_code == 0, done.output
    assert not sessions_of(city["drafter"]) and drafter.get("/staff/").status_code == 302
    [event] = audit_events("password_reset")
    assert event.actor_id is None and json.loads(event.payload)["username"] == "drafter"
    Browser(app.test_client()).login("drafter", NEW_PASSWORD)
    assert runner.invoke(args=["accounts", "set-password", "nobody", "--password", NEW_PASSWORD]).exit_code == 1


def test_the_console_creates_the_first_administrator(app):
    runner = app.test_cli_runner()
    args = ["accounts", "create-admin", "wang.admin", "--name", "王管理员", "--department", "华城市人民政府办公室"]
    weak = runner.invoke(args=[*args, "--password", "wang.admin.2026"])
    assert weak.exit_code == 1 and db.session.scalar(select(User.id)) is None
    done = runner.invoke(args=args, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert done.exit_code == 0, done.output
    user = db.session.scalars(select(User)).one()
    assert user.roles == {"admin"} and user.department.kind == "gov_office"
    assert {e.action for e in db.session.scalars(select(AuditEvent))} == {"department_created", "account_created"}
    Browser(app.test_client()).login("wang.admin", NEW_PASSWORD)

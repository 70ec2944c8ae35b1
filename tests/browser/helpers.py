"""Small helpers for the browser journeys: the UI's own Chinese words, signing in, the demo's documents."""
from __future__ import annotations

import re
from functools import cache

from babel.support import Translations
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Document, User
from consultation.workflow import engine

from ..conftest import PASSWORD, ROOT
from .conftest import assert_accessible


@cache
def _catalogue() -> Translations:
    return Translations.load(str(ROOT / "consultation" / "translations"), ["zh_Hans_CN"])


def zh(msgid: str, **values) -> str:
    """The Simplified Chinese the UI shows for an English message id, as the catalogue has it."""
    text = _catalogue().gettext(msgid)
    assert text != msgid or not re.search(r"[A-Za-z]", msgid), f"no Chinese translation for {msgid!r}"
    return text % values if values else text


def zh_plural(singular: str, plural: str, n: int, **values) -> str:
    """The Simplified Chinese of a counted message (ngettext), as the catalogue has it."""
    text = _catalogue().ngettext(singular, plural, n)
    assert text not in (singular, plural), f"no Chinese translation for {singular!r}"
    return text % {"num": n, **values}


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/auth/login")
    page.get_by_label(zh("Username")).fill(username)
    page.get_by_label(zh("Password")).fill(password)
    page.get_by_role("button", name=zh("Sign in")).click()
    expect(page.get_by_role("button", name=zh("Sign out"))).to_be_attached()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=zh("Sign out")).click()
    expect(page.get_by_role("link", name=zh("Staff sign-in"))).to_be_attached()


def document_titled(title: str) -> Document:
    db.session.rollback()  # see what the server committed
    return db.session.scalars(db.select(Document).where(Document.title == title)).one()


def city() -> dict[str, User]:
    """The demo's accounts by username, for setting up a starting state through the services."""
    return {u.username: u for u in db.session.scalars(db.select(User))}


def check_page(page: Page, axe) -> None:
    """Every page a journey visits: no serious accessibility violation, and nothing wider than the window (on
    a phone the page itself must not scroll sideways; wide tables scroll inside their own box)."""
    assert_accessible(axe, page)
    # clientWidth, not innerWidth: a phone zooms out to show a page that is too wide, and innerWidth grows.
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url}: the page is {overflow}px wider than the window"


def current_stage(page: Page):
    """The procedure's current stage as the staff document page marks it."""
    return page.get_by_role("list", name=zh("Procedure")).locator("[aria-current=step]")


def stage_title(name: str, procedure: str = "normative_document") -> str:
    return engine.procedures()[procedure].stages[name].title


def step_title(name: str, procedure: str = "normative_document") -> str:
    """A transition's name as the page shows it: its Chinese title from the procedure file."""
    return engine.procedures()[procedure].transitions[name].title

"""Small helpers for the browser journeys: the UI's own Chinese words, signing in, the demo's documents."""
from __future__ import annotations

import re
from functools import cache

from babel.support import Translations
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Document

from ..conftest import PASSWORD, ROOT


@cache
def _catalogue() -> Translations:
    return Translations.load(str(ROOT / "consultation" / "translations"), ["zh_Hans_CN"])


def zh(msgid: str, **values) -> str:
    """The Simplified Chinese the UI shows for an English message id, as the catalogue has it."""
    text = _catalogue().gettext(msgid)
    assert text != msgid or not re.search(r"[A-Za-z]", msgid), f"no Chinese translation for {msgid!r}"
    return text % values if values else text


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

"""Simplified Chinese first and complete; English second."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parent.parent / "consultation" / "translations"


def test_every_interface_string_has_a_chinese_translation():
    with (CATALOGS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    with (CATALOGS / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    missing = [m.id for m in template if m.id and not (catalog.get(m.id) and catalog.get(m.id).string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_the_catalog_template_is_up_to_date_with_the_code(tmp_path):
    from babel.messages.extract import extract_from_dir

    root = CATALOGS.parent.parent
    method_map = [("consultation/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(root), method_map, keywords=keywords)
             if not str(msg[0]).startswith(".venv")}
    with (CATALOGS / "messages.pot").open("rb") as fh:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert found <= known, f"run pybabel extract/update: {sorted(found - known)[:10]}"


def test_pages_are_in_chinese_by_default_and_in_english_on_request(city, browser):
    home = browser.get("/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in home and "Drafts open for public comment" not in home
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    english = browser.get("/").get_data(as_text=True)
    assert 'lang="en"' in english and "Drafts open for public comment" in english


def test_the_language_switch_never_redirects_to_another_site(browser):
    response = browser.get("/lang/en", headers={"Referer": "https://evil.example/phish"})
    assert response.headers["Location"] in ("/", "http://localhost/")

"""Languages: Simplified Chinese first, English second; times shown in Asia/Shanghai."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, request, session
from flask_babel import get_locale
from markupsafe import Markup

from .extensions import babel


def select_locale() -> str:
    languages = ("zh_Hans_CN", "en")
    chosen = session.get("lang") if request else None
    if chosen in languages:
        return chosen
    return "zh_Hans_CN"


def bracketed(text: object) -> Markup:
    """A parenthetical in the page's language: full-width （…） in Chinese, " (…)" in English."""
    return Markup("（%s）" if _chinese() else " (%s)") % (text,)


# Chinese sentences follow each other without a space; English ones with one.
_MARKS = {"comma": ("，", ", "), "semicolon": ("；", "; "), "enumeration": ("、", ", "), "sentence": ("", " ")}


def listed(*parts: object, mark: str = "comma") -> Markup:
    """Parts joined by the page language's mark: ，/；/、 in Chinese, ", " or "; " in English."""
    chinese, english = _MARKS[mark]
    return Markup(chinese if _chinese() else english).join(parts)


def separator(mark: str = "comma") -> str:
    """The page language's separator alone, for a list built in a template loop."""
    chinese, english = _MARKS[mark]
    return chinese if _chinese() else english


def labelled(label: object, value: object) -> Markup:
    """A label and its value: "label：value" in Chinese, "label: value" in English."""
    return Markup("%s：%s" if _chinese() else "%s: %s") % (label, value)


def full_stop() -> str:
    """The sentence's end: 。 in Chinese, . in English."""
    return "。" if _chinese() else "."


def _chinese() -> bool:
    return str(get_locale()).startswith("zh")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime(fmt)


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo("Asia/Shanghai")).date()
    if str(get_locale()).startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date

    @app.context_processor
    def _language() -> dict:
        return {"current_locale": str(get_locale())}


def compile_catalogs(directory: str) -> int:
    """Compile every messages.po under ``directory`` to .mo when it is newer; return how many."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = 0
    for po_path in Path(directory).glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        compiled += 1
    return compiled

"""Split a draft into its articles (第一条 …), grouped by chapter (第一章 …) where present."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from docx import Document as DocxFile
from flask_babel import gettext as _

from .errors import InvalidInput

_NUM = r"[一二三四五六七八九十百零〇两\d]+"
# A heading is the label followed by white space or nothing, so that a sentence such as
# "第三条规定的…" inside an article is not taken for a new article.
_CHAPTER = re.compile(rf"^(第{_NUM}章)(?:[\s\u3000]+(.*))?$")
_ARTICLE = re.compile(rf"^(第{_NUM}条)(?:[\s\u3000]+(.*))?$")


@dataclass(frozen=True)
class ParsedArticle:
    seq: int
    label: str
    chapter: str | None
    text: str


def parse_articles(body: str) -> list[ParsedArticle]:
    """Return the articles in order; text before the first article (the title) is ignored."""
    articles: list[ParsedArticle] = []
    chapter: str | None = None
    label: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if label is not None:
            articles.append(ParsedArticle(len(articles) + 1, label, chapter, "\n".join(lines).strip()))

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := _CHAPTER.match(line):
            flush()
            label, lines = None, []
            chapter = f"{m.group(1)} {m.group(2) or ''}".strip()
        elif m := _ARTICLE.match(line):
            flush()
            label, lines = m.group(1), [m.group(2)] if m.group(2) else []
        elif label is not None:
            lines.append(line)
    flush()
    return articles


def docx_to_text(data: bytes) -> str:
    """Read the paragraphs of a .docx upload as plain text."""
    try:
        docx = DocxFile(io.BytesIO(data))
    except Exception:  # python-docx raises several types for a file that is not a .docx
        raise InvalidInput(_("The file could not be read as a Word document (.docx).")) from None
    return "\n".join(p.text for p in docx.paragraphs)

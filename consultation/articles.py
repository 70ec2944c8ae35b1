"""Split a draft into its articles (第一条 …), grouped by chapter (第一章 …) where present."""
from __future__ import annotations

import io
import re
import zipfile
import zlib
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


# Limits on what a .docx may unpack to: a draft of a hundred pages is well under a megabyte of XML. They are
# checked on the sizes the archive declares, then on what really comes out (a declared size can lie), before
# python-docx unpacks anything.
DOCX_MAX_PARTS = 1000
DOCX_MAX_UNPACKED = 64 * 1024 * 1024  # every part, pictures included
DOCX_MAX_XML = 16 * 1024 * 1024  # the XML that python-docx parses into a tree
DOCX_MAX_RATIO = 200  # Word's XML compresses 10 to 60 to 1; a bomb of blanks about 1,000 to 1
_RATIO_FROM = 1024 * 1024  # a small part may compress better than that without harm
_CHUNK = 1024 * 1024
# OPC (ISO/IEC 29500-2) forbids DTDs in a package's XML: refusing them rules out entity expansion.
_DTD = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
               NotImplementedError, ValueError)


def _unreadable() -> InvalidInput:
    return InvalidInput(_("The file could not be read as a Word document (.docx)."))


def _too_large() -> InvalidInput:
    return InvalidInput(_(
        "This Word file was refused: unpacked, it would exceed the limits for a draft (%(mb)d MB, %(parts)d "
        "parts). Save it again in Word, or paste the text.", mb=DOCX_MAX_UNPACKED // (1024 * 1024),
        parts=DOCX_MAX_PARTS))


def check_docx_archive(data: bytes) -> None:
    """Refuse a .docx that would unpack to more than a draft needs (a zip bomb) or whose XML has a DTD.

    Only stored and deflated parts are accepted (OPC allows no other method; bzip2 and LZMA are not read in
    bounded steps). Every part is unpacked once, a chunk at a time, counting, and abandoned at the limit.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > DOCX_MAX_PARTS or sum(p.file_size for p in parts) > DOCX_MAX_UNPACKED:
                raise _too_large()
            for part in parts:
                if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _unreadable()
                if part.file_size > _RATIO_FROM and part.file_size > DOCX_MAX_RATIO * part.compress_size:
                    raise _too_large()
            unpacked = xml = 0
            for part in parts:
                is_xml = part.filename.endswith((".xml", ".rels"))
                tail = b""
                with archive.open(part) as fh:
                    while chunk := fh.read(_CHUNK):
                        unpacked += len(chunk)
                        xml += len(chunk) if is_xml else 0
                        if unpacked > DOCX_MAX_UNPACKED or xml > DOCX_MAX_XML:
                            raise _too_large()
                        if is_xml and any(dtd in tail + chunk[:32] or dtd in chunk for dtd in _DTD):
                            raise _unreadable()
                        tail = chunk[-32:]
    except _UNREADABLE:
        raise _unreadable() from None


def docx_to_text(data: bytes) -> str:
    """Read the paragraphs of a .docx upload as plain text, within the limits of ``check_docx_archive``."""
    check_docx_archive(data)
    try:
        docx = DocxFile(io.BytesIO(data))
    except Exception:  # python-docx raises several types for a file that is not a .docx
        raise _unreadable() from None
    return "\n".join(p.text for p in docx.paragraphs)

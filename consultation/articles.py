"""Split a draft into its articles (第一条 …), grouped by chapter (第一章 …) where present."""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from flask_babel import gettext as _
from lxml import etree

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


# The most text a draft may have, pasted or uploaded (forms.DocumentForm.body has the same limit).
DRAFT_MAX_CHARS = 500_000
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _too_long() -> InvalidInput:
    return InvalidInput(_("The text of this Word file is longer than %(n)d characters, the most a draft may have.",
                          n=DRAFT_MAX_CHARS))


def _main_part(archive: zipfile.ZipFile) -> str:
    """The main document part named by the package's relationships (word/document.xml in practice)."""
    try:
        rels = etree.fromstring(archive.read("_rels/.rels"), parser=_parser())
    except (KeyError, etree.XMLSyntaxError):
        return "word/document.xml"
    for rel in rels:
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return rel.get("Target", "word/document.xml").lstrip("/")
    return "word/document.xml"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def docx_to_text(data: bytes) -> str:
    """Read the paragraphs of a .docx upload as plain text, within the limits of ``check_docx_archive``.

    The main part is read as a stream (lxml iterparse): each paragraph of the body is taken, then dropped, so
    that memory stays flat whatever the file's size, and the reading stops at DRAFT_MAX_CHARS. Paragraphs in
    tables, headers and footnotes are not part of the draft's text (as with python-docx's ``paragraphs``).
    """
    check_docx_archive(data)
    paragraphs: list[str] = []
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(_main_part(archive)) as part:
            for _event, element in etree.iterparse(part, events=("end",), tag=f"{_W}p", resolve_entities=False,
                                                   no_network=True, huge_tree=False, load_dtd=False):
                parent = element.getparent()
                if parent is not None and parent.tag == f"{_W}body":
                    text = "".join(_run_text(element))
                    total += len(text) + 1
                    if total > DRAFT_MAX_CHARS:
                        raise _too_long()
                    paragraphs.append(text)
                    element.clear()
                    while element.getprevious() is not None:  # what was read goes: memory stays flat
                        del parent[0]
    except (KeyError, etree.XMLSyntaxError, *_UNREADABLE):
        raise _unreadable() from None
    return "\n".join(paragraphs)


def _run_text(paragraph) -> list[str]:
    """The text of a paragraph as Word shows it: text, tabs and line breaks, in order."""
    found = []
    for run in paragraph.iter(f"{_W}r"):  # runs only: a w:tab in the paragraph's properties is a tab stop
        for node in run:
            if node.tag == f"{_W}t":
                found.append(node.text or "")
            elif node.tag == f"{_W}tab":
                found.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                found.append("\n")
    return found

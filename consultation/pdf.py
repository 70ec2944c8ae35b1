"""PDF rendering with WeasyPrint: A4, Chinese fonts embedded (subset, once) as real text.

A report is laid out in chunks, in parallel, and merged into one PDF (DESIGN.md §8: time and memory grow
linearly with the rows, and no process holds the layout of all of them). The caller renders nothing itself:

    result = render_report(report.template, report.context, report.chunks(), rows=report.rows,
                           progress=lambda done, total: ...)   # -> RenderResult(data, pages)
    job_timeout = timeout_for(report.rows)

``report.chunks()`` yields the rows in the order of the report, as objects with ``label`` (the article),
``rows``, ``first`` (the chunk begins its article) and optionally ``total`` (the article's count, shown in the
comment tables' headings); ``Slice`` is one. What each report is made of (REPORT_PARTS):

- pdf/feedback.html (context ``feedback``, ``summary``), rows of feedback.PublicComment in
  pdf/_feedback_rows.html;
- pdf/comment_summary.html (``title``, ``department``, ``window``, ``counts``), rows of reports.SummaryRow in
  pdf/_comment_rows.html with ``personal=True``;
- pdf/review_packet.html (``title``, ``department``, ``version``, ``counts``), rows in pdf/_comment_rows.html
  with ``personal=False``, then pdf/_packet_tail.html (``assessments``, ``rounds``).

The templates are rendered here, in the calling process (they need the app context; the chunks are read from
the database as the layout goes); only WeasyPrint's layout goes to child processes. Chunks are put together
(or cut) to about ROWS_PER_CHUNK rows; each starts a new page and its table repeats its header row on each of
its pages. The page header and "第 n 页 / 共 N 页" are stamped on every page after the merge, so the numbers
run on across chunks. ``render_chunked`` does the same for HTML a caller rendered itself.
"""
from __future__ import annotations

import hashlib
import html as html_lib
import io
import logging
import multiprocessing
import os
import re
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from .models import utcnow

log = logging.getLogger(__name__)

ROWS_PER_CHUNK = 150  # rows laid out together: a few seconds in a child, ~300 MB at most; small ones balance
CHUNK_TIMEOUT = 600  # seconds for one chunk in a child before the rest is laid out in this process
SECONDS_PER_ROW = 0.025  # layout of one feedback row on one core of the shared box (bench/bench_pdf.py)

# The page margins of pdf/_base.html (@page), where the header and the page numbers are stamped.
_MM = 72 / 25.4
_PAGE_TOP, _PAGE_BOTTOM = 28 * _MM, 24 * _MM
_STAMP_FAMILY = "Noto Sans CJK SC"
_HEADER_SIZE, _HEADER_GREY = 8.5, 0x55 / 255
_FOOTER_SIZE = 9.0
_MARGINS_STYLE = re.compile(r'<style id="page-margins">.*?</style>', re.S)
_HEADER_META = re.compile(r'<meta name="page-header" content="([^"]*)">')


@dataclass(frozen=True)
class RenderResult:
    data: bytes
    pages: int


@dataclass(frozen=True)
class Slice:
    """Consecutive rows of one article; ``first``: they begin it; ``total``: the article's count, if known."""
    label: str
    rows: Sequence[Any]
    first: bool = True
    total: int | None = None


@dataclass(frozen=True)
class Parts:
    rows_template: str
    rows_context: dict[str, Any]
    tail_template: str | None = None


REPORT_PARTS: dict[str, Parts] = {
    "pdf/feedback.html": Parts("pdf/_feedback_rows.html", {}),
    "pdf/comment_summary.html": Parts("pdf/_comment_rows.html", {"personal": True}),
    "pdf/review_packet.html": Parts("pdf/_comment_rows.html", {"personal": False}, "pdf/_packet_tail.html"),
}


def timeout_for(rows: int) -> int:
    """A generous job timeout in seconds for a report of ``rows`` rows (five times one slow core, 600 s floor)."""
    return 600 + int(rows * SECONDS_PER_ROW * 5)


def render_report(template: str, context: dict[str, Any], chunks: Iterable[Any], *, rows: int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  processes: int | None = None) -> RenderResult:
    """Render a report of REPORT_PARTS: its front, its chunks of rows, its tail; see the module's docstring.

    ``progress(rows_done, rows)`` is called as each chunk is laid out (``rows``: the report's size, 0 if not
    given).
    """
    parts = REPORT_PARTS[template]
    context = {"generated_at": utcnow(), **context}
    front = render_template(template, **context)
    sizes: list[int] = []  # rows of each document laid out, for the progress

    def fragments() -> Iterator[str]:
        for batch in _batches(chunks, ROWS_PER_CHUNK):
            sizes.append(sum(len(s.rows) for s in batch))
            yield render_template(parts.rows_template, chunk=batch, **parts.rows_context)
        if parts.tail_template:
            sizes.append(0)
            yield render_template(parts.tail_template, **context)

    def rows_done(done: int, _: int) -> None:
        if progress:
            progress(sum(sizes[:done]), rows or 0)

    return render_chunked(front, fragments(), progress=rows_done, processes=processes,
                          base_url=current_app.root_path)


def _batches(chunks: Iterable[Any], size: int) -> Iterator[list[Slice]]:
    """Put small chunks together and cut big ones, into batches of at most ``size`` rows, in order."""
    batch: list[Slice] = []
    room = size
    for chunk in chunks:
        first, start, rows = chunk.first, 0, chunk.rows
        while start < len(rows):
            if room == 0:
                yield batch
                batch, room = [], size
            part = rows[start:start + room]
            batch.append(Slice(chunk.label, part, first and start == 0, getattr(chunk, "total", None)))
            start += len(part)
            room -= len(part)
    if batch:
        yield batch


def render_chunked(front_html: str, chunk_htmls: Iterable[str], *, total: int | None = None,
                   progress: Callable[[int, int], None] | None = None, processes: int | None = None,
                   base_url: str | None = None) -> RenderResult:
    """Lay out a report made of a front document and body fragments, and merge them into one PDF.

    ``front_html`` is a whole document from a template extending pdf/_base.html: its head (styles, page header)
    serves every chunk. Each of ``chunk_htmls`` is a body fragment laid out as a document of its own, starting
    on a new page; the first one goes on after the front. The fragments are consumed lazily, a few ahead of the
    layout. ``progress(done, total)`` is called after each chunk (``total``: given, or the length of
    ``chunk_htmls``, or 0 when unknown). ``processes``: child processes (default: one per CPU); 1, or a single
    chunk, lays out in this process.
    """
    shell = _Shell.parse(front_html)
    if total is None and isinstance(chunk_htmls, Sequence):
        total = max(1, len(chunk_htmls))
    fragments = iter(chunk_htmls)
    first = next(fragments, "")
    documents = _documents(shell, first, fragments)
    processes = processes or len(os.sched_getaffinity(0))
    ahead = [next(documents)]
    second = next(documents, None)
    if second is not None:
        ahead.append(second)
    if processes > 1 and second is not None:
        laid = _lay_out_in_children(_chain(ahead, documents), processes, base_url, total or 0, progress)
    else:
        laid = _lay_out_here(_chain(ahead, documents), base_url, total or 0, progress)
    return _merge(laid, shell)


def render_pdf(template: str, **context) -> bytes:
    """One template in one pass; a ``report`` of REPORT_PARTS with its ``chunks`` goes through render_report."""
    from weasyprint import HTML  # imported late: the web process needs it only in jobs

    report = context.pop("report", None)
    if template in REPORT_PARTS and hasattr(report, "chunks"):
        return render_report(template, context, report.chunks(), rows=getattr(report, "rows", None)).data
    html = render_template(template, generated_at=utcnow(), **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def store(data: bytes, relative_name: str) -> tuple[Path, str]:
    """Write the file atomically under PDF_DIR; return its path and SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = Path(current_app.config["PDF_DIR"]) / relative_name
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target, digest


# --- The documents to lay out -------------------------------------------------------------------------------

class _Unsupported(Exception):
    """A template draws what the merge does not carry over (images, patterns, bitmap or variable fonts)."""


@dataclass(frozen=True)
class _Shell:
    head: str  # up to and including <body>, without the margin boxes
    front: str  # the front's body
    tail: str  # from </body>
    header: str  # the page header's text
    title: str
    lang: str

    @classmethod
    def parse(cls, front_html: str) -> _Shell:
        start = front_html.index("<body>") + len("<body>")
        end = front_html.rindex("</body>")
        head = _MARGINS_STYLE.sub("", front_html[:start])
        header = _HEADER_META.search(head)
        title = re.search(r"<title>(.*?)</title>", head, re.S)
        lang = re.search(r'<html lang="([^"]+)"', head)
        return cls(head, front_html[start:end], front_html[end:],
                   html_lib.unescape(header.group(1)) if header else "",
                   html_lib.unescape(title.group(1)).strip() if title else "", lang.group(1) if lang else "")


def _documents(shell: _Shell, first: str, fragments: Iterator[str]) -> Iterator[str]:
    yield shell.head + shell.front + first + shell.tail
    for fragment in fragments:
        yield shell.head + fragment + shell.tail


def _chain(ahead: list[str], rest: Iterator[str]) -> Iterator[str]:
    while ahead:
        yield ahead.pop(0)  # not held once handed out
    yield from rest


# --- Layout (in a child process, or here) -------------------------------------------------------------------

@dataclass
class _FontUse:
    """A font as a chunk used it: enough to find the same face again, and the glyphs drawn."""
    hash: str
    family: str
    weight: int
    style: int
    variations: dict[str, float]
    font_size: float
    index: int
    glyph_count: int
    upem: int
    widths: dict[int, float]
    to_unicode: dict[int, str]
    missing: dict[int, int]


@dataclass
class _Laid:
    pages: list[tuple[float, float, bytes]] = field(default_factory=list)  # width, height (pt), deflated content
    fonts: list[_FontUse] = field(default_factory=list)
    alphas: dict[str, dict[str, float]] = field(default_factory=dict)  # ExtGState name -> {"CA" or "ca": alpha}


_font_config = None


@contextmanager
def _without_margin_boxes():
    """Skip WeasyPrint's margin boxes while laying out a chunk: the merge stamps header and footer.

    WeasyPrint 70 builds the 16 margin boxes of every page, with their styles, even when none has content:
    about 5 ms a page, a third of a page's layout. A chunk's head has no margin boxes (_MARGINS_STYLE).
    """
    from weasyprint import layout

    original = layout.make_margin_boxes
    layout.make_margin_boxes = lambda context, page, state: ()
    try:
        yield
    finally:
        layout.make_margin_boxes = original


def _lay_out(html: str, base_url: str | None) -> _Laid:
    """Lay out and paint one document; return its pages' content streams and the glyphs of its fonts."""
    import pydyf
    from weasyprint import HTML
    from weasyprint.pdf.stream import Stream
    from weasyprint.text.fonts import FontConfiguration

    global _font_config
    if _font_config is None:  # one per process: fontconfig is loaded once
        _font_config = FontConfiguration()
    with _without_margin_boxes():
        document = HTML(string=html, base_url=base_url).render(font_config=_font_config)
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary()})
    laid = _Laid()
    scale = 0.75  # 72 PDF points per inch / 96 CSS pixels per inch
    for page in document.pages:
        if any(page.bleed.values()):
            raise _Unsupported("page bleed")
        stream = Stream(document.fonts, (0, 0, page.width, page.height), resources, {}, None,
                        document.color_profiles, document.output_intent)
        stream.transform(d=-1, f=page.height * scale)
        page.paint(stream, scale)
        # q/Q: the stamps drawn after this content start from the page's own coordinates.
        content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
        laid.pages.append((page.width * scale, page.height * scale, zlib.compress(b"q\n" + content + b"\nQ")))
    if resources["XObject"] or resources["Pattern"] or resources["Shading"]:
        raise _Unsupported("images, patterns or gradients")
    for name, state in resources["ExtGState"].items():
        if not re.fullmatch(r"[Aa][\d.]+", str(name)) or set(state) - {"CA", "ca"}:
            raise _Unsupported(f"graphic state {name}")
        laid.alphas[str(name)] = dict(state)
    for font in document.fonts.values():
        if font.bitmap or font.png or font.svg or font.colr or "fvar" in font.tables:
            raise _Unsupported(f"font {font.family}")
        laid.fonts.append(_FontUse(font.hash, font.family, font.weight, font.style, font.variations,
                                   font.font_size, font.index, font.glyph_count, font.upem, font.widths,
                                   font.to_unicode, font.missing))
    return laid


def _lay_out_here(documents: Iterator[str], base_url: str | None, total: int,
                  progress: Callable[[int, int], None] | None) -> list[_Laid]:
    laid = []
    for html in documents:
        laid.append(_lay_out(html, base_url))
        if progress:
            progress(len(laid), total)
    return laid


def _lay_out_in_children(documents: Iterator[str], processes: int, base_url: str | None, total: int,
                         progress: Callable[[int, int], None] | None) -> list[_Laid]:
    """Lay out the documents in a pool of forked children, rendering the next ones meanwhile.

    Fork: the children start at once with WeasyPrint and fontconfig loaded. Children exit with os._exit, so a
    database connection inherited from an RQ work-horse is never closed by them. A child that does not answer
    in CHUNK_TIMEOUT (a lock held by a thread at the fork) is ended, and what is left is laid out here.
    """
    laid: list[_Laid] = []
    pending: deque = deque()

    def collect() -> None:
        html, result = pending.popleft()
        try:
            laid.append(result.get(CHUNK_TIMEOUT) if pool is not None else _lay_out(html, base_url))
        except multiprocessing.TimeoutError:
            log.warning("PDF layout: no answer from a child in %s s, going on in this process", CHUNK_TIMEOUT)
            stop()
            laid.append(_lay_out(html, base_url))
        if progress:
            progress(len(laid), total)

    def stop() -> None:
        nonlocal pool
        pool.terminate()
        pool.join()
        pool = None

    pool = multiprocessing.get_context("fork").Pool(processes)
    try:
        for html in documents:
            pending.append((html, pool.apply_async(_lay_out, (html, base_url)) if pool is not None else None))
            while len(pending) > 2 * processes:
                collect()
        while pending:
            collect()
    finally:
        if pool is not None:
            stop()
    return laid


# --- The merge ----------------------------------------------------------------------------------------------

def _merge(laid: list[_Laid], shell: _Shell) -> RenderResult:
    """One PDF: every chunk's pages, one font dictionary, the page header and numbers stamped."""
    import pydyf
    from weasyprint import VERSION
    from weasyprint.pdf.fonts import build_fonts_dictionary

    fonts = _FontBook()
    alphas = pydyf.Dictionary()
    for part in laid:
        for use in part.fonts:
            fonts.add(use)
        for name, state in part.alphas.items():
            alphas[name] = pydyf.Dictionary(state)
    pages = [page for part in laid for page in part.pages]

    pdf = pydyf.PDF()
    pdf.info["Producer"] = pydyf.String(f"WeasyPrint {VERSION}")
    if shell.title:
        pdf.info["Title"] = pydyf.String(shell.title)
    if shell.lang:
        pdf.catalog["Lang"] = pydyf.String(shell.lang)
    resources = pydyf.Dictionary({"ExtGState": alphas, "Font": None})
    pdf.add_object(resources)
    stamp = _Stamper(fonts)
    header = None
    for number, (width, height, content) in enumerate(pages, start=1):
        if header is None:
            header = _stream(pdf, stamp.line(shell.header, _HEADER_SIZE, width, height - _PAGE_TOP / 2,
                                             _HEADER_GREY))
        footer = stamp.line(f"第 {number} 页 / 共 {len(pages)} 页", _FOOTER_SIZE, width, _PAGE_BOTTOM / 2, 0)
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, width, height]),
            "Contents": pydyf.Array([_stream(pdf, content, deflated=True), header, _stream(pdf, footer)]),
            "Resources": resources.reference,
        }))
    pdf_fonts = build_fonts_dictionary(pdf, fonts.fonts, True, True, {"hinting": False, "pdf_version": None})
    pdf.add_object(pdf_fonts)
    resources["Font"] = pdf_fonts.reference
    output = io.BytesIO()
    pdf.write(output, None, False, True)
    return RenderResult(output.getvalue(), len(pages))


def _stream(pdf, data: bytes, deflated: bool = False):
    import pydyf

    stream = pydyf.Stream([data], {"Filter": "/FlateDecode"} if deflated else None)
    pdf.add_object(stream)
    return stream.reference


class _FontBook:
    """The fonts of all chunks, found again in this process by family, weight and style, glyphs united."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.config = FontConfiguration()
        self.fonts: dict[str, Any] = {}

    def add(self, use: _FontUse) -> Any:
        font = self.fonts.get(use.hash)
        if font is None:
            font = self.load(use.family, use.weight, use.style, use.font_size, use.variations)
            if (font.index, font.glyph_count, font.upem) != (use.index, use.glyph_count, use.upem):
                raise _Unsupported(f"font {use.family} not found again")
            font.hash, font.name = use.hash, b"/" + use.hash.encode() + font.name[font.name.index(b"+"):]
            self.fonts[use.hash] = font
        font.widths.update(use.widths)
        font.to_unicode.update(use.to_unicode)
        font.missing.update(use.missing)
        return font

    def load(self, family: str, weight: int, style: int, size: float, variations: dict[str, float] | None = None):
        from weasyprint.pdf.fonts import Font
        from weasyprint.text.ffi import TO_UNITS, ffi, gobject, pango
        from weasyprint.text.fonts import get_pango_font_key

        description = ffi.gc(pango.pango_font_description_new(), pango.pango_font_description_free)
        pango.pango_font_description_set_family(description, family.encode())
        pango.pango_font_description_set_weight(description, weight)
        pango.pango_font_description_set_style(description, style)
        pango.pango_font_description_set_absolute_size(description, size * TO_UNITS)
        if variations:
            text = ",".join(f"{k}={v}" for k, v in variations.items())
            pango.pango_font_description_set_variations(description, text.encode())
        context = ffi.gc(pango.pango_font_map_create_context(self.config.font_map), gobject.g_object_unref)
        pango_font = pango.pango_font_map_load_font(self.config.font_map, context, description)
        _, found, font_size = get_pango_font_key(pango_font)
        return Font(pango_font, found, font_size)


class _Stamper:
    """Draws one centred line of text with the stamp font; its glyphs join the font's subset."""

    def __init__(self, fonts: _FontBook) -> None:
        font = fonts.load(_STAMP_FAMILY, 400, 0, 12)
        self.font = fonts.fonts.setdefault(font.hash, font)
        self.glyphs: dict[str, tuple[int, float]] = {}
        self.hb = _HarfBuzz(self.font.hb_face)

    def line(self, text: str, size: float, page_width: float, middle: float, grey: float) -> bytes:
        glyphs = [self.glyph(char) for char in text]
        width = sum(advance for _, advance in glyphs) * size / 1000
        ascent, descent = self.font.ascent * size / 1000, self.font.descent * size / 1000
        baseline = middle - (ascent + descent) / 2
        codes = "".join(f"{gid:04x}" for gid, _ in glyphs)
        return (f"BT {grey:.3f} g /{self.font.hash} {size} Tf {(page_width - width) / 2:.2f} {baseline:.2f} Td "
                f"<{codes}> Tj ET").encode()

    def glyph(self, char: str) -> tuple[int, float]:
        if char not in self.glyphs:
            gid, advance = self.hb.glyph(ord(char))
            self.glyphs[char] = (gid, advance * 1000 / self.font.upem)
            self.font.widths[gid] = self.glyphs[char][1]
            self.font.to_unicode.setdefault(gid, char)
        return self.glyphs[char]


class _HarfBuzz:
    """The nominal glyph and advance of a character: all the stamps need (CJK and digits, no shaping)."""

    _ffi = None
    _lib = None

    def __init__(self, hb_face) -> None:
        from weasyprint.text.ffi import ffi as weasy_ffi

        if _HarfBuzz._lib is None:
            import cffi

            _HarfBuzz._ffi = cffi.FFI()
            _HarfBuzz._ffi.cdef("""
                typedef struct hb_face_t hb_face_t; typedef struct hb_font_t hb_font_t;
                hb_font_t *hb_font_create (hb_face_t *face); void hb_font_destroy (hb_font_t *font);
                int hb_font_get_nominal_glyph (hb_font_t *font, uint32_t unicode, uint32_t *glyph);
                int32_t hb_font_get_glyph_h_advance (hb_font_t *font, uint32_t glyph);""")
            _HarfBuzz._lib = _HarfBuzz._ffi.dlopen("libharfbuzz.so.0")
        ffi, lib = _HarfBuzz._ffi, _HarfBuzz._lib
        face = ffi.cast("hb_face_t *", int(weasy_ffi.cast("uintptr_t", hb_face)))
        self.font = ffi.gc(lib.hb_font_create(face), lib.hb_font_destroy)  # scale: font units
        self.out = ffi.new("uint32_t *")

    def glyph(self, codepoint: int) -> tuple[int, int]:
        lib = _HarfBuzz._lib
        gid = self.out[0] if lib.hb_font_get_nominal_glyph(self.font, codepoint, self.out) else 0
        return gid, lib.hb_font_get_glyph_h_advance(self.font, gid)

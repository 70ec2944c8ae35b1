"""The merge of a report laid out in chunks: each chunk's pages and glyphs, then one PDF with the fonts once.

consultation.pdf lays the chunks out (capture turns a chunk's WeasyPrint document into a Laid: its pages'
content streams and the glyphs its fonts drew); merge puts the Laid of all chunks into one PDF, with one
subset of each font and the page header and "第 n 页 / 共 N 页" stamped on every page. A chunk that draws what
the merge does not carry over raises Unsupported.
"""
from __future__ import annotations

import html as html_lib
import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

# The page margins of pdf/_base.html (@page), where the header and the page numbers are stamped.
_MM = 72 / 25.4
_PAGE_TOP, _PAGE_BOTTOM = 28 * _MM, 24 * _MM
_STAMP_FAMILY = "Noto Sans CJK SC"
_HEADER_SIZE, _HEADER_GREY = 8.5, 0x55 / 255
_FOOTER_SIZE = 9.0
MARGINS_STYLE = re.compile(r'<style id="page-margins">.*?</style>', re.S)
_HEADER_META = re.compile(r'<meta name="page-header" content="([^"]*)">')
_FOOTER_META = re.compile(r'<meta name="page-footer" content="([^"]*)">')


@dataclass(frozen=True)
class RenderResult:
    data: bytes
    pages: int


class Unsupported(Exception):
    """A template draws what the merge does not carry over (images, patterns, bitmap or variable fonts)."""


@dataclass(frozen=True)
class Shell:
    head: str  # up to and including <body>, without the margin boxes
    front: str  # the front's body
    tail: str  # from </body>
    header: str  # the page header's text
    title: str
    lang: str
    footer: str = ""  # what the page footer says before the page numbers (the site's organiser)

    @classmethod
    def parse(cls, front_html: str) -> Shell:
        start = front_html.index("<body>") + len("<body>")
        end = front_html.rindex("</body>")
        head = MARGINS_STYLE.sub("", front_html[:start])
        header = _HEADER_META.search(head)
        title = re.search(r"<title>(.*?)</title>", head, re.S)
        lang = re.search(r'<html lang="([^"]+)"', head)
        footer = _FOOTER_META.search(head)
        return cls(head, front_html[start:end], front_html[end:],
                   html_lib.unescape(header.group(1)) if header else "",
                   html_lib.unescape(title.group(1)).strip() if title else "", lang.group(1) if lang else "",
                   html_lib.unescape(footer.group(1)) if footer else "")


@dataclass
class FontUse:
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
class Laid:
    pages: list[tuple[float, float, bytes]] = field(default_factory=list)  # width, height (pt), deflated content
    fonts: list[FontUse] = field(default_factory=list)
    alphas: dict[str, dict[str, float]] = field(default_factory=dict)  # ExtGState name -> {"CA" or "ca": alpha}



def capture(document) -> Laid:
    """Paint a laid-out WeasyPrint document; return its pages' content streams and the glyphs of its fonts."""
    import pydyf
    from weasyprint.pdf.stream import Stream

    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
                                  "ColorSpace": None})
    laid = Laid()
    scale = 0.75  # 72 PDF points per inch / 96 CSS pixels per inch
    for page in document.pages:
        if any(page.bleed.values()):
            raise Unsupported("page bleed")
        stream = Stream(document.fonts, (0, 0, page.width, page.height), resources, {}, None,
                        document.color_profiles, document.output_intent)
        stream.transform(d=-1, f=page.height * scale)
        try:
            page.paint(stream, scale)
        except KeyError as error:  # a resource of a whole WeasyPrint PDF this stream lacks
            raise Unsupported(f"resource {error}") from error
        # q/Q: the stamps drawn after this content start from the page's own coordinates.
        content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
        laid.pages.append((page.width * scale, page.height * scale, zlib.compress(b"q\n" + content + b"\nQ")))
    if resources["XObject"] or resources["Pattern"] or resources["Shading"]:
        raise Unsupported("images, patterns or gradients")
    for name, state in resources["ExtGState"].items():
        if not re.fullmatch(r"[Aa][\d.]+", str(name)) or set(state) - {"CA", "ca"}:
            raise Unsupported(f"graphic state {name}")
        laid.alphas[str(name)] = dict(state)
    for font in document.fonts.values():
        if font.bitmap or font.png or font.svg or font.colr or "fvar" in font.tables:
            raise Unsupported(f"font {font.family}")
        laid.fonts.append(FontUse(font.hash, font.family, font.weight, font.style, font.variations,
                                  font.font_size, font.index, font.glyph_count, font.upem, font.widths,
                                  font.to_unicode, font.missing))
    return laid


def merge(laid: list[Laid], shell: Shell) -> RenderResult:
    """One PDF: every chunk's pages, one font dictionary, the page header and numbers stamped."""
    import pydyf
    from weasyprint import VERSION
    from weasyprint.pdf.fonts import build_fonts_dictionary

    fonts = FontBook()
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
    stamp = Stamper(fonts)
    header = None
    for number, (width, height, content) in enumerate(pages, start=1):
        if header is None:
            header = _stream(pdf, stamp.line(shell.header, _HEADER_SIZE, width, height - _PAGE_TOP / 2,
                                             _HEADER_GREY))
        footer = stamp.line(f"{shell.footer}第 {number} 页 / 共 {len(pages)} 页", _FOOTER_SIZE, width,
                            _PAGE_BOTTOM / 2, 0)
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


class FontBook:
    """The fonts of all chunks, found again in this process by family, weight and style, glyphs united."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.config = FontConfiguration()
        self.fonts: dict[str, Any] = {}

    def add(self, use: FontUse) -> Any:
        font = self.fonts.get(use.hash)
        if font is None:
            font = self.load(use.family, use.weight, use.style, use.font_size, use.variations)
            if (font.index, font.glyph_count, font.upem) != (use.index, use.glyph_count, use.upem):
                raise Unsupported(f"font {use.family} not found again")
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


class Stamper:
    """Draws one centred line of text with the stamp font; its glyphs join the font's subset."""

    def __init__(self, fonts: FontBook) -> None:
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

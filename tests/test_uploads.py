"""Uploaded Word files: a zip bomb is refused before it is unpacked, quickly and in bounded memory."""
from __future__ import annotations

import html
import io
import resource
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from docx import Document as DocxFile

from consultation import articles
from consultation.articles import check_docx_archive, docx_to_text
from consultation.errors import InvalidInput
from consultation.extensions import db
from consultation.models import Document

MB = 1024 * 1024
BLANKS_MB = 1100  # word/document.xml of the bomb: 1.1 GB of blanks inside one paragraph


def _real_docx_parts() -> dict[str, bytes]:
    """The parts of a genuine .docx written by python-docx."""
    docx = DocxFile()
    docx.add_paragraph("第一条 为了规范。")
    buffer = io.BytesIO()
    docx.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _zip(parts: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of deflated parts given as (name, raw deflate stream, CRC-32, declared size)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, stream, crc, size in parts:
        offset, encoded = out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(stream), size,
                              len(encoded), 0) + encoded + stream)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(stream),
                                  size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory = central.getvalue()
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory),
                                      out.tell(), 0))
    return out.getvalue()


def _bomb(declared_size: int | None = None) -> bytes:
    """A real .docx whose document.xml holds one paragraph of BLANKS_MB megabytes of blanks, deflated to about
    1 MB (a full-flushed deflate block repeated), with its true CRC; ``declared_size`` makes the archive lie."""
    parts = _real_docx_parts()
    head, tail = parts["word/document.xml"].split(b"<w:body>")
    head += b"<w:body><w:p><w:r><w:t xml:space=\"preserve\">"
    tail = b"</w:t></w:r></w:p>" + tail.split(b"</w:body>")[0] + b"</w:body>" + tail.split(b"</w:body>")[1]
    blanks = b" " * MB
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = (first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
              + (block.compress(blanks) + block.flush(zlib.Z_FULL_FLUSH)) * BLANKS_MB + _deflate(tail))
    crc = zlib.crc32(head)
    for _ in range(BLANKS_MB):
        crc = zlib.crc32(blanks, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + BLANKS_MB * MB + len(tail)
    members = [(name, _deflate(data), zlib.crc32(data), len(data))
               for name, data in parts.items() if name != "word/document.xml"]
    members.append(("word/document.xml", stream, crc, size if declared_size is None else declared_size))
    return _zip(members)


@contextmanager
def traced() -> Iterator[list[int]]:
    """Trace Python's allocations in the block; afterwards the list holds their peak, in bytes."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


@pytest.fixture(scope="module")
def lying_bomb() -> bytes:
    return _bomb(declared_size=40_000)


def test_the_crafted_bomb_is_a_real_docx_of_a_gigabyte(bomb):
    """The test's own bomb is what it claims: a valid archive of 1.1 GB, about 1 MB on the wire."""
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.testzip() is None  # every CRC right: python-docx would unpack it all
        assert archive.getinfo("word/document.xml").file_size > BLANKS_MB * MB
    assert len(bomb) < 1.5 * MB


def test_a_bomb_is_refused_on_its_declared_size_before_anything_is_unpacked(bomb):
    with traced() as peak, pytest.raises(InvalidInput):
        check_docx_archive(bomb)
    assert peak[0] < 4 * MB


def test_a_bomb_that_lies_about_its_size_is_stopped_at_the_size_it_declared(lying_bomb):
    with traced() as peak, pytest.raises(InvalidInput):
        docx_to_text(lying_bomb)
    assert peak[0] < 8 * MB


@pytest.mark.parametrize("which", ["bomb", "lying_bomb"])
def test_a_bomb_uploaded_through_the_draft_form_is_refused_with_a_message_in_bounded_memory(
        which, request, as_user, app):
    data = request.getfixturevalue(which)
    drafter = as_user("drafter")
    drafter.get("/staff/documents/new")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with traced() as peak:
        response = drafter.post("/staff/documents/new", {
            "title": "华城市炸弹文件管理办法", "docx": (io.BytesIO(data), "draft.docx"), "body": "",
            "explanation": "起草说明。", "affects_public_rights": "y",
        }, content_type="multipart/form-data")
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    assert response.status_code == 400
    with app.test_request_context():  # the page's locale
        expected = (articles._too_large() if which == "bomb" else articles._unreadable()).message
    assert expected in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 0
    # The request itself, the form and the upload held in memory are a few megabytes; unpacking would be 1.1 GB.
    assert peak[0] < 32 * MB
    assert rss_growth < 100 * MB


def repacked(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A .docx of these parts, packed by Python's zipfile."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_docx_of_too_many_parts_is_refused():
    parts = _real_docx_parts() | {f"word/media/empty{n}.bin": b"" for n in range(articles.DOCX_MAX_PARTS)}
    with pytest.raises(InvalidInput, match=str(articles.DOCX_MAX_PARTS)):
        docx_to_text(repacked(parts))


def test_a_part_compressed_far_beyond_what_text_allows_is_refused():
    """Under the size limits, but 2 MB of zeros in a few kilobytes: no Word part compresses like that."""
    parts = _real_docx_parts() | {"word/media/image1.png": bytes(2 * MB)}
    with pytest.raises(InvalidInput, match=str(articles.DOCX_MAX_UNPACKED // MB)):
        docx_to_text(repacked(parts))


def test_xml_with_a_dtd_is_refused_so_no_entity_is_ever_expanded():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "hahahahahahahahahaha">'
              + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((c,) + (c - 1,) * 10)
                         for c in range(ord("b"), ord("k")))
              + b"]>")
    parts = _real_docx_parts()
    body = parts["word/document.xml"]
    parts["word/document.xml"] = laughs + body[body.index(b"<w:document"):].replace(b"\xe3\x80\x82", b"&j;", 1)
    with pytest.raises(InvalidInput):
        check_docx_archive(repacked(parts))


def test_a_docx_in_utf16_with_a_dtd_is_refused_too():
    parts = _real_docx_parts()
    body = parts["word/document.xml"].decode()
    body = body.replace("?>", '?><!DOCTYPE w:document [<!ENTITY x "y">]>', 1).replace("UTF-8", "UTF-16")
    parts["word/document.xml"] = body.encode("utf-16")
    with pytest.raises(InvalidInput):
        check_docx_archive(repacked(parts))


def test_a_long_genuine_draft_is_still_read():
    """Two thousand articles (about 40 times a real draft) pass the limits."""
    docx = DocxFile()
    for n in range(1, 2001):
        docx.add_paragraph(f"第{n}条 为了规范网络预约出租汽车经营服务行为，保障运营安全和乘客合法权益。")
    buffer = io.BytesIO()
    docx.save(buffer)
    assert len(articles.parse_articles(docx_to_text(buffer.getvalue()))) == 2000


def test_a_docx_with_a_bzip2_part_is_refused():
    """OPC allows only stored and deflated parts; bzip2 would unpack a read of 4 KB without bound."""
    with pytest.raises(InvalidInput):
        docx_to_text(repacked(_real_docx_parts(), zipfile.ZIP_BZIP2))


def _docx_with_paragraphs(paragraphs: int, length: int) -> bytes:
    """A genuine .docx whose body holds ``paragraphs`` paragraphs of ``length`` varied Chinese characters (they
    compress as text does), written without python-docx."""
    import random

    rng = random.Random(12)
    words = "规范网络预约出租汽车经营服务行为保障运营安全和乘客合法权益促进行业健康发展根据有关法律法规结合本市实际制定本办法"
    parts = _real_docx_parts()
    head, tail = parts["word/document.xml"].split(b"<w:body>")
    body = "".join(f"<w:p><w:r><w:t>第{n}条 {''.join(rng.choices(words, k=length))}</w:t></w:r></w:p>"
                   for n in range(paragraphs)).encode()
    parts["word/document.xml"] = head + b"<w:body>" + body + tail.split(b"</w:body>")[0].split(b"</w:p>")[-1] \
        + b"</w:body>" + tail.split(b"</w:body>")[1]
    return repacked(parts)


def test_a_word_file_with_more_text_than_a_draft_may_have_is_refused_while_read_in_flat_memory():
    """Within the archive limits (5 MB of XML) but 1.8 million characters: the reading stops at the draft
    limit, a paragraph at a time, without building the document's tree."""
    data = _docx_with_paragraphs(60_000, 30)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("word/document.xml").file_size > 5 * MB
    with traced() as peak, pytest.raises(InvalidInput, match="500000"):
        docx_to_text(data)
    assert peak[0] < 16 * MB  # the tree of that XML alone takes hundreds of megabytes


def test_the_text_read_is_the_text_python_docx_reads():
    """Tabs, line breaks, tab stops in a paragraph's properties, a table and runs split by formatting."""
    docx = DocxFile()
    docx.add_paragraph("第一条 为了规范。")
    paragraph = docx.add_paragraph("第二条\t分段")
    paragraph.paragraph_format.tab_stops.add_tab_stop(914400)
    run = paragraph.add_run("加粗")
    run.bold = True
    run.add_break()
    paragraph.add_run("换行之后")
    docx.add_table(rows=1, cols=1).cell(0, 0).text = "表格里的文字不是条文"
    docx.add_paragraph("第三条 本办法自发布之日起施行。")
    buffer = io.BytesIO()
    docx.save(buffer)
    expected = "\n".join(p.text for p in DocxFile(io.BytesIO(buffer.getvalue())).paragraphs)
    assert docx_to_text(buffer.getvalue()) == expected
    assert "表格" not in expected and "\t" in expected

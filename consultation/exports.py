"""The final text of a published document as a Word file (python-docx), for the library download."""
from __future__ import annotations

import io

from docx import Document as DocxFile
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .i18n import local_date
from .models import Document
from .services.publication import final_version

FONT = "仿宋_GB2312"  # the body font of official documents (GB/T 9704); Word falls back where absent


def final_text_docx(document: Document) -> bytes:
    """Title, number, dates, then the articles by chapter: only what the library page shows."""
    final = final_version(document)
    out = DocxFile()
    style = out.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(16)  # 三号
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    title = out.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(document.title)
    run.bold = True
    run.font.size = Pt(22)  # 二号
    if document.document_number:
        number = out.add_paragraph(document.document_number)
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    dates = [f"发布日期：{local_date(document.published_at)}"]
    if document.effective_date:
        dates.append(f"施行日期：{document.effective_date.isoformat()}")
    out.add_paragraph("　".join(dates)).alignment = WD_ALIGN_PARAGRAPH.CENTER
    chapter = None
    for article in final.articles if final else []:
        if article.chapter and article.chapter != chapter:
            chapter = article.chapter
            heading = out.add_paragraph()
            heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
            heading.add_run(chapter).bold = True
        paragraph = out.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(32)
        paragraph.add_run(article.label).bold = True
        paragraph.add_run("　" + article.text)
    # The closing lines (落款): the issuing organ and the date of signing, flush right.
    from .services.library import issuing_organ

    for line in (issuing_organ(document), local_date(document.signed_date) if document.signed_date else None):
        if line:
            out.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()

"""The comparison table as a Word file, in the three-column layout drafting offices exchange."""
from __future__ import annotations

import io
from typing import Mapping

from docx import Document as DocxFile
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from flask_babel import gettext as _

from .comparison import ArticleSide, ChangeKind, Op
from .feedback import DECISION_LABELS
from .models import Document
from .receipts import display as display_receipt
from .services.comparison import Table

FONT = "SimSun"  # 宋体: Word substitutes a CJK serif where it is missing


def _side(cell, articles: tuple[ArticleSide, ...]) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    for n, article in enumerate(articles):
        if n:
            paragraph = cell.add_paragraph()
        paragraph.add_run(article.label + " ").bold = True
        for segment in article.segments:
            run = paragraph.add_run(segment.text)
            run.underline = segment.op is Op.INSERT  # black-and-white print: underline and strike, not colour
            run.font.strike = segment.op is Op.DELETE


def table_docx(document: Document, table: Table, labels: Mapping[ChangeKind, object]) -> bytes:
    """Return the .docx bytes of ``table``: 原条文 / 修改后条文 / 修改说明."""
    docx = DocxFile()
    section = docx.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    style = docx.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    docx.add_heading(f"《{document.title}》修改对照表", level=1)
    docx.add_paragraph(_("Version %(a)d against version %(b)d.", a=table.old.seq, b=table.new.seq))
    grid = docx.add_table(rows=1, cols=3)
    grid.style = "Table Grid"
    for cell, title in zip(grid.rows[0].cells, ("原条文", "修改后条文", "修改说明"), strict=True):
        cell.text = title
        cell.paragraphs[0].runs[0].bold = True
    for r in table.rows:
        cells = grid.add_row().cells
        _side(cells[0], r.row.old)
        _side(cells[1], r.row.new)
        notes = [str(labels[r.row.kind])]
        notes += [f"{display_receipt(c.receipt_number) if c.receipt_number else ''} {DECISION_LABELS[c.decision]}："
                  f"{c.excerpt or ''}".strip() for c in r.reasons]
        if r.more_reasons:
            notes.append(_("and %(n)d more", n=r.more_reasons))
        cells[2].text = "\n".join(notes)
    for row in grid.rows:
        for cell, width in zip(row.cells, (Cm(10.5), Cm(10.5), Cm(5.5)), strict=True):
            cell.width = width
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()

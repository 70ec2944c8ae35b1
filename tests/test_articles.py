"""Articles (条) and chapters (章) parsed from pasted text and from .docx uploads."""
from __future__ import annotations

import io

import pytest
from docx import Document as DocxFile

from consultation.articles import docx_to_text, parse_articles
from consultation.errors import InvalidInput


def test_articles_and_chapters_are_parsed_in_order():
    text = "某某办法\n第一章　总则\n第一条　为了规范。\n依据有关规定。\n第二条 适用范围。\n第二章 附则\n第十一条 施行日期。"
    articles = parse_articles(text)
    assert [(a.seq, a.label, a.chapter) for a in articles] == [
        (1, "第一条", "第一章 总则"), (2, "第二条", "第一章 总则"), (3, "第十一条", "第二章 附则")]
    assert articles[0].text == "为了规范。\n依据有关规定。"


def test_a_reference_to_another_article_inside_the_text_is_not_a_new_article():
    articles = parse_articles("第一条 总则。\n第三条规定的情形除外。\n第二条 附则。")
    assert [a.label for a in articles] == ["第一条", "第二条"]
    assert "第三条规定的情形除外" in articles[0].text


def test_a_text_without_articles_gives_none():
    assert parse_articles("这是一段没有条款的文字。") == []


def test_a_docx_is_read_paragraph_by_paragraph():
    docx = DocxFile()
    for line in ["第一条 甲。", "第二条 乙。"]:
        docx.add_paragraph(line)
    buffer = io.BytesIO()
    docx.save(buffer)
    assert [a.label for a in parse_articles(docx_to_text(buffer.getvalue()))] == ["第一条", "第二条"]


def test_a_file_that_is_not_a_docx_is_refused_with_a_message():
    with pytest.raises(InvalidInput):
        docx_to_text(b"%PDF-1.7 not a word file")

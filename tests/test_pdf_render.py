"""The PDF reports laid out in chunks: one document, page numbers running on, every row once, real text."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from datetime import datetime, timezone

import pytest
from flask import render_template
from pypdf import PdfReader

from consultation import pdf
from consultation.feedback import AnswerCounts, ArticleGroup, Feedback, PublicComment

ROWS, PER_CHUNK = 90, 25  # four chunks of layout, an article cut across two of them
FOOTER = re.compile(r"第(\d+)页/共(\d+)页")

ROOT = Path(__file__).resolve().parent.parent


def _comment(number: int) -> PublicComment:
    body = f"R{number:05d}号意见：建议明确第三条的适用范围，避免基层执行中产生歧义。" * (1 + number % 4)
    count = 1 + (number % 3 == 0) * 40
    return PublicComment(number=number, body=body, decision="adopted", decision_label="采纳",
                         reason="该意见已在修改稿中予以体现。", count=count,
                         masked_name="王*明" if number % 5 == 0 and count == 1 else None)


def _feedback() -> tuple[Feedback, list[pdf.Slice]]:
    comments = [_comment(n) for n in range(1, ROWS + 1)]
    chunks = [pdf.Slice("对文件整体", comments[:10]), pdf.Slice("第一条", comments[10:40]),
              pdf.Slice("第一条", comments[40:70], first=False), pdf.Slice("第二条", comments[70:])]
    counts = AnswerCounts(total=ROWS, adopted=ROWS, partly_adopted=0, not_adopted=0, explained=0, unanswered=0)
    groups = [ArticleGroup(key=0, label="对文件整体", anchor="whole", text="", comments=10)]
    return Feedback(document_id=1, title="华城市测试管理办法", document_number="华政规〔2026〕1号",
                    department="华城市司法局", published_at=datetime.now(timezone.utc), counts=counts,
                    groups=groups, final_articles=[], policy_interpretation=None), chunks


def _render_feedback(progress=None, processes: int | None = 1) -> pdf.RenderResult:
    data, chunks = _feedback()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "ROWS_PER_CHUNK", PER_CHUNK)
        return pdf.render_report("pdf/feedback.html", {"feedback": data, "summary": "共收到意见90条"}, chunks,
                                 rows=ROWS, progress=progress, processes=processes)


@pytest.fixture(scope="module")
def rendered(app):
    calls: list[tuple[int, int]] = []
    with app.app_context():
        result = _render_feedback(progress=lambda done, total: calls.append((done, total)))
    return result, calls


def _pages(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def test_page_numbers_run_on_across_chunks_and_the_total_is_right(rendered):
    result, _ = rendered
    pages = _pages(result.data)
    assert len(pages) == result.pages > 4  # more pages than chunks: chunks span pages
    for number, text in enumerate(pages, start=1):
        assert FOOTER.findall(text) == [(str(number), str(len(pages)))], text[-40:]
        assert "华城市测试管理办法·意见采纳情况反馈·生成时间" in text  # the page header


def test_every_row_is_there_once_and_in_order_across_chunk_boundaries(rendered):
    text = "".join(_pages(rendered[0].data))
    numbers = [int(n) for n in re.findall(r"R(\d{5})号意见", text)]
    firsts = []
    for n in numbers:  # a long body repeats its marker; keep each row's first
        if not firsts or firsts[-1] != n:
            firsts.append(n)
    assert firsts == list(range(1, ROWS + 1))
    assert text.count("（同类意见41条）") == ROWS // 3  # a campaign: one row with its count


def test_each_row_shows_its_number_article_decision_reason_and_masked_name_in_order(rendered):
    text = "".join(_pages(rendered[0].data))
    labels = ["对文件整体"] * 10 + ["第一条"] * 60 + ["第二条"] * 20
    heads = [f"序号{n}·{labels[n - 1]}·采纳情况：采纳" for n in range(1, ROWS + 1)]
    positions = [text.index(head) for head in heads]
    assert positions == sorted(positions)
    assert text.count("理由：该意见已在修改稿中予以体现。") == ROWS
    masked = [n for n in range(1, ROWS + 1) if n % 5 == 0 and n % 3]
    assert text.count("（王*明）") == len(masked)
    assert "序号条款意见建议" not in text  # no table, no column header row


def test_an_article_heading_opens_each_article_and_is_repeated_at_the_top_of_a_chunk_that_goes_on(rendered):
    text = "".join(_pages(rendered[0].data))
    # Chunks of 25 rows: rows 26, 51 and 76 begin a chunk in the middle of an article.
    assert text.index("意见建议及采纳情况对文件整体序号1·") >= 0
    assert "第一条序号11·" in text and "第一条（续）序号26·" in text and "第一条（续）序号51·" in text
    assert "第二条序号71·" in text and "第二条（续）序号76·" in text
    assert text.count("（续）") == 3  # not where a slice goes on inside a chunk (row 41)


def test_chinese_text_is_real_text_with_fonts_embedded_once(rendered, tmp_path):
    result, _ = rendered
    text = "".join(_pages(result.data))
    assert "关于《华城市测试管理办法》公开征求意见采纳情况的反馈" in text and "该意见已在修改稿中予以体现" in text
    path = tmp_path / "feedback.pdf"
    path.write_bytes(result.data)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = [line.split() for line in listing.splitlines()[2:]]
    names = [f[0].split("+", 1)[-1] for f in fonts]
    assert any("CJK" in name for name in names), listing
    assert all(f[-5] == "yes" for f in fonts), listing  # the "emb" column
    assert len(names) == len(set(names)), listing  # one font object per face, not one per chunk


def test_progress_is_reported_after_each_chunk_in_rows(rendered):
    _, calls = rendered
    assert len(calls) == -(-ROWS // PER_CHUNK)
    assert [total for _, total in calls] == [ROWS] * len(calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == ROWS


def test_a_forked_child_can_lay_out_in_children_of_its_own(app, tmp_path):
    """As in an RQ work-horse, itself a forked process: the pool forks again and does not hang."""
    data, chunks = _feedback()
    with app.app_context():
        front = render_template("pdf/feedback.html", feedback=data, summary="共收到意见90条",
                                generated_at=pdf.utcnow())
        fragments = [render_template("pdf/_feedback_rows.html", chunk=[s]) for s in chunks]
    target = tmp_path / "horse.pdf"
    (tmp_path / "parts.json").write_text(json.dumps({"front": front, "fragments": fragments}), encoding="utf-8")
    # The work-horse is a fresh interpreter that forks itself (as RQ's worker does), then lays out in a pool
    # of its own children: the pytest process, with threads of earlier tests, is never forked.
    script = (
        "import json, multiprocessing, sys\n"
        "from consultation import pdf\n"
        f"parts = json.load(open({str(tmp_path / 'parts.json')!r}, encoding='utf-8'))\n"
        "def horse():\n"
        "    data = pdf.render_chunked(parts['front'], parts['fragments'], processes=2).data\n"
        f"    open({str(target)!r}, 'wb').write(data)\n"
        "child = multiprocessing.get_context('fork').Process(target=horse)\n"
        "child.start(); child.join(300); sys.exit(child.exitcode)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=400)
    assert done.returncode == 0
    pages = _pages(target.read_bytes())
    assert FOOTER.findall(pages[-1]) == [(str(len(pages)), str(len(pages)))]


def test_a_small_report_is_laid_out_in_this_process(app, monkeypatch):
    def no_children(*args, **kwargs):
        raise AssertionError("a single chunk needs no child process")

    monkeypatch.setattr(pdf, "_lay_out_in_children", no_children)
    data, chunks = _feedback()
    calls = []
    result = pdf.render_report("pdf/feedback.html", {"feedback": data, "summary": "共收到意见90条"}, chunks[:1],
                               rows=10, progress=lambda done, total: calls.append(done))
    pages = _pages(result.data)
    assert calls == [10] and FOOTER.findall(pages[0]) == [("1", str(result.pages))]
    assert "R00010号意见" in "".join(pages)


def test_the_comment_summary_shows_every_detail_of_the_commenter_and_the_packet_none(app):
    from consultation.reports import SummaryRow

    rows = [SummaryRow(number=n, receipt=f"HZ{n:04d}", received="2026-01-05 10:00", channel=("web", "letter")[n % 2],
                       name="张三" if n != 3 else "", organisation="华城物业公司", phone="13600001111",
                       email="zhang@example.net", body=f"R{n:05d}号意见：建议延长期限。", decision="部分采纳",
                       reason="期限调整为二十个工作日。" if n != 2 else "") for n in range(1, 8)]
    counts = {"total": 7, "adopted": 0, "partly_adopted": 7, "not_adopted": 0, "explained": 0, "unanswered": 0}
    chunks = [pdf.Slice("第一条", rows[:4], total=7), pdf.Slice("第一条", rows[4:], first=False, total=7)]
    summary = pdf.render_report("pdf/comment_summary.html", {"title": "华城市测试管理办法", "department": "华城市司法局",
                                                              "window": None, "counts": counts}, chunks, processes=1)
    text = "".join(_pages(summary.data))
    assert text.startswith("内部材料") and "第一条（7条）序号1·第一条·处理情况：部分采纳" in text
    assert "张三·华城物业公司·电话13600001111·邮箱zhang@example.net·回执HZ0002·2026-01-0510:00·网站" in text
    assert "回执HZ0001·2026-01-0510:00·信函" in text and "（未署名）·华城物业公司" in text
    positions = [text.index(f"R{n:05d}号意见") for n in range(1, 8)]
    assert positions == sorted(positions) and "（续）" not in text  # one chunk
    assert text.count("理由：期限调整为二十个工作日。") == 6
    packet = pdf.render_report("pdf/review_packet.html", {
        "title": "华城市测试管理办法", "department": "华城市司法局", "counts": counts,
        "version": {"seq": 2, "sha256": "ab" * 32, "explanation": "起草说明。", "articles": []},
        "assessments": [], "rounds": []}, chunks, processes=1)
    text = "".join(_pages(packet.data))
    for private in ("张三", "华城物业公司", "13600001111", "zhang@example.net", "HZ0001"):
        assert private not in text
    assert "第一条（7条）序号1·第一条·处理情况：部分采纳R00001号意见" in text
    assert text.index("R00007号意见") < text.index("四、论证和评估情况") < text.index("首次送审")


def test_a_report_the_merge_cannot_carry_over_is_laid_out_in_one_pass_with_a_warning(app, caplog, monkeypatch):
    """A gradient is a shading the merge does not carry over: the whole report in one pass, numbers right."""
    monkeypatch.setattr(pdf.log, "disabled", False)  # alembic's logging.fileConfig in the app fixture disables it
    data, chunks = _feedback()
    with app.app_context():
        front = render_template("pdf/feedback.html", feedback=data, summary="共收到意见90条",
                                generated_at=pdf.utcnow())
        fragments = [render_template("pdf/_feedback_rows.html", chunk=[s]) for s in chunks]
    fragments[1] = '<p style="background: linear-gradient(white, black)">渐变</p>' + fragments[1]
    calls = []
    with caplog.at_level("WARNING", logger="consultation.pdf"):
        result = pdf.render_chunked(front, fragments, processes=1,
                                    progress=lambda done, total: calls.append(done))
    assert "laid out in one pass" in caplog.text
    pages = _pages(result.data)
    assert len(pages) == result.pages > 1
    for number, text in enumerate(pages, start=1):
        assert FOOTER.findall(text) == [(str(number), str(len(pages)))], text[-40:]  # WeasyPrint's counters
        assert "华城市测试管理办法·意见采纳情况反馈·生成时间" in text
    text = "".join(pages)
    positions = [text.index(f"序号{n}·") for n in range(1, ROWS + 1)]
    assert positions == sorted(positions) and "渐变" in text
    assert calls[-1] == len(fragments)


def test_margin_boxes_are_skipped_only_in_the_thread_laying_out_a_chunk_and_restored_after_an_error():
    import threading

    from weasyprint import HTML, layout

    original = layout.make_margin_boxes
    page = ('<style>@page { size: A6; @bottom-center { content: "第 " counter(page) " 页" } }</style>'
            '<p>正文</p>')
    seen = []
    with pytest.raises(RuntimeError):
        with pdf._without_margin_boxes():
            assert layout.make_margin_boxes is not original
            other = threading.Thread(target=lambda: seen.append(HTML(string=page).write_pdf()))
            other.start()
            other.join()
            here = HTML(string=page).write_pdf()
            raise RuntimeError("a layout failing")
    assert layout.make_margin_boxes is original
    assert "第1页" in _pages(seen[0])[0] and "第1页" not in _pages(here)[0]

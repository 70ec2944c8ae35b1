"""Benchmark of the adoption-feedback PDF: the project's chunked rendering beside plain WeasyPrint, same run.

    .venv/bin/python -m bench.bench_pdf [--rows 1000 10000] [--processes N] [--rows-per-chunk N] [--repeat N]
                                        [--skip-plain-above 0]

For each number of rows: the feedback PDF through consultation.pdf.render_report (templates rendered in this
process, layout in children of a fork server), and the same texts as plain blocks (``<div><p>text</p>...</div>`` in one
HTML, the same fonts and size, A4, no page header: plain_html) rendered in one pass by WeasyPrint. With
``--repeat`` the two alternate, so that both see the same load of a shared machine; the ratio is project/plain
of each pair, and the median of the pairs. Each measure runs in a fresh forked process, so that its peak
memory is its own: the largest resident size of that process and of any of its children; "CPU s" is the CPU
time of both, which a loaded machine changes less than the clock. Comment texts are Chinese, 30 to 600 characters; a third of the rows are campaigns (one
row with a count). Not a test: nothing passes or fails on the clock.
"""
from __future__ import annotations

import argparse
import html
import multiprocessing
import random
import resource
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from consultation import create_app
from consultation.feedback import AnswerCounts, ArticleGroup, Feedback, PublicComment, summary_line
from consultation.pdf import RenderResult, Slice, render_report

PHRASES = [
    "建议进一步明确本办法的适用范围，避免基层执行中产生歧义", "第三条规定的办理期限过短，建议延长至三十个工作日",
    "对于小微企业和个体工商户应当给予不少于六个月的过渡期", "建议增加听证程序，保障利害关系人陈述和申辩的权利",
    "有关罚款数额的规定缺乏上位法依据，建议删除或者降低标准", "建议将“有关部门”修改为具体的行政机关名称，明确责任",
    "公示期间应当通过政府网站、政务新媒体和社区公告栏同步发布", "本条与《中华人民共和国行政处罚法》第二十二条的表述不一致",
    "希望在社区设立咨询点，方便老年人和残疾人了解政策内容", "建议对外卖骑手、网约车司机等新就业形态劳动者作出专门规定",
    "停车收费标准应当区分高峰时段和平峰时段，并向社会公布", "对违规行为的认定标准不够具体，建议细化情形并列举典型例子",
    "我是附近小区的居民，夜间施工噪声已经持续三个多月", "建议明确监督投诉渠道，并公布12345热线的受理时限",
    "数据共享应当遵守《个人信息保护法》，不得超出履职所必需的范围", "建议增设无障碍设施，方便轮椅和婴儿车通行",
    "养犬登记的费用偏高，建议对绝育犬只和老年人饲养的犬只予以减免", "物业服务企业退出时的交接程序应当写得更清楚",
    "垃圾分类投放点的设置应当征求业主意见，不宜设在单元门口", "电动自行车充电设施不足，建议在新建小区按比例配建",
]
REASONS = ["该意见已在修改稿中予以体现。", "上位法已有明确规定，本办法不再重复。",
           "经研究，该事项属于其他部门职责，已转有关部门研究处理。",
           "部分采纳：期限调整为二十个工作日，其余内容维持原规定，理由是需要兼顾行政效率与当事人权益保护。",
           "该建议涉及收费标准，须经价格主管部门依法定程序确定，本办法不作具体规定。"]
DECISIONS = [("adopted", "采纳"), ("partly_adopted", "部分采纳"), ("not_adopted", "未采纳"), ("explained", "作出说明")]
ARTICLES = ["对文件整体"] + [f"第{n}条" for n in "一二三四五六七八九十"] + [f"第十{n}条" for n in "一二三四五六七八九"]


def comment_text(rng: random.Random) -> str:
    """A Chinese comment of 30 to 600 characters, most of them short."""
    length = rng.choice([30, 45, 60, 80, 120, 180, 250, 400, 600]) if rng.random() < .85 else rng.randint(30, 600)
    text = ""
    while len(text) < length:
        text += rng.choice(PHRASES) + rng.choice("，。；")
    return text[:length - 1] + "。"


def feedback_data(rows: int, seed: int = 20261129) -> tuple[Feedback, list[Slice]]:
    """A feedback of ``rows`` rows over 20 articles (a few big ones), a third of them campaign rows."""
    rng = random.Random(seed)
    weights = [rng.choice([1, 1, 2, 5, 20]) for _ in ARTICLES]
    per_article = {label: [] for label in ARTICLES}
    for _ in range(rows):
        per_article[rng.choices(ARTICLES, weights)[0]].append(None)
    chunks, number, total, tally = [], 0, 0, {key: 0 for key, _ in DECISIONS}
    for label in ARTICLES:
        comments = []
        for _ in per_article[label]:
            number += 1
            decision, decision_label = rng.choice(DECISIONS)
            count = rng.randint(2, 5000) if rng.random() < 1 / 3 else 1
            total += count
            tally[decision] += count
            comments.append(PublicComment(number=number, body=comment_text(rng), decision=decision,
                                          decision_label=decision_label, reason=rng.choice(REASONS),
                                          masked_name=rng.choice([None, None, "王*明", "李**"]) if count == 1 else None,
                                          count=count))
        for start in range(0, len(comments), 300):  # as reports.py streams them: at most 300 rows a chunk
            chunks.append(Slice(label, comments[start:start + 300], start == 0))
    counts = AnswerCounts(total=total, adopted=tally["adopted"], partly_adopted=tally["partly_adopted"],
                          not_adopted=tally["not_adopted"], explained=tally["explained"], unanswered=0)
    groups = [ArticleGroup(key=i, label=label, anchor=f"a{i}", text="", comments=len(per_article[label]))
              for i, label in enumerate(ARTICLES) if per_article[label]]
    data = Feedback(document_id=1, title="华城市养犬管理办法", document_number="华政规〔2026〕3号",
                    department="华城市公安局", published_at=datetime.now(timezone.utc), counts=counts, groups=groups,
                    final_articles=[], policy_interpretation=None)
    return data, chunks


def plain_html(data: Feedback, summary: str, chunks: list[Slice]) -> str:
    """The same texts as plain blocks in one document, the same fonts and sizes: the bare baseline.

    Every text the project's PDF shows (title, summary, article headings, each row's heading line, text, masked
    name, campaign count and reason), as ``<div><p>`` without classes, borders or a page header.
    """
    esc = html.escape
    blocks = [f"<p>关于《{esc(data.title)}》公开征求意见采纳情况的反馈</p><p>{esc(summary)}</p>"]
    for s in chunks:
        if s.first:
            blocks.append(f"<p>{esc(s.label)}</p>")
        for c in s.rows:
            extra = (f"（{esc(c.masked_name)}）" if c.masked_name else "") + (f"（同类意见{c.count}条）" if c.count > 1 else "")
            blocks.append(f"<div><p>序号 {c.number} · {esc(s.label)} · 采纳情况：{esc(c.decision_label)}</p>"
                          f"<p>{esc(c.body)}{extra}</p><p>理由：{esc(c.reason)}</p></div>")
    return ('<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><style>'
            "@page { size: A4; margin: 28mm 20mm 24mm 20mm; }"
            'body { font: 9.5pt/1.55 "Noto Serif CJK SC", "Noto Sans CJK SC", serif; } p { margin: 0; }'
            "</style></head><body><div>" + "".join(blocks) + "</div></body></html>")


def _measure(what: str, rows: int, processes: int | None, per_chunk: int | None, app_config: dict[str, Any],
             sender) -> None:
    """In a forked process: render, then send (seconds, pages, bytes, own peak MB, children's peak MB, calls,
    CPU seconds of this process and its children). The app and the import of WeasyPrint are not timed: a
    worker has them already."""
    import weasyprint

    from consultation import pdf

    data, chunks = feedback_data(rows)
    summary = summary_line(data.counts)
    progress_calls = []
    if per_chunk:
        pdf.ROWS_PER_CHUNK = per_chunk
    app = create_app(app_config)
    cpu = _cpu()
    sampler = _TreeSampler()
    start = time.perf_counter()
    if what == "project":
        with app.app_context():
            result = render_report("pdf/feedback.html", {"feedback": data, "summary": summary}, chunks, rows=rows,
                                   processes=processes, progress=lambda done, total: progress_calls.append(done))
    else:
        document = weasyprint.HTML(string=plain_html(data, summary, chunks)).render()
        result = RenderResult(document.write_pdf(), len(document.pages))
    seconds = time.perf_counter() - start
    sampler.stop()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, sampler.child_peak)
    sender.send((seconds, result.pages, len(result.data), own, children, len(progress_calls),
                 _cpu() - cpu + sampler.child_cpu))


class _TreeSampler:
    """The largest resident size of any descendant and their CPU time, read every 50 ms: the layout children
    come from a fork server, so they are not this process's own children for getrusage."""

    def __init__(self) -> None:
        import threading

        self.child_peak = 0.0
        self.child_cpu = 0.0
        self._cpu: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(0.05):
            for child in me.children(recursive=True):
                try:
                    self.child_peak = max(self.child_peak, child.memory_info().rss / 2**20)
                    times = child.cpu_times()
                    self._cpu[child.pid] = times.user + times.system
                except psutil.Error:
                    pass

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self.child_cpu = sum(self._cpu.values())


def _cpu() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def measure(what: str, rows: int, processes: int | None, per_chunk: int | None, app_config: dict[str, Any]) -> tuple:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_measure, args=(what, rows, processes, per_chunk, app_config, sender))
    process.start()
    sender.close()  # so that a child that dies ends the wait with EOFError
    answer = receiver.recv()
    process.join()
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--processes", type=int, default=None, help="children for the layout (default: CPUs)")
    parser.add_argument("--rows-per-chunk", type=int, default=None,
                        help="override consultation.pdf.ROWS_PER_CHUNK")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each size this many times, project and plain alternating")
    parser.add_argument("--skip-plain-above", type=int, default=0,
                        help="do not run the plain baseline above this many rows (0: always run it)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    app_config = {"TESTING": True, "SECRET_KEY": "bench-secret-key-not-for-production",
                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
                  "PDF_DIR": str(workdir / "pdf"), "MAIL_DIR": str(workdir / "mail"),
                  "EMBEDDED_REDIS_FILE": str(workdir / "redis.rdb")}
    print(f"{'rows':>6} {'path':<8} {'seconds':>8} {'CPU s':>7} {'pages':>6} {'PDF MB':>7} {'peak MB':>8} "
          f"{'child MB':>8} {'chunks':>6} {'ratio':>6}")

    def line(rows: int, path: str, answer: tuple, ratio: str = "") -> None:
        seconds, pages, size, own, children, calls, cpu = answer
        print(f"{rows:>6} {path:<8} {seconds:>8.2f} {cpu:>7.2f} {pages:>6} {size / 1e6:>7.2f} {own:>8.0f} "
              f"{children:>8.0f} {calls or '':>6} {ratio:>6}", flush=True)

    for rows in args.rows:
        ratios = []
        for _ in range(args.repeat):
            project = measure("project", rows, args.processes, args.rows_per_chunk, app_config)
            line(rows, "project", project)
            if args.skip_plain_above and rows > args.skip_plain_above:
                continue
            plain = measure("plain", rows, None, None, app_config)
            ratios.append(project[0] / plain[0])
            line(rows, "plain", plain, f"{ratios[-1]:.2f}")
        if len(ratios) > 1:
            print(f"{rows:>6} {'median':<8} {'':>8} {'':>7} {'':>6} {'':>7} {'':>8} {'':>8} {'':>6} "
                  f"{statistics.median(ratios):>6.2f}", flush=True)


if __name__ == "__main__":
    main()

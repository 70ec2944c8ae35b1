"""PDF rendering with WeasyPrint: A4, Chinese fonts embedded (subset, once) as real text.

A report is laid out in chunks, in parallel, and merged into one PDF (DESIGN.md §8: time and memory grow
linearly with the rows, and no process holds the layout of all of them). The caller renders nothing itself:

    result = render_report(report.template, report.context, report.chunks(), rows=report.rows,
                           progress=lambda done, total: ...)   # -> RenderResult(data, pages)
    job_timeout = timeout_for(report.rows)

``report.chunks()`` yields the rows in the order of the report, as objects with ``label`` (the article),
``rows``, ``first`` (the chunk begins its article) and optionally ``total`` (the article's count, shown in the
article's heading); ``Slice`` is one. What each report is made of (REPORT_PARTS):

- pdf/feedback.html (context ``feedback``, ``summary``), rows of feedback.PublicComment in
  pdf/_feedback_rows.html;
- pdf/comment_summary.html (``title``, ``department``, ``window``, ``counts``), rows of reports.SummaryRow in
  pdf/_comment_rows.html with ``personal=True``;
- pdf/review_packet.html (``title``, ``department``, ``version``, ``counts``), rows in pdf/_comment_rows.html
  with ``personal=False``, then pdf/_packet_tail.html (``assessments``, ``rounds``).

The templates are rendered here, in the calling process (they need the app context; the chunks are read from
the database as the layout goes); only WeasyPrint's layout goes to child processes. Chunks are put together
(or cut) to about ROWS_PER_CHUNK rows; each starts a new page (its last page is left partly empty: a chunk
cannot go on where the previous one ends without waiting for its layout). The rows are blocks, not table rows
(pdf/_base.html, .row): WeasyPrint lays a table out at about twice the cost. The page header and "第 n 页 /
共 N 页" are stamped on every page by the merge (pdf_merge), so the numbers run on across chunks; a report it
cannot merge is laid out again in one pass. ``render_chunked`` does the same for HTML a caller rendered itself.
"""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import tempfile
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app, render_template

from .models import utcnow
from .pdf_merge import Laid, RenderResult, Shell, Unsupported, capture, merge

log = logging.getLogger(__name__)

ROWS_PER_CHUNK = 150  # rows laid out together: a few seconds in a child, ~300 MB at most; small ones balance
CHUNK_TIMEOUT = 600  # seconds for one chunk in a child before the rest is laid out in this process
SECONDS_PER_ROW = 0.025  # layout of one feedback row on one core of the shared box (bench/bench_pdf.py)

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
                          base_url=current_app.root_path, many=bool(rows and rows > ROWS_PER_CHUNK))


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
                   base_url: str | None = None, many: bool | None = None) -> RenderResult:
    """Lay out a report made of a front document and body fragments, and merge them into one PDF.

    ``front_html`` is a whole document from a template extending pdf/_base.html: its head (styles, page header)
    serves every chunk. Each of ``chunk_htmls`` is a body fragment laid out as a document of its own, starting
    on a new page; the first one goes on after the front. The fragments are consumed lazily, a few ahead of the
    layout. ``progress(done, total)`` is called after each chunk (``total``: given, or the length of
    ``chunk_htmls``, or 0 when unknown). ``processes``: child processes (default: one per CPU); 1, or a single
    chunk, lays out in this process. A report the merge cannot carry over (Unsupported) is laid out again in
    one pass, with WeasyPrint's own page header and numbers, and a warning in the log. ``many``: the caller
    knows there will be several chunks, so the children are started at once, while the first ones render.
    """
    shell = Shell.parse(front_html)
    if total is None and isinstance(chunk_htmls, Sequence):
        total = max(1, len(chunk_htmls))
    if many is None:
        many = bool(total and total > 1)
    spooled = 0

    def spool_fragments(spool: IO[str]) -> Iterator[str]:
        nonlocal spooled
        for fragment in chunk_htmls:
            spool.write(fragment)
            spooled += 1
            yield fragment

    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:  # the fragments again, for the one pass
        fragments = spool_fragments(spool)
        try:
            return merge(_lay_out_chunks(shell, fragments, processes, base_url, total or 0, progress, many),
                         shell)
        except Unsupported as error:
            log.warning("PDF %r: %s cannot be merged; laid out in one pass instead", shell.title, error)
            for _ in fragments:  # the fragments not rendered yet go to the spool too
                pass
            result = _one_pass(front_html, spool, base_url)
            if progress:
                progress(spooled, total or spooled)
            return result


def _configured_processes() -> int:
    """PDF_PROCESSES (default 0: one per CPU; 1: this process only)."""
    try:
        configured = current_app.config.get("PDF_PROCESSES", 0)
    except RuntimeError:  # outside an app context
        configured = 0
    return max(1, int(configured or len(os.sched_getaffinity(0))))


def _lay_out_chunks(shell: Shell, fragments: Iterator[str], processes: int | None, base_url: str | None,
                    total: int, progress: Callable[[int, int], None] | None, many: bool) -> list[Laid]:
    processes = processes or _configured_processes()
    starting = _start_pool(processes) if processes > 1 and many else None
    first = next(fragments, "")
    documents = _documents(shell, first, fragments)
    ahead = [next(documents)]
    second = next(documents, None)
    if second is not None:
        ahead.append(second)
    if processes > 1 and second is not None:
        pool = starting.result() if starting is not None else _context().Pool(processes)
        return _lay_out_in_children(_chain(ahead, documents), pool, processes, base_url, total, progress)
    if starting is not None:
        _end(starting.result())
    return _lay_out_here(_chain(ahead, documents), base_url, total, progress)


def _start_pool(processes: int) -> Future:
    """Start the children in a thread while this process renders the first chunks (the fork server loads
    WeasyPrint and the fonts first: most of a second)."""
    starter = ThreadPoolExecutor(1, thread_name_prefix="pdf-pool")
    try:
        return starter.submit(_context().Pool, processes)
    finally:
        starter.shutdown(wait=False)  # the thread ends once the pool has started


def _end(pool) -> None:
    pool.terminate()
    pool.join()


def _one_pass(front_html: str, spool: IO[str], base_url: str | None) -> RenderResult:
    """The whole report as one document, with its margin boxes and page counters; all of it in memory."""
    from weasyprint import HTML

    spool.seek(0)
    end = front_html.rindex("</body>")
    document = HTML(string=front_html[:end] + spool.read() + front_html[end:], base_url=base_url).render(
        font_config=_fonts())
    return RenderResult(document.write_pdf(), len(document.pages))


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
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the comment summary holds personal data
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target, digest


# --- The documents to lay out -------------------------------------------------------------------------------

def _documents(shell: Shell, first: str, fragments: Iterator[str]) -> Iterator[str]:
    yield shell.head + shell.front + first + shell.tail
    for fragment in fragments:
        yield shell.head + fragment + shell.tail


def _chain(ahead: list[str], rest: Iterator[str]) -> Iterator[str]:
    while ahead:
        yield ahead.pop(0)  # not held once handed out
    yield from rest


# --- Layout (in a child process, or here) -------------------------------------------------------------------

_font_config = None
_margin_boxes = threading.local()  # .skip: this thread is laying out a chunk
_patch_lock = threading.Lock()
_patch_users = 0


def _new_lock_in_child() -> None:
    global _patch_lock
    _patch_lock = threading.Lock()  # a thread of the parent may have held it; that thread is not in the child


os.register_at_fork(after_in_child=_new_lock_in_child)


def _fonts():
    """One FontConfiguration per process: fontconfig and the fonts are loaded once (and inherited by a fork)."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


@contextmanager
def _without_margin_boxes() -> Iterator[None]:
    """Skip WeasyPrint's margin boxes in this thread while it lays out a chunk: the merge stamps them.

    WeasyPrint 70 builds the 16 margin boxes of every page, with their styles, even when none has content:
    about 5 ms a page, a third of a page's layout. A chunk's head has no margin boxes (MARGINS_STYLE). The
    private layout.make_margin_boxes is replaced only while chunks are laid out, by a function that skips them
    only in a thread laying out a chunk (another thread's one-pass PDF keeps its margins), and is put back
    afterwards, also after an error.
    """
    global _patch_users
    from weasyprint import layout

    if not callable(getattr(layout, "make_margin_boxes", None)):  # another WeasyPrint: slower, still right
        yield
        return
    with _patch_lock:
        if _patch_users == 0:
            original = layout.make_margin_boxes

            def make_margin_boxes(context, page, state):
                return () if getattr(_margin_boxes, "skip", False) else original(context, page, state)

            make_margin_boxes.original = original
            layout.make_margin_boxes = make_margin_boxes
        _patch_users += 1
    outer, _margin_boxes.skip = getattr(_margin_boxes, "skip", False), True
    try:
        yield
    finally:
        _margin_boxes.skip = outer
        with _patch_lock:
            _patch_users -= 1
            if _patch_users == 0:
                layout.make_margin_boxes = layout.make_margin_boxes.original


def _lay_out(html: str, base_url: str | None) -> Laid:
    """Lay out and paint one document; return its pages' content streams and the glyphs of its fonts."""
    from weasyprint import HTML

    with _without_margin_boxes():
        document = HTML(string=html, base_url=base_url).render(font_config=_fonts())
    return capture(document)


def _lay_out_here(documents: Iterator[str], base_url: str | None, total: int,
                  progress: Callable[[int, int], None] | None) -> list[Laid]:
    laid = []
    for html in documents:
        laid.append(_lay_out(html, base_url))
        if progress:
            progress(len(laid), total)
    return laid


def _context():
    """Children forked by a fork server: a fresh, single-threaded process that imported WeasyPrint once (no lock
    of this process's threads is copied into them, and each child does not pay for the import)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "consultation.pdf_warm"])  # a child imports neither again
    return context


def _lay_out_in_children(documents: Iterator[str], pool, processes: int, base_url: str | None, total: int,
                         progress: Callable[[int, int], None] | None) -> list[Laid]:
    """Lay out the documents in a pool of children, rendering the next ones meanwhile.

    The children come from a fork server (_context) that loaded WeasyPrint and the fonts: they start warm, and
    they share nothing with this process (no database connection, no lock of its threads). A child that does
    not answer in CHUNK_TIMEOUT is ended with the pool, and what is left is laid out here.
    """
    laid: list[Laid] = []
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
        _end(pool)
        pool = None

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

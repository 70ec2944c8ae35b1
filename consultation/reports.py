"""The three PDF reports: what each shows, as a small front part and its rows streamed in chunks.

- 意见汇总表 (comment summary): every comment with the commenter's details, for the reviewers only;
- 送审材料 (review packet): the review draft, the explanation, the comment-handling table, the assessments
  and the opinions of earlier rounds, for the joint review;
- 意见采纳情况反馈 (adoption feedback): the public feedback, without personal data.

A report never holds all its rows: ``chunks()`` yields them article by article, at most CHUNK rows at a
time, read by keyset. Whether a report must be made again is decided by its content key
(services/jobs.content_key), not by reading its rows.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import feedback as public_feedback
from .extensions import db
from .i18n import local_time
from .models import Comment, Document, JobKind, VersionKind
from .services import comparison, consultations, drafting, jobs, review, tallies
from .services import co_units  # 会签单位 in the review packet
from .services import invitations  # 事前评估 in the review packet
from .services import offline  # 线下意见: the channels and the meetings in the review packet
from .workflow import signers

CHUNK = 300  # rows laid out together; a chunk is one article's rows or a slice of them


@dataclass(frozen=True)
class Chunk:
    label: str  # the article (第三条, or the draft as a whole)
    first: bool  # the first chunk of its article (it carries the article's heading)
    rows: list
    total: int | None = None  # the article's comments, for its heading


@dataclass(frozen=True)
class Report:
    kind: JobKind
    template: str
    title: str  # the Chinese name of the report, for the file name and the page header
    context: dict[str, Any]  # the front part: title, counts, the draft's text, the rounds...
    public: bool
    rows: int  # how many comments the report covers (its size: the job's timeout follows from it)
    chunks: Callable[[], Iterator[Chunk]] = field(repr=False, compare=False)

    def key(self, document: Document) -> str | None:
        return jobs.content_key(document, self.kind)


def feedback(document: Document) -> Report:
    """The public feedback PDF: the feedback's summary, then its rows (a group is one row with its size)."""
    data = public_feedback.build_feedback(document)
    document_id = document.id

    def chunks() -> Iterator[Chunk]:
        previous = None  # the renderer puts rows together or cuts them to its own chunk size
        for group, batch in public_feedback.stream(document_id, data.groups):
            yield Chunk(group.label, group.key != previous, batch, group.comments)
            previous = group.key

    return Report(JobKind.FEEDBACK_PDF, "pdf/feedback.html", "意见采纳情况反馈",
                  {"feedback": data, "summary": public_feedback.summary_line(data.counts),
                   "comparison": comparison.feedback_context(document),
                   "stage_line": _feedback_stage_line(document)}, public=True,
                  rows=data.counts.total, chunks=chunks)


def _feedback_stage_line(document: Document) -> str | None:
    """Before the final text, where the document stands; or its outcome (services/feedback_stage.py)."""
    from .services import feedback_stage

    state = feedback_stage.state(document)
    return None if state is None or state.final else feedback_stage.stage_line(state)


@dataclass(frozen=True)
class SummaryRow:
    number: int
    receipt: str
    received: str
    channel: str
    name: str
    organisation: str
    phone: str
    email: str
    body: str
    decision: str
    reason: str


def _comment_chunks(document: Document, *, personal: bool) -> Iterator[Chunk]:
    """Every comment by article in the order of the draft, numbered through, CHUNK at a time (keyset)."""
    number = 0
    for group in public_feedback.article_groups(document):
        after, first = 0, True
        article = Comment.article_id.is_(None) if group.key == 0 else Comment.article_id == group.key
        while True:
            batch = db.session.scalars(
                select(Comment).where(Comment.document_id == document.id, article, Comment.id > after)
                .options(selectinload(Comment.answer)).order_by(Comment.id).limit(CHUNK)).all()
            if not batch:
                break
            rows = []
            came = offline.received_labels(batch)  # a letter's, email's or meeting's date, not its logging
            for c in batch:
                number += 1
                rows.append(SummaryRow(
                    number=number, receipt=c.receipt_number, received=came.get(c.id) or local_time(c.created_at),
                    channel=c.channel,
                    name=(c.name or "") if personal else "", organisation=(c.organisation or "") if personal else "",
                    phone=(c.phone or "") if personal else "", email=(c.email or "") if personal else "",
                    body=c.body,
                    decision=str(public_feedback.DECISION_LABELS.get(c.answer.decision, "")) if c.answer else "未答复",
                    reason=c.answer.reason if c.answer else ""))
            yield Chunk("对文件整体" if group.key == 0 else group.label, first, rows, group.comments)
            first, after = False, batch[-1].id
            for c in batch:  # constant memory: the rows of a chunk are not kept in the session
                db.session.expunge(c)


def comment_summary(document: Document) -> Report:
    from dataclasses import asdict

    counts = public_feedback.answer_counts(tallies.counts(document=document))
    consultation = consultations.consultation_of(document)
    window = None
    if consultation is not None:
        window = {"opens_at": consultation.opens_at.isoformat(), "closes_at": consultation.closes_at.isoformat()}
    document_id = document.id
    return Report(JobKind.COMMENT_SUMMARY_PDF, "pdf/comment_summary.html", "意见汇总表", {
        "title": document.title, "department": document.department.name, "window": window, "counts": asdict(counts),
    }, public=False, rows=counts.total,
        chunks=lambda: _comment_chunks(db.session.get(Document, document_id), personal=True))


def review_packet(document: Document) -> Report:
    from dataclasses import asdict

    version = document.latest_version(VersionKind.REVIEW_DRAFT) or document.current_version
    counts = public_feedback.answer_counts(tallies.counts(document=document))
    rounds = [{
        "seq": r.seq, "version": r.version.seq, "status": r.status,
        "signoffs": [{"organ": s.organ, "organ_name": signers.name_zh(s.organ), "outcome": s.outcome,
                      "outcome_zh": signers.outcome_zh(s.outcome, s.organ),
                      "opinion": s.opinion, "response": s.response.response if s.response else ""}
                     for s in r.signoffs],
        "awaited": [signers.name_zh(key) for key in review.awaited(document, r)],
    } for r in review.rounds_of(document)]
    assessments = [{"kind": a.kind, "held_on": a.held_on.isoformat(), "participants": a.participants,
                    "conclusion": a.conclusion} for a in drafting.assessments_of(document)]
    document_id = document.id
    return Report(JobKind.REVIEW_PACKET_PDF, "pdf/review_packet.html", "送审材料", {
        "title": document.title, "department": document.department.name,
        "version": {"seq": version.seq, "sha256": version.sha256, "explanation": version.explanation,
                    "articles": [{"label": a.label, "chapter": a.chapter, "text": a.text} for a in version.articles]},
        "counts": asdict(counts), "rounds": rounds, "assessments": assessments,
        "invited": invitations.packet_context(document),  # 事前评估 by invited people (services/invitations.py)
        "co_units": [u.department.name for u in co_units.units_of(document)],
        "comparison": comparison.packet_context(document, version),
        "channels": public_feedback.channel_line(offline.channel_counts(document, counts.total)),
        "meetings": offline.packet_meetings(document),
    }, public=False, rows=counts.total,
        chunks=lambda: _comment_chunks(db.session.get(Document, document_id), personal=False))


BUILDERS: dict[str, Callable[[Document], Report]] = {
    JobKind.FEEDBACK_PDF.value: feedback,
    JobKind.COMMENT_SUMMARY_PDF.value: comment_summary,
    JobKind.REVIEW_PACKET_PDF.value: review_packet,
}


def build(kind: str, document_id: int) -> Report:
    document = db.session.get(Document, document_id)
    return BUILDERS[kind](document)

"""The three PDF reports and the content key that tells whether one must be made again.

- 意见汇总表 (comment summary): every comment with the commenter's details, for the reviewers only;
- 送审材料 (review packet): the review draft, the explanation, the comment-handling table, the assessments
  and the opinions of earlier rounds, for the joint review;
- 意见采纳情况反馈 (adoption feedback): the public feedback, without personal data.

A report is the template and the data it is rendered from. The content key is the SHA-256 of that data,
so a report whose data did not change is not rendered again (the time of generation is not data).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .extensions import db
from .models import Document, JobKind, VersionKind


@dataclass(frozen=True)
class Report:
    kind: JobKind
    template: str
    title: str  # the Chinese name of the report, for the file name and the page header
    context: dict[str, Any]
    public: bool

    @property
    def key(self) -> str:
        blob = json.dumps(_plain(self.context), ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(f"{self.kind.value}:{self.template}:{blob}".encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def feedback(document: Document, data=None) -> Report:
    """The public feedback PDF; ``data``: the feedback already built (in Chinese) by the caller."""
    from .feedback import build_feedback, summary_line

    data = data or build_feedback(document)
    return Report(JobKind.FEEDBACK_PDF, "pdf/feedback.html", "意见采纳情况反馈",
                  {"feedback": data, "summary": summary_line(data.counts)}, public=True)


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


@dataclass(frozen=True)
class SummaryGroup:
    label: str
    rows: list[SummaryRow]


def _comment_groups(document: Document, *, personal: bool) -> tuple[list[SummaryGroup], dict[str, int]]:
    """Every comment grouped by article in the order of the draft, with its answer."""
    from .feedback import DECISION_LABELS
    from .i18n import local_time
    from .services.answers import comments_of, count_answers

    comments = comments_of(document)
    groups: dict[str, list] = {}
    order: dict[str, tuple[int, int]] = {}
    for c in comments:
        label = c.article.label if c.article else "对文件整体"
        order.setdefault(label, (c.article.seq if c.article else 0, 0))
        groups.setdefault(label, []).append(c)
    result, number = [], 0
    for label in sorted(groups, key=lambda k: order[k]):
        rows = []
        for c in groups[label]:
            number += 1
            rows.append(SummaryRow(
                number=number, receipt=c.receipt_number, received=local_time(c.created_at), channel=c.channel,
                name=(c.name or "") if personal else "", organisation=(c.organisation or "") if personal else "",
                phone=(c.phone or "") if personal else "", email=(c.email or "") if personal else "",
                body=c.body, decision=str(DECISION_LABELS.get(c.answer.decision, "")) if c.answer else "未答复",
                reason=c.answer.reason if c.answer else "",
            ))
        result.append(SummaryGroup(label, rows))
    counts = count_answers(comments)
    return result, dataclasses.asdict(counts)


def comment_summary(document: Document) -> Report:
    from .services.consultations import consultation_of

    groups, counts = _comment_groups(document, personal=True)
    consultation = consultation_of(document)
    window = None
    if consultation is not None:
        window = {"opens_at": consultation.opens_at.isoformat(), "closes_at": consultation.closes_at.isoformat()}
    return Report(JobKind.COMMENT_SUMMARY_PDF, "pdf/comment_summary.html", "意见汇总表", {
        "title": document.title, "department": document.department.name, "window": window,
        "groups": groups, "counts": counts,
    }, public=False)


def review_packet(document: Document) -> Report:
    from .services import drafting, review

    version = document.latest_version(VersionKind.REVIEW_DRAFT) or document.current_version
    groups, counts = _comment_groups(document, personal=False)
    rounds = [{
        "seq": r.seq, "version": r.version.seq, "status": r.status,
        "signoffs": [{"organ": s.organ, "outcome": s.outcome, "opinion": s.opinion,
                      "response": s.response.response if s.response else ""} for s in r.signoffs],
    } for r in review.rounds_of(document)]
    assessments = [{"kind": a.kind, "held_on": a.held_on.isoformat(), "participants": a.participants,
                    "conclusion": a.conclusion} for a in drafting.assessments_of(document)]
    return Report(JobKind.REVIEW_PACKET_PDF, "pdf/review_packet.html", "送审材料", {
        "title": document.title, "department": document.department.name,
        "version": {"seq": version.seq, "sha256": version.sha256, "explanation": version.explanation,
                    "articles": [{"label": a.label, "chapter": a.chapter, "text": a.text} for a in version.articles]},
        "groups": groups, "counts": counts, "rounds": rounds, "assessments": assessments,
    }, public=False)


BUILDERS: dict[str, Callable[[Document], Report]] = {
    JobKind.FEEDBACK_PDF.value: feedback,
    JobKind.COMMENT_SUMMARY_PDF.value: comment_summary,
    JobKind.REVIEW_PACKET_PDF.value: review_packet,
}


def build(kind: str, document_id: int) -> Report:
    document = db.session.get(Document, document_id)
    return BUILDERS[kind](document)

"""What the API answers, as typed dicts built from the models and the services' dataclasses.

Only public data leaves this module. A commenter appears as the text of a published comment, as a
count, or (in the adoption feedback, with consent) as a masked name; never a name, organisation,
telephone, email or address. The contacts of a consultation are the drafting office's own.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from typing import TypedDict

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..feedback import DECISION_LABELS, HIDDEN_REASON_LABELS, Feedback, summary_line
from ..feedback import stream as stream_feedback
from ..models import Comment, Consultation, Department, Document, LibraryEvent, Moderation, utcnow
from ..receipts import display
from ..services import jobs, library, publication, tallies
from ..services.comment_lists import Page as CommentListPage
from ..services.consultations import SHANGHAI
from ..services.library import HistoryEntry
from ..services.publication import LibraryStatus
from ..services import feedback_stage
from ..services.status import feedback_public
from ..labels import LIBRARY_STATUSES, MODERATION_STATES, localized
from .listing import consultation_status


def when(value: datetime | None) -> str | None:
    """ISO 8601 in Beijing time with its offset: 2026-05-01T09:00:00+08:00."""
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds") if value else None


def local_minute(value: datetime) -> str:
    """A moment for a message: 2026-05-01 09:00, Beijing time."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class DepartmentOut(TypedDict):
    id: int
    name: str


def department(value: Department) -> DepartmentOut:
    return {"id": value.id, "name": value.name}


class Page(TypedDict):
    items: list
    page: int
    per_page: int
    total: int


# --- consultations ------------------------------------------------------------------------------

class ConsultationItem(TypedDict):
    id: int
    document_id: int
    title: str
    department: DepartmentOut
    opens_at: str
    closes_at: str
    status: str
    comment_count: int
    url: str
    api_url: str
    feedback_api_url: str | None


def consultation_item(consultation: Consultation, comment_count: int, now: datetime) -> ConsultationItem:
    document = consultation.document
    return {
        "id": consultation.id, "document_id": document.id, "title": document.title,
        "department": department(document.department), "opens_at": when(consultation.opens_at),
        "closes_at": when(consultation.closes_at), "status": consultation_status(consultation, now),
        "comment_count": comment_count,
        "url": url_for("public.consultation", consultation_id=consultation.id, _external=True),
        "api_url": url_for("api.consultation_detail", consultation_id=consultation.id, _external=True),
        "feedback_api_url": url_for("api.feedback", document_id=document.id, _external=True)
        if feedback_public(document, now) else None,
    }


class Contacts(TypedDict):
    contact_person: str | None
    contact_phone: str | None
    contact_email: str | None
    postal_address: str | None


class ExtensionOut(TypedDict):
    extended_at: str
    previous_closes_at: str
    new_closes_at: str
    reason: str


class ArticleOut(TypedDict):
    id: int
    seq: int
    label: str
    chapter: str | None
    text: str
    anchor: str
    comment_count: int
    published_count: int
    comments_url: str


class ConsultationDetail(ConsultationItem):
    notice: str
    short_period_reason: str | None
    contacts: Contacts
    extensions: list[ExtensionOut]
    explanation: str
    articles: list[ArticleOut]
    whole_draft_comment_count: int
    comments_url: str


def consultation_detail(consultation: Consultation, now: datetime) -> ConsultationDetail:
    """The consultation and its draft with counts; its published comments are a paged sub-resource."""
    per_article = tallies.per_article(consultation.id)
    published = tallies.per_article(consultation.id, Moderation.PUBLISHED.value)
    comments_url = url_for("api.consultation_comments", consultation_id=consultation.id, _external=True)
    return {
        **consultation_item(consultation, sum(per_article.values()), now),
        "notice": consultation.notice,
        "short_period_reason": consultation.short_period_reason,
        "contacts": {"contact_person": consultation.contact_person, "contact_phone": consultation.contact_phone,
                     "contact_email": consultation.contact_email, "postal_address": consultation.postal_address},
        "extensions": [{"extended_at": when(x.extended_at), "previous_closes_at": when(x.previous_closes_at),
                        "new_closes_at": when(x.new_closes_at), "reason": x.reason}
                       for x in consultation.extensions],
        "explanation": consultation.version.explanation,
        "articles": [{"id": a.id, "seq": a.seq, "label": a.label, "chapter": a.chapter, "text": a.text,
                      "anchor": a.anchor, "comment_count": per_article.get(a.id, 0),
                      "published_count": published.get(a.id, 0),
                      "comments_url": url_for("api.consultation_comments", consultation_id=consultation.id,
                                              article_id=a.id, _external=True)}
                     for a in consultation.version.articles],
        "whole_draft_comment_count": per_article.get(None, 0),
        "comments_url": comments_url,
    }


class PublishedComment(TypedDict):
    id: int
    article_id: int | None
    text: str
    count: int  # a group of identical or near-identical comments is shown once, with its size
    campaign_id: int | None


class CommentPage(TypedDict):
    items: list[PublishedComment]
    next_cursor: str | None
    next: str | None


def comment_page(consultation: Consultation, page: CommentListPage, **filters) -> CommentPage:
    return {
        "items": [{"id": t.id, "article_id": t.article_id, "text": t.text, "count": t.count,
                   "campaign_id": t.campaign_id} for t in page.items],
        "next_cursor": page.next_after,
        "next": url_for("api.consultation_comments", consultation_id=consultation.id, cursor=page.next_after,
                        _external=True, **{k: v for k, v in filters.items() if v is not None})
        if page.next_after else None,
    }


class CommentCreated(TypedDict):
    receipt_number: str
    receipt_display: str
    lookup_url: str
    lookup_page: str


def comment_created(comment: Comment) -> CommentCreated:
    return {
        "receipt_number": comment.receipt_number, "receipt_display": display(comment.receipt_number),
        "lookup_url": url_for("api.receipt", number=comment.receipt_number, _external=True),
        "lookup_page": url_for("public.receipt_lookup", _external=True),
    }


# --- receipts -----------------------------------------------------------------------------------

PROGRESS = {
    "consultation_open": _l("Received; the consultation is still open."),
    "being_considered": _l("Being considered by the drafting department; the answer will be shown here when the "
                           "feedback is published."),
    "answered": _l("Answered; the feedback has been published."),
    "ended": _l("Not answered: the document ended before its comments were answered."),
}


class ConsultationRef(TypedDict):
    id: int
    title: str
    url: str


class ArticleRef(TypedDict):
    id: int
    label: str


class AnswerOut(TypedDict):
    decision: str
    decision_label: str
    reason: str


class ReceiptOut(TypedDict):
    receipt_number: str
    receipt_display: str
    consultation: ConsultationRef
    article: ArticleRef | None
    received_at: str
    moderation: str
    moderation_label: str
    progress: str
    progress_label: str
    answer: AnswerOut | None
    feedback_url: str | None


def receipt(comment: Comment, now: datetime | None = None) -> ReceiptOut:
    """The status of one comment, as the receipt page shows it: the answer only once the feedback is public."""
    now = now or utcnow()
    consultation = comment.consultation
    document = consultation.document
    answered = feedback_public(document, now) and comment.answer is not None
    ended = feedback_stage.outcome(document) if feedback_public(document, now) else None
    progress = ("answered" if answered else "ended" if ended else "consultation_open" if consultation.is_open(now)
                else "being_considered")
    return {
        "receipt_number": comment.receipt_number, "receipt_display": display(comment.receipt_number),
        "consultation": {"id": consultation.id, "title": document.title,
                         "url": url_for("public.consultation", consultation_id=consultation.id, _external=True)},
        "article": {"id": comment.article.id, "label": comment.article.label} if comment.article else None,
        "received_at": when(comment.created_at),
        "moderation": comment.moderation,
        "moderation_label": str(MODERATION_STATES.get(comment.moderation, comment.moderation)),
        "progress": progress, "progress_label": str(PROGRESS[progress]),
        "answer": {"decision": comment.answer.decision, "decision_label": str(DECISION_LABELS[comment.answer.decision]),
                   "reason": comment.answer.reason} if answered else None,
        "feedback_url": url_for("public.feedback", document_id=document.id, _external=True)
        if feedback_public(document, now) else None,
        "outcome": outcome_out(ended),
    }


class OutcomeOut(TypedDict):
    stage: str
    label: str
    date: str | None
    reason: str


class FeedbackStageOut(TypedDict):
    status: str
    stage: str
    stage_label: str
    line: str
    outcome: OutcomeOut | None


def outcome_out(ended: feedback_stage.Outcome | None) -> OutcomeOut | None:
    """Not adopted or withdrawn: the final stage, its day and its reason (services/feedback_stage.py)."""
    if ended is None:
        return None
    return {"stage": ended.stage, "label": localized(ended.title, ended.title_en), "date": day(ended.on),
            "reason": ended.reason}


def feedback_stage_out(state: feedback_stage.FeedbackState) -> FeedbackStageOut:
    return {"status": state.status, "stage": state.stage, "stage_label": localized(state.stage_title, state.stage_title_en),
            "line": feedback_stage.stage_line(state), "outcome": outcome_out(state.outcome)}


# --- the adoption feedback ----------------------------------------------------------------------

# The groups, rows, counts and final articles are the feedback's own dataclasses (consultation/feedback.py,
# services/answers.py AnswerCounts) as dicts: the page, the PDF, the CSV and the API show the same fields.

class HiddenCount(TypedDict):
    reason: str
    label: str
    count: int


class FeedbackLinks(TypedDict):
    page: str
    pdf: str | None
    csv: str
    library: str


class FeedbackOut(TypedDict):
    document_id: int
    title: str
    document_number: str | None
    department: DepartmentOut
    published_at: str
    summary: str
    counts: dict[str, int]
    by_channel: dict[str, int]  # web, letter, email, meeting
    prior_assessments: dict | None  # 事前评估, counted apart (prior_assessments_out)
    hidden: list[HiddenCount]
    hidden_total: int
    groups: list[dict]
    final_articles: list[dict]
    policy_interpretation: str | None
    links: FeedbackLinks


HIDDEN_REASONS = (*HIDDEN_REASON_LABELS, "pending")  # "pending": not yet moderated, so not shown either


def prior_assessments_out(summary) -> dict | None:
    """事前评估 (services/invitations.PublicSummary): counts by kind and decision, each answer; an expert's
    name only with consent, nothing else of the people invited."""
    if summary is None:
        return None
    return {"summary": summary.line(), "total": summary.total, "by_kind": dict(summary.by_kind),
            "by_decision": dict(summary.by_decision),
            "items": [{"kind": i.kind, "named_expert": i.named, "decision": i.decision, "reason": i.reason,
                       "article_remarks": i.remarks} for i in summary.items]}


def feedback(document: Document, data: Feedback) -> Iterator[str]:
    """The feedback as JSON, streamed: the summary first, then every row, article by article (constant memory).

    The same fields as the page, the PDF and the CSV, from the feedback's own dataclasses. The summary is
    built now; only the rows are read while the answer is sent.
    """
    codes = {str(label): code for code, label in HIDDEN_REASON_LABELS.items()}
    codes[_("not yet moderated")] = "pending"
    pdf = jobs.current_feedback_pdf(document)
    c = data.counts
    head = {
        "document_id": document.id, "title": data.title, "document_number": data.document_number,
        "department": department(document.department), "published_at": when(data.published_at),
        "feedback_published_at": when(document.feedback_published_at),
        "stage": feedback_stage_out(feedback_stage.state(document)),
        "summary": summary_line(c),
        "counts": asdict(c),
        "by_channel": dict(data.channels),
        "prior_assessments": prior_assessments_out(data.prior_assessments),
        "hidden": [{"reason": codes.get(label, "pending"), "label": label, "count": n} for label, n in data.hidden.items()],
        "hidden_total": data.hidden_total,
        "final_articles": [asdict(a) for a in data.final_articles],
        "policy_interpretation": data.policy_interpretation,
        "links": {
            "page": url_for("public.feedback", document_id=document.id, _external=True),
            "pdf": url_for("public.feedback_pdf", document_id=document.id, _external=True) if pdf else None,
            "csv": url_for("public.feedback_csv", document_id=document.id, _external=True),
            "library": url_for("public.library_document", document_id=document.id, _external=True)
            if data.published_at else None,
        },
    }
    return _feedback_json(document.id, data, head)


def _feedback_json(document_id: int, data: Feedback, head: dict) -> Iterator[str]:
    dump = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    yield dump(head)[:-1] + ',"groups":['
    current = None
    for group, batch in stream_feedback(document_id, data.groups):
        if group.key != current:
            if current is not None:
                yield "]},"
            current = group.key
            yield dump({"label": group.label, "anchor": group.anchor, "text": group.text,
                        "comment_count": group.comments})[:-1] + ',"comments":['
            first = True
        yield ("" if first else ",") + ",".join(dump(asdict(row)) for row in batch)
        first = False
    yield ("]}" if current is not None else "") + "]}"


# --- the library --------------------------------------------------------------------------------

class DocumentRef(TypedDict):
    id: int
    title: str
    document_number: str | None
    url: str


class LibraryUrls(TypedDict):
    page: str
    feedback: str
    api: str


class PublicationTime(TypedDict):
    working_days: int
    limit_working_days: int
    late_by_working_days: int


def publication_time(document: Document) -> PublicationTime | None:
    if document.publication_working_days is None or document.publication_limit_days is None:
        return None
    return {"working_days": document.publication_working_days, "limit_working_days": document.publication_limit_days,
            "late_by_working_days": document.published_late_by}


class LibraryItem(TypedDict):
    id: int
    title: str
    document_number: str | None
    registration_number: str | None
    issuing_organ: str | None
    department: DepartmentOut
    signed_date: str | None
    published_at: str
    publication_time: PublicationTime | None
    effective_date: str | None
    valid_until: str | None
    status: str | None
    status_label: str | None
    topic: str | None
    urls: LibraryUrls


def status_label(status: LibraryStatus | str | None) -> str | None:
    if status is None:
        return None
    value = getattr(status, "value", status)
    return str(LIBRARY_STATUSES.get(value, value))


def library_item(document: Document, status: LibraryStatus | None) -> LibraryItem:
    return {
        "id": document.id, "title": document.title, "document_number": document.document_number,
        "registration_number": document.registration_number, "issuing_organ": library.issuing_organ(document),
        "department": department(document.department),
        "signed_date": day(document.signed_date), "published_at": when(document.published_at),
        "publication_time": publication_time(document), "effective_date": day(document.effective_date), "valid_until": day(document.valid_until),
        "status": status.value if status else None, "status_label": status_label(status), "topic": document.topic,
        "urls": {"page": url_for("public.library_document", document_id=document.id, _external=True),
                 "feedback": url_for("public.feedback", document_id=document.id, _external=True),
                 "api": url_for("api.library_document", document_id=document.id, _external=True)},
    }


class HistoryOut(TypedDict):
    day: str
    status: str
    status_label: str
    note: str
    by_document: DocumentRef | None
    by_reference: str | None


class ChangeOut(TypedDict):
    document: DocumentRef
    change: str
    change_label: str
    effective_on: str


class TextArticle(TypedDict):
    seq: int
    label: str
    chapter: str | None
    text: str
    anchor: str


class LibraryDetail(LibraryItem):
    history: list[HistoryOut]
    changed: list[ChangeOut]
    articles: list[TextArticle]
    policy_interpretation: str | None
    docx_url: str | None


def document_ref(document: Document) -> DocumentRef:
    return {"id": document.id, "title": document.title, "document_number": document.document_number,
            "url": url_for("public.library_document", document_id=document.id, _external=True)}


def library_detail(document: Document) -> LibraryDetail:
    final = publication.final_version(document)
    return {
        **library_item(document, publication.library_status(document)),
        "history": [_history(h) for h in library.history(document)],
        "changed": [_change(e) for e in library.changed_by(document)],
        "articles": [{"seq": a.seq, "label": a.label, "chapter": a.chapter, "text": a.text, "anchor": a.anchor}
                     for a in (final.articles if final else [])],
        "policy_interpretation": document.policy_interpretation,
        "docx_url": url_for("public.library_docx", document_id=document.id, name=document.title, _external=True)
        if final else None,
    }


def _history(entry: HistoryEntry) -> HistoryOut:
    return {"day": day(entry.day), "status": entry.status.value, "status_label": status_label(entry.status),
            "note": str(entry.note), "by_document": document_ref(entry.by_document) if entry.by_document else None,
            "by_reference": entry.by_reference}


def _change(event: LibraryEvent) -> ChangeOut:
    """A change this document made to another one: it amended or repealed it."""
    return {"document": document_ref(event.document), "change": event.change, "change_label": status_label(event.change),
            "effective_on": day(event.effective_on)}

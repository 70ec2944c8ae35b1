"""When the adoption feedback (意见采纳情况反馈) is public, and the outcome it is published with.

The work plan's item 二十一 asks that the public sees how its comments were handled before the review draft goes
to the executive meeting (及时公开公众意见建议采纳情况). Each procedure file names the stage from which the feedback
is public (``[feedback] public_from``); it is also published when the document ends without a final text (the
meeting did not adopt it, or the department withdrew it), with the date and reason, and it is updated at final
publication. The engine calls ``on_stage_entered`` inside every stage change, automatic ones included, so the
moment is the stage change itself, whoever or whatever took it.

A document that never had a consultation open (pre-disclosure skipped, or withdrawn before it) has no feedback
to publish: its feedback page stays absent, as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import BackgroundJob, Consultation, Document, JobKind, MeetingDecision, User, utcnow
from ..workflow import engine
from ..workflow.definition import Transition
from . import jobs, mailings
from .status import SHANGHAI, feedback_public, is_published

# The pages' words for where the document stands while its feedback is public before the final text.
STAGE_LINES = {
    "deliberation": _l("The review draft has been submitted to the executive meeting for deliberation; "
                       "the adoption of the public's comments is as follows."),
    "publication": _l("The executive meeting has adopted the document; the final text is being prepared for "
                      "publication. The adoption of the public's comments is as follows."),
}
STAGE_LINES_ZH = {
    "deliberation": "送审稿已提交常务会议审议；意见采纳情况如下。",
    "publication": "常务会议已审议通过，正式文本待公布；意见采纳情况如下。",
}


@dataclass(frozen=True)
class Outcome:
    """How a document ended without a final text: the final stage, its day and its reason."""

    stage: str  # the final stage: not_adopted, withdrawn
    title: str
    title_en: str
    on: date | None
    reason: str


@dataclass(frozen=True)
class FeedbackState:
    """What the public feedback says of the document's progress."""

    status: str  # "before_decision", "final" or "outcome"
    stage: str
    stage_title: str
    stage_title_en: str
    public_since: datetime
    outcome: Outcome | None = None

    @property
    def final(self) -> bool:
        return self.status == "final"

    @property
    def page_line(self) -> str:
        """Where the document stands before the final text, in the page's language."""
        from ..labels import localized

        line = STAGE_LINES.get(self.stage)
        if line is not None:
            return str(line)
        return str(_l("Current stage: %(stage)s. The adoption of the public's comments is as follows.",
                      stage=localized(self.stage_title, self.stage_title_en)))


def has_opened_consultation(document: Document, now: datetime) -> bool:
    return bool(db.session.scalar(select(exists().where(Consultation.document_id == document.id,
                                                        Consultation.opens_at <= now))))


def on_stage_entered(document: Document, transition: Transition, user: User | None, now: datetime) -> None:
    """Publish or update the feedback as the document enters ``transition.to`` (called by the engine)."""
    procedure = engine.procedure_of(document)
    stage = procedure.stages[transition.to]
    first = document.feedback_published_at is None
    if first:
        due = stage.final or transition.to == procedure.feedback_public_from
        # The final text always comes with its feedback (as before); anything earlier needs a consultation.
        if not due or (document.published_at is None and not has_opened_consultation(document, now)):
            return
        document.feedback_published_at = now
    outcome = stage.final and document.published_at is None
    if first or stage.final:
        audit.record("publish_feedback", actor=user, document=document,
                     payload={"stage": transition.to, "first": first, "outcome": transition.to if outcome else None})
    if first and not stage.final:
        mailings.start_feedback_mailing(document, mailings.FEEDBACK_BEFORE_DECISION)
    elif outcome:
        mailings.start_feedback_mailing(document, mailings.FEEDBACK_OUTCOME)
    # The published stage's own service requests the PDF after its last event; every other change while the
    # feedback is public makes it again (the stage line, the outcome).
    if document.published_at is None:
        request_pdf(document)


def request_pdf(document: Document) -> None:
    """Ask for the feedback PDF, once per transaction: the worker renders what is committed when it runs, so a
    job asked for earlier in this transaction (a meeting recorded and published at once) already covers it."""
    waiting = db.session.info.get(jobs._PENDING_KEY, [])
    if waiting and db.session.scalar(select(BackgroundJob.id).where(
            BackgroundJob.id.in_(waiting), BackgroundJob.document_id == document.id,
            BackgroundJob.kind == JobKind.FEEDBACK_PDF.value).limit(1)) is not None:
        return
    jobs.request(JobKind.FEEDBACK_PDF, document)


def withdraw(document: Document, user: User, reason: str, now: datetime | None = None) -> None:
    """撤回: the department head withdraws the document; the reason is published with the feedback."""
    now = now or utcnow()
    engine.perform(document, "withdraw", user, note=reason, now=now)
    document.withdrawn_on = now.astimezone(SHANGHAI).date()
    document.withdrawal_reason = reason.strip()
    audit.record("record_withdrawal", actor=user, document=document, note=reason.strip(),
                 payload={"withdrawn_on": document.withdrawn_on.isoformat(), "consultations": _end_consultations(
                     document, now)})


# A consultation withdrawn before its opening never opens: its window moves here, where no page, feed, search
# or announcement reaches it (they all follow opens_at).
NEVER = datetime(9999, 1, 1, tzinfo=timezone.utc)


def _end_consultations(document: Document, now: datetime) -> list[dict]:
    """Close an open consultation at the withdrawal; keep one not yet opened from ever opening."""
    from .. import search

    ended = []
    for consultation in db.session.scalars(select(Consultation).where(Consultation.document_id == document.id,
                                                                      Consultation.closes_at > now)):
        ended.append({"consultation_id": consultation.id, "opens_at": consultation.opens_at.isoformat(),
                      "closes_at": consultation.closes_at.isoformat(), "opened": consultation.opens_at <= now})
        if consultation.opens_at <= now:
            consultation.closes_at = now
        else:
            consultation.opens_at = consultation.closes_at = NEVER
            search.index_consultation(consultation)
    return ended


def outcome(document: Document) -> Outcome | None:
    """The outcome of a document that ended without a final text, else None."""
    stage = engine.procedure_of(document).stages.get(document.stage)
    if stage is None or not stage.final or document.published_at is not None:
        return None
    if document.decision == MeetingDecision.NOT_ADOPTED.value:
        on, reason = document.decision_date, document.decision_note or ""
    else:
        on, reason = document.withdrawn_on, document.withdrawal_reason or ""
    return Outcome(stage.id, stage.title, stage.title_en, on, reason)


def ended_clause():
    """SQL: the document ended without a final text (the twin of ``outcome``): a final stage, never published."""
    finals = sorted({s.id for p in engine.procedures().values() for s in p.stages.values() if s.final})
    return and_(Document.stage.in_(finals), Document.published_at.is_(None))


def recent_outcomes(now: datetime | None = None, days: int = 180, limit: int = 10) -> list[tuple[Document, Outcome]]:
    """The documents that ended without a final text in the last months and whose feedback is public, the most
    recent first, each with its outcome (the home page lists them apart from the consultations being handled)."""
    now = now or utcnow()
    documents = db.session.scalars(
        select(Document).where(ended_clause(), Document.feedback_published_at.is_not(None),
                               Document.feedback_published_at <= now,
                               Document.stage_entered_at > now - timedelta(days=days))
        .options(selectinload(Document.department))
        .order_by(Document.stage_entered_at.desc(), Document.id.desc()).limit(limit))
    return [(d, ended) for d in documents if (ended := outcome(d)) is not None]


def state(document: Document, now: datetime | None = None) -> FeedbackState | None:
    """Where the document stands, as its public feedback says; None while the feedback is not public."""
    if not feedback_public(document, now):
        return None
    stage = engine.procedure_of(document).stages[document.stage]
    ended = outcome(document)
    status = "final" if is_published(document, now) else "outcome" if ended else "before_decision"
    return FeedbackState(status, stage.id, stage.title, stage.title_en, document.feedback_published_at, ended)


def stage_line(current: FeedbackState) -> str:
    """The Chinese sentence for the PDF, the CSV and the feed (official texts are in Chinese)."""
    if current.outcome is not None:
        return outcome_line(current.outcome)
    if current.final:
        return "正式文本已公布；意见采纳情况如下。"
    return (STAGE_LINES_ZH.get(current.stage, f"当前阶段：{current.stage_title}；意见采纳情况如下。")
            + "正式文本公布前，答复仍可能调整。")


def outcome_line(ended: Outcome) -> str:
    when = f"（{ended.on.year}年{ended.on.month}月{ended.on.day}日）" if ended.on else ""
    return f"{ended.title}{when}：{ended.reason}" if ended.reason else f"{ended.title}{when}。"


def public_document(document_id: int, now: datetime | None = None) -> Document | None:
    """The document whose feedback is public, else None (the pages answer 404)."""
    document = db.session.get(Document, document_id)
    return document if document is not None and feedback_public(document, now) else None


def feed_entries(now: datetime, limit: int) -> list[tuple[datetime, str, str, str, str]]:
    """Atom entries for feedback published before the final text, and for outcomes (the final publication has
    its own entry in feeds.py)."""
    entries = []
    early = db.session.scalars(
        select(Document).where(Document.feedback_published_at.is_not(None), Document.feedback_published_at <= now,
                               (Document.published_at.is_(None)) | (Document.published_at > Document.feedback_published_at))
        .options(selectinload(Document.department)).order_by(Document.feedback_published_at.desc()).limit(limit))
    for d in early:
        link = url_for("public.feedback", document_id=d.id, _external=True)
        ended = outcome(d)
        if ended is None or d.stage_entered_at > d.feedback_published_at:  # published before the outcome
            entries.append((d.feedback_published_at, f"feedback-early-{d.id}", f"【意见采纳情况反馈】{d.title}",
                            link, f"{d.department.name}在正式文本公布前公布意见采纳情况，答复仍可能调整。"))
        if ended is not None:
            entries.append((d.stage_entered_at, f"feedback-outcome-{d.id}", f"【{ended.title}】{d.title}", link,
                            f"{d.department.name}：{outcome_line(ended)} 意见采纳情况一并公布。"))
    return entries


def feedback_letter(event: str, document: Document, receipt: str, page: str) -> tuple[str, str]:
    """The subject and first lines of the mail to a commenter for a feedback event before or without a final text."""
    if event == mailings.FEEDBACK_OUTCOME:
        ended = outcome(document)
        line = outcome_line(ended) if ended else ""
        return (f"【{ended.title if ended else '意见采纳情况'}】{document.title}",
                f"您就《{document.title}》提出了意见（回执编号 {receipt}）。该文件{line}\n"
                f"意见采纳情况及上述结果已一并公布：{page}\n")
    return (f"【意见采纳情况（提交常务会议审议前）】{document.title}",
            f"您就《{document.title}》提出的意见（回执编号 {receipt}）已有答复。送审稿已提交常务会议审议，"
            f"审议前公布意见采纳情况：{page}\n正式文本公布前，答复仍可能调整；公布后将另行通知。\n")

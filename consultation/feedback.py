"""The public adoption feedback (意见采纳情况反馈): one builder for the page, the PDF and exports.

Only what may be public leaves this module: no name, phone, email, organisation or address of a
commenter; a masked name where the commenter agreed.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l

from .models import AnswerDecision, Comment, Document, HiddenReason, Moderation
from .privacy import mask_name
from .services.answers import AnswerCounts, comments_of, count_answers
from .services.publication import final_version

DECISION_LABELS = {
    AnswerDecision.ADOPTED.value: _l("Adopted"),
    AnswerDecision.PARTLY_ADOPTED.value: _l("Partly adopted"),
    AnswerDecision.NOT_ADOPTED.value: _l("Not adopted"),
    AnswerDecision.EXPLAINED.value: _l("Answered without change"),
}


HIDDEN_REASON_LABELS = {
    HiddenReason.SPAM.value: _l("spam or meaningless content"),
    HiddenReason.ABUSE.value: _l("abuse"),
    HiddenReason.PERSONAL_DATA.value: _l("someone else's personal data"),
    HiddenReason.OFF_TOPIC.value: _l("off-topic"),
}


@dataclass(frozen=True)
class PublicComment:
    number: int
    body: str
    decision: str | None
    decision_label: str
    reason: str
    masked_name: str | None
    count: int = 1  # a campaign group: one representative text for this many comments
    hidden: bool = False


@dataclass(frozen=True)
class ArticleGroup:
    label: str  # 第三条, or the whole draft
    anchor: str
    text: str
    comments: list[PublicComment] = field(default_factory=list)


@dataclass(frozen=True)
class FinalArticle:
    label: str
    chapter: str | None
    text: str


@dataclass(frozen=True)
class Feedback:
    document_id: int
    title: str
    document_number: str | None
    department: str
    published_at: datetime | None
    counts: AnswerCounts
    groups: list[ArticleGroup]
    final_articles: list[FinalArticle]
    policy_interpretation: str | None
    hidden: dict[str, int] = field(default_factory=dict)  # reason label -> how many comments were hidden

    @property
    def hidden_total(self) -> int:
        return sum(self.hidden.values())


CSV_HEADER = ("序号", "条款", "意见建议", "意见人", "采纳情况", "理由")


def feedback_csv(feedback: Feedback) -> bytes:
    """The feedback table as CSV, UTF-8 with a BOM so that Excel opens the Chinese correctly.

    Only what the feedback page shows: a masked name where the commenter agreed, nothing else personal.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for group in feedback.groups:
        for c in group.comments:
            body = c.body if c.count == 1 else f"{c.body}（同类意见{c.count}条）"
            writer.writerow([c.number, group.label, _cell(body), c.masked_name or "", c.decision_label,
                             _cell(c.reason)])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(text: str) -> str:
    """Keep a spreadsheet from running a comment as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def summary_line(counts: AnswerCounts) -> str:
    """共收到意见N条，采纳a条，部分采纳p条，未采纳n条 (the official wording, kept in Chinese)."""
    line = (f"共收到意见{counts.total}条，采纳{counts.adopted}条，"
            f"部分采纳{counts.partly_adopted}条，未采纳{counts.not_adopted}条")
    if counts.explained:
        line += f"，作出说明{counts.explained}条"
    return line


def _hidden_text(reason: str | None) -> str:
    label = HIDDEN_REASON_LABELS.get(reason or "", _l("not yet moderated"))
    return str(_l("[Not shown publicly: %(reason)s]", reason=label))


def _public(comment: Comment, number: int, members: list[Comment] | None = None) -> PublicComment:
    """One row: a comment, or a campaign group shown by one published text with the group's size."""
    members = members or [comment]
    shown = next((c for c in members if c.moderation == Moderation.PUBLISHED.value), None)
    answer = comment.answer
    return PublicComment(
        number=number,
        body=shown.body if shown else _hidden_text(comment.hidden_reason),
        decision=answer.decision if answer else None,
        decision_label=str(DECISION_LABELS[answer.decision]) if answer else str(_l("Not yet answered")),
        reason=answer.reason if answer else "",
        masked_name=mask_name(shown.name) if shown and shown.show_masked_name and len(members) == 1 else None,
        count=len(members),
        hidden=shown is None,
    )


def _answer_key(comment: Comment) -> tuple[str, str] | None:
    return (comment.answer.decision, comment.answer.reason) if comment.answer else None


def _rows(comments: list[Comment], start: int) -> list[PublicComment]:
    """Number the comments of one article; a campaign whose members share one answer becomes one row."""
    groups: dict[int, list[Comment]] = {}
    for c in comments:
        if c.campaign_id is not None:
            groups.setdefault(c.campaign_id, []).append(c)
    rows: list[PublicComment] = []
    seen_campaigns: set[int] = set()
    number = start
    for c in comments:
        members = None
        group = groups.get(c.campaign_id) if c.campaign_id is not None else None
        if group and len(group) > 1 and len({_answer_key(m) for m in group}) == 1:
            if c.campaign_id in seen_campaigns:
                continue
            seen_campaigns.add(c.campaign_id)
            members = group
        number += 1
        rows.append(_public(c, number, members))
    return rows


def build_feedback(document: Document) -> Feedback:
    comments = comments_of(document)
    general = [c for c in comments if c.article_id is None]
    by_article: dict[int, list[Comment]] = {}
    for c in comments:
        if c.article_id is not None:
            by_article.setdefault(c.article_id, []).append(c)
    number = 0
    groups: list[ArticleGroup] = []
    if general:
        items = _rows(general, number)
        number = items[-1].number
        groups.append(ArticleGroup(str(_l("The draft as a whole")), "general", "", items))
    articles = sorted({c.article for c in comments if c.article is not None}, key=lambda a: a.seq)
    for article in articles:
        items = _rows(by_article[article.id], number)
        number = items[-1].number
        groups.append(ArticleGroup(article.label, article.anchor, article.text, items))
    hidden: dict[str, int] = {}
    for c in comments:
        if c.moderation != Moderation.PUBLISHED.value:
            label = str(HIDDEN_REASON_LABELS.get(c.hidden_reason or "", _l("not yet moderated")))
            hidden[label] = hidden.get(label, 0) + 1
    final = final_version(document)
    return Feedback(
        document_id=document.id,
        title=document.title,
        document_number=document.document_number,
        department=document.department.name,
        published_at=document.published_at,
        counts=count_answers(comments),
        groups=groups,
        final_articles=[FinalArticle(a.label, a.chapter, a.text) for a in (final.articles if final else [])],
        policy_interpretation=document.policy_interpretation,
        hidden=hidden,
    )

"""The comparison table (修改对照表) of two versions, its 修改说明 from the answers, and the answers' ties."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..comparison import ChangeKind, Comparison, Row, compare
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import (
    AnswerDecision, Article, Comment, CommentAnswer, Document, DocumentVersion, Moderation, VersionKind,
)
from ..models.comparison import AnswerArticle
from .consultations import consultation_of
from .status import final_version, is_published

ADOPTING = (AnswerDecision.ADOPTED.value, AnswerDecision.PARTLY_ADOPTED.value)
REASONS_PER_ARTICLE = 5  # answers named in one row; the rest are counted
EXCERPT = 60             # characters of a comment shown in the 修改说明 column


@dataclass(frozen=True)
class Reason:
    """An adopted answer tied to an article of a row: the cause of the change."""

    comment_id: int
    receipt_number: str | None  # staff only
    excerpt: str | None         # the comment's text: for the public only when published
    decision: str


@dataclass
class TableRow:
    row: Row
    reasons: list[Reason] = field(default_factory=list)
    more_reasons: int = 0  # tied answers beyond the ones named

    @property
    def adopted_without_change(self) -> bool:
        """An answer says the text was changed here, but the text is the same."""
        return bool(self.reasons) and not self.row.text_changed and self.row.kind is not ChangeKind.INSERTED

    @property
    def no_reason_stated(self) -> bool:
        return self.row.text_changed and not self.reasons and not self.more_reasons


@dataclass
class Table:
    old: DocumentVersion
    new: DocumentVersion
    comparison: Comparison
    rows: list[TableRow]

    @property
    def without_reason(self) -> list[TableRow]:
        return [r for r in self.rows if r.no_reason_stated]

    @property
    def adopted_without_change(self) -> list[TableRow]:
        return [r for r in self.rows if r.adopted_without_change]


def versions_of(document: Document) -> list[DocumentVersion]:
    return list(document.versions)


def version_of(document: Document, seq: int | None) -> DocumentVersion:
    found = next((v for v in document.versions if v.seq == seq), None)
    if found is None:
        raise NotFound(_("No such version of this document."))
    return found


def consulted_version(document: Document) -> DocumentVersion | None:
    """The consultation draft the public commented on (征求意见稿), else the first version."""
    consultation = consultation_of(document)
    if consultation is not None:
        return consultation.version
    return document.latest_version(VersionKind.CONSULTATION_DRAFT) or (document.versions[0] if document.versions else None)


def default_pair(document: Document) -> tuple[DocumentVersion, DocumentVersion]:
    """The consultation draft against the latest version."""
    return consulted_version(document), document.current_version


def _articles(version: DocumentVersion) -> list[Article]:
    return list(db.session.scalars(select(Article).where(Article.version_id == version.id).order_by(Article.seq)))


def compare_versions(old: DocumentVersion, new: DocumentVersion) -> Comparison:
    return compare(_articles(old), _articles(new))


def _tied_reasons(document: Document, old: DocumentVersion, new: DocumentVersion, *, public: bool
                  ) -> tuple[dict[int, list[Reason]], dict[int, int]]:
    """The answers tied to articles of the versions after ``old`` up to ``new``, by article seq of ``new``.

    A tie to an article of an intermediate version is carried to ``new`` through that version's alignment.
    At most REASONS_PER_ARTICLE answers per article are read (a window over one index range); the rest counted.
    """
    between = {v.id: v for v in document.versions if old.seq < v.seq <= new.seq}
    if not between:
        return {}, {}
    ranked = (select(AnswerArticle.version_id, AnswerArticle.article_id, AnswerArticle.answer_id,
                     func.row_number().over(partition_by=AnswerArticle.article_id,
                                            order_by=AnswerArticle.answer_id).label("rank"))
              .where(AnswerArticle.version_id.in_(between)).subquery())
    rows = db.session.execute(
        select(ranked.c.version_id, Article.seq, Comment.id, Comment.receipt_number, Comment.body,
               Comment.moderation, CommentAnswer.decision)
        .join(Article, Article.id == ranked.c.article_id)
        .join(CommentAnswer, CommentAnswer.id == ranked.c.answer_id)
        .join(Comment, Comment.id == CommentAnswer.comment_id)
        .where(ranked.c.rank <= REASONS_PER_ARTICLE, Comment.document_id == document.id)
        .order_by(ranked.c.version_id, Article.seq, Comment.id)).all()
    totals = db.session.execute(
        select(AnswerArticle.version_id, Article.seq, func.count())
        .join(Article, Article.id == AnswerArticle.article_id)
        .where(AnswerArticle.version_id.in_(between)).group_by(AnswerArticle.version_id, Article.seq)).all()
    carried: dict[int, dict[int, tuple[int, ...]]] = {}
    for version_id in {r[0] for r in totals} - {new.id}:
        carried[version_id] = compare(_articles(between[version_id]), _articles(new)).counterparts()

    def targets(version_id: int, seq: int) -> tuple[int, ...]:
        return (seq,) if version_id == new.id else carried[version_id].get(seq, ())

    reasons: dict[int, list[Reason]] = defaultdict(list)
    for version_id, seq, comment_id, receipt, body, moderation, decision in rows:
        published = moderation == Moderation.PUBLISHED.value
        excerpt = body if len(body) <= EXCERPT else body[:EXCERPT] + "…"
        reason = Reason(comment_id, None if public else receipt,
                        excerpt if published or not public else None, decision)
        for target in targets(version_id, seq):
            if reason not in reasons[target]:
                reasons[target].append(reason)
    more: dict[int, int] = defaultdict(int)
    for version_id, seq, n in totals:
        for target in targets(version_id, seq):
            more[target] += max(0, n - REASONS_PER_ARTICLE)
    return reasons, more


def table(document: Document, old: DocumentVersion, new: DocumentVersion, *, public: bool = False) -> Table:
    """The three-column table of ``old`` against ``new``, with the answers that caused each change."""
    comparison = compare_versions(old, new)
    reasons, more = _tied_reasons(document, old, new, public=public)
    rows = []
    for row in comparison.rows:
        named: list[Reason] = []
        for side in row.new:
            named += [r for r in reasons.get(side.seq, []) if r not in named]
        rows.append(TableRow(row, named, sum(more.get(side.seq, 0) for side in row.new)))
    return Table(old, new, comparison, rows)


def public_table(document: Document) -> Table | None:
    """The consultation draft against the final text, once the feedback is public (else None)."""
    final = final_version(document)
    consulted = consulted_version(document)
    if not is_published(document) or final is None or consulted is None:
        return None
    return table(document, consulted, final, public=True)


def changes_by_comment(document_id: int, comment_ids: Sequence[int]) -> dict[int, list[Article]]:
    """For the public feedback: the articles of the final text that each comment's adopted answer changed.

    Read for one page (or one streamed batch) of comments: one query for their ties, and one alignment per
    earlier version named by them (a tie names the revised version the drafter answered on; the alignment
    carries it to the final text, as in the comparison table).
    """
    document = db.session.get(Document, document_id)
    final = final_version(document) if document is not None and is_published(document) else None
    if final is None or not comment_ids:
        return {}
    ties = db.session.execute(
        select(CommentAnswer.comment_id, AnswerArticle.version_id, Article.seq)
        .join(AnswerArticle, AnswerArticle.answer_id == CommentAnswer.id)
        .join(Article, Article.id == AnswerArticle.article_id)
        .where(CommentAnswer.comment_id.in_(list(comment_ids)), CommentAnswer.decision.in_(ADOPTING))).all()
    if not ties:
        return {}
    final_articles = {a.seq: a for a in _articles(final)}
    carried = {version_id: compare(_articles(db.session.get(DocumentVersion, version_id)),
                                   list(final_articles.values())).counterparts()
               for version_id in {t.version_id for t in ties} - {final.id}}
    found: dict[int, set[int]] = defaultdict(set)
    for comment_id, version_id, seq in ties:
        found[comment_id].update((seq,) if version_id == final.id else carried[version_id].get(seq, ()))
    return {cid: [final_articles[s] for s in sorted(seqs) if s in final_articles] for cid, seqs in found.items()}


# The answer's ties (修改说明): an adopted answer names the articles of the revised version it changed.

@dataclass(frozen=True)
class TieChoices:
    version: DocumentVersion | None  # the revised version whose articles may be named (None: not revised yet)
    articles: list[Article]
    suggested: tuple[int, ...]       # article ids: the comment's article as aligned in the revised version
    tied: tuple[int, ...]            # article ids tied now


def revised_version(document: Document) -> DocumentVersion | None:
    """The version an answer's ties name: the latest one, once it is later than the consultation draft."""
    consulted, current = consulted_version(document), document.current_version
    if consulted is None or current is None or current.seq <= consulted.seq:
        return None
    return current


def tie_choices(document: Document, comment: Comment) -> TieChoices:
    version = revised_version(document)
    if version is None:
        return TieChoices(None, [], (), ())
    articles = _articles(version)
    tied = tuple(db.session.scalars(select(AnswerArticle.article_id).join(
        CommentAnswer, CommentAnswer.id == AnswerArticle.answer_id).where(
        CommentAnswer.comment_id == comment.id, AnswerArticle.version_id == version.id)))
    suggested: tuple[int, ...] = ()
    if comment.article is not None:
        seqs = compare(_articles(comment.article.version), articles).counterparts().get(comment.article.seq, ())
        suggested = tuple(a.id for a in articles if a.seq in seqs)
    return TieChoices(version, articles, suggested, tied)


def group_suggestions(document: Document) -> tuple[DocumentVersion | None, dict[int, list[Article]]]:
    """For the campaigns page: the revised version, and for each article of the consultation draft the articles
    of the revised version it became (one alignment for the whole page)."""
    version, consulted = revised_version(document), consulted_version(document)
    if version is None or consulted is None:
        return None, {}
    revised = {a.seq: a for a in _articles(version)}
    old = _articles(consulted)
    became = compare(old, list(revised.values())).counterparts()
    return version, {a.id: [revised[s] for s in became.get(a.seq, ()) if s in revised] for a in old}


def tie_answer(document: Document, answer: CommentAnswer, article_ids: Sequence[int]) -> list[int]:
    """Replace the articles an answer is tied to; only 采纳 and 部分采纳 are tied. Return the ids kept."""
    ids = sorted(set(article_ids))
    if answer.decision not in ADOPTING:
        ids = []
    version = revised_version(document)
    if ids and version is None:
        raise InvalidInput(_("Prepare the review draft before naming the articles an answer changed."))
    if ids:
        found = set(db.session.scalars(select(Article.id).where(Article.version_id == version.id,
                                                                Article.id.in_(ids))))
        if found != set(ids):
            raise InvalidInput(_("Choose articles of the latest version of the draft."))
    db.session.execute(delete(AnswerArticle).where(AnswerArticle.answer_id == answer.id))
    db.session.add_all([AnswerArticle(answer_id=answer.id, article_id=i, version_id=version.id) for i in ids])
    db.session.flush()
    return ids


# The PDFs' section (修改对照表): plain data for the PDF jobs, changed rows only. The review packet compares the
# consultation draft with the review draft; the public feedback with the final text, published comments only.

PDF_KINDS = {ChangeKind.UNCHANGED: "未修改", ChangeKind.MODIFIED: "修改", ChangeKind.INSERTED: "新增",
             ChangeKind.DELETED: "删除", ChangeKind.SPLIT: "拆分", ChangeKind.MERGED: "合并", ChangeKind.MOVED: "移动"}
PDF_DECISIONS = {AnswerDecision.ADOPTED.value: "采纳", AnswerDecision.PARTLY_ADOPTED.value: "部分采纳"}


def pdf_context(document: Document, result: Table, *, public: bool) -> dict:
    """The changed rows of ``result`` as the PDFs print them; never a receipt number nor anything personal."""

    def sides(articles) -> list[dict]:
        return [{"label": a.label, "segments": [[s.op.value, s.text] for s in a.segments]} for a in articles]

    def reason(c: Reason) -> str:
        return f"{PDF_DECISIONS.get(c.decision, '')}：{c.excerpt or '一条未公开的意见'}"

    rows = [{
        "kind": PDF_KINDS[r.row.kind] + ("（移动）" if r.row.moved and r.row.kind is not ChangeKind.MOVED else ""),
        "old": sides(r.row.old), "new": sides(r.row.new),
        "reasons": [reason(c) for c in r.reasons] + ([f"另有{r.more_reasons}条"] if r.more_reasons else []),
        "no_reason": r.no_reason_stated and not public, "adopted_without_change": r.adopted_without_change and not public,
    } for r in result.rows if r.row.text_changed or r.row.moved or (r.adopted_without_change and not public)]
    shown_unchanged = sum(1 for r in result.rows if r.row.kind is ChangeKind.UNCHANGED and not r.row.moved
                          and r.adopted_without_change and not public)
    return {"old_seq": result.old.seq, "old_kind": "征求意见稿", "new_seq": result.new.seq,
            "new_kind": "正式文本" if public else "送审稿", "rows": rows,
            "unchanged": result.comparison.counts[ChangeKind.UNCHANGED] - shown_unchanged}


def packet_context(document: Document, version: DocumentVersion) -> dict | None:
    """The review packet's section: the consultation draft against ``version`` (None: nothing to compare)."""
    consulted = consulted_version(document)
    if consulted is None or consulted.seq >= version.seq:
        return None
    return pdf_context(document, table(document, consulted, version), public=False)


def feedback_context(document: Document) -> dict | None:
    """The public feedback PDF's section: the consultation draft against the final text, once public."""
    result = public_table(document)
    return pdf_context(document, result, public=True) if result is not None else None

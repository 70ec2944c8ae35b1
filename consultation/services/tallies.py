"""The counts of a consultation's comments, kept as counters (``CommentTally``) beside the rows.

A page never counts a million comments: it sums a few counter rows. Every service that changes a
comment's state calls :func:`move` in the same transaction, so the counters cannot drift from the rows
(``flask comments recount`` rebuilds them from the rows should anything else ever change them).
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Comment, CommentTally, Consultation, Document, Moderation

SLOTS = 8  # new comments spread over this many rows per cell, so that writers seldom wait for one row lock

Cell = tuple[int, int, str, str, str]  # consultation, article key, moderation, hidden reason, decision


def _cell(consultation_id: int, article_id: int | None, moderation: str, hidden_reason: str | None,
          decision: str | None) -> Cell:
    return (consultation_id, article_id or 0, moderation,
            (hidden_reason or "") if moderation == Moderation.HIDDEN.value else "", decision or "")


def cell(comment: Comment) -> Cell:
    """The counter cell a comment is in."""
    return _cell(comment.consultation_id, comment.article_id, comment.moderation, comment.hidden_reason,
                 comment.decision)


def _upsert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def apply(deltas: Counter[Cell], *, spread: bool = False) -> None:
    """Add the deltas to their cells in one statement (in key order: two writers never deadlock)."""
    rows = [{"consultation_id": c[0], "article_key": c[1], "moderation": c[2], "hidden_reason": c[3],
             "decision": c[4], "slot": random.randrange(SLOTS) if spread else 0, "n": n}
            for c, n in sorted(deltas.items()) if n]
    if not rows:
        return
    insert = _upsert()
    statement = insert(CommentTally).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["consultation_id", "article_key", "moderation", "hidden_reason", "decision", "slot"],
        set_={"n": CommentTally.n + statement.excluded.n},
    )
    db.session.execute(statement)


# One new comment's +1: a fixed statement (compiled once), the same on PostgreSQL and SQLite.
_ADD_ONE = text(
    "INSERT INTO comment_tally (consultation_id, article_key, moderation, hidden_reason, decision, slot, n) "
    "VALUES (:consultation_id, :article_key, :moderation, :hidden_reason, :decision, :slot, 1) "
    "ON CONFLICT (consultation_id, article_key, moderation, hidden_reason, decision, slot) "
    "DO UPDATE SET n = comment_tally.n + 1")


def added(comment: Comment) -> None:
    """A new comment: +1 in its cell, on one of the cell's slots at random."""
    consultation_id, article_key, moderation, hidden_reason, decision = cell(comment)
    db.session.execute(_ADD_ONE, {"consultation_id": consultation_id, "article_key": article_key,
                                  "moderation": moderation, "hidden_reason": hidden_reason, "decision": decision,
                                  "slot": random.randrange(SLOTS)})


def moved(pairs: Iterable[tuple[Cell, Cell]]) -> None:
    """Comments that changed cell: -1 in the old, +1 in the new."""
    deltas: Counter[Cell] = Counter()
    for old, new in pairs:
        if old != new:
            deltas[old] -= 1
            deltas[new] += 1
    apply(deltas)


_KEEP = object()


def move_where(*conditions, moderation: str | object = _KEEP, hidden_reason: str | None | object = _KEEP,
               decision: str | object = _KEEP) -> int:
    """The comments matching ``conditions`` are about to take the given state: move their counts (one
    aggregate query, one upsert, whatever their number) and return how many change cell. Call it before
    the UPDATE that changes them."""
    deltas: Counter[Cell] = Counter()
    for cid, article, state, reason, answer, n in db.session.execute(
            select(Comment.consultation_id, Comment.article_id, Comment.moderation, Comment.hidden_reason,
                   Comment.decision, func.count()).where(*conditions)
            .group_by(Comment.consultation_id, Comment.article_id, Comment.moderation, Comment.hidden_reason,
                      Comment.decision)):
        old = _cell(cid, article, state, reason, answer)
        new = _cell(cid, article, state if moderation is _KEEP else moderation,
                    reason if hidden_reason is _KEEP else hidden_reason, answer if decision is _KEEP else decision)
        if old != new:
            deltas[old] -= n
            deltas[new] += n
    apply(deltas)
    return sum(-n for n in deltas.values() if n < 0)


@dataclass(frozen=True)
class Counts:
    """The counts of one document's (or consultation's) comments."""

    total: int
    by_moderation: dict[str, int]
    by_decision: dict[str, int]  # "" for the unanswered
    hidden_by_reason: dict[str, int]

    @property
    def unanswered(self) -> int:
        return self.by_decision.get("", 0)

    def moderation(self, state: str) -> int:
        return self.total if state == "all" else self.by_moderation.get(state, 0)


def _consultation_ids(document: Document) -> list[int]:
    return list(db.session.scalars(select(Consultation.id).where(Consultation.document_id == document.id)))


def counts(*, document: Document | None = None, consultation_id: int | None = None,
           article_key: int | None = None) -> Counts:
    ids = [consultation_id] if consultation_id is not None else _consultation_ids(document)
    query = (select(CommentTally.moderation, CommentTally.hidden_reason, CommentTally.decision,
                    func.sum(CommentTally.n))
             .where(CommentTally.consultation_id.in_(ids))
             .group_by(CommentTally.moderation, CommentTally.hidden_reason, CommentTally.decision))
    if article_key is not None:
        query = query.where(CommentTally.article_key == article_key)
    by_moderation: Counter[str] = Counter()
    by_decision: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    total = 0
    for state, reason, decision, n in db.session.execute(query) if ids else ():
        n = int(n or 0)
        total += n
        by_moderation[state] += n
        by_decision[decision] += n
        if state == Moderation.HIDDEN.value:
            hidden[reason] += n
    return Counts(total, dict(by_moderation), dict(by_decision), dict(hidden))


def per_article(consultation_id: int, moderation: str | None = None) -> dict[int | None, int]:
    """How many comments each article received (None: the whole draft): all of them, hidden and waiting
    ones included, or those in one moderation state."""
    query = (select(CommentTally.article_key, func.sum(CommentTally.n))
             .where(CommentTally.consultation_id == consultation_id).group_by(CommentTally.article_key))
    if moderation is not None:
        query = query.where(CommentTally.moderation == moderation)
    return {(key or None): int(n or 0) for key, n in db.session.execute(query)}


def totals(consultation_ids: list[int]) -> dict[int, int]:
    """How many comments each consultation received."""
    if not consultation_ids:
        return {}
    rows = db.session.execute(
        select(CommentTally.consultation_id, func.sum(CommentTally.n))
        .where(CommentTally.consultation_id.in_(consultation_ids)).group_by(CommentTally.consultation_id))
    return {cid: int(n or 0) for cid, n in rows}

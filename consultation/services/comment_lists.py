"""Every list of comments, paged in SQL by keyset: a page costs the same with ten comments or a million.

A page is ``limit`` rows after a cursor (the last row's id, or the last group's size and id); the next
page's cursor is given only when there is more. Nothing here loads more than one page of rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..extensions import db
from ..models import Comment, CommentCampaign, Consultation, Document, Moderation

T = TypeVar("T")
PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: str | None  # the cursor of the next page, None on the last one


def _page(rows: list, limit: int, cursor) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, cursor(rows[-1]) if more and rows else None)


def parse_cursor(value: str | None, parts: int = 1) -> tuple[int, ...] | None:
    """A cursor from a query string: ``"123"`` or ``"40.123"``; anything else is the first page."""
    if not value:
        return None
    try:
        numbers = tuple(int(p) for p in value.split("."))
    except ValueError:
        return None
    if len(numbers) != parts or any(n < 0 or n > 2**31 - 1 for n in numbers):
        return None
    return numbers


def _article(query, column, article_key: int | None):
    """article_key: None for all, 0 for the whole draft, else the article's id."""
    if article_key is None:
        return query
    return query.where(column.is_(None) if article_key == 0 else column == article_key)


# --- the public page: published texts, a group once with its size -------------------------------------

@dataclass(frozen=True)
class PublishedText:
    id: int
    article_id: int | None
    text: str
    count: int  # the comments of its group (1 for a comment in no group)
    campaign_id: int | None


def published_texts(consultation: Consultation, *, article_key: int | None = None, campaign_id: int | None = None,
                    after: int | None = None, limit: int = PAGE) -> Page[PublishedText]:
    """The texts the public may read, by article: each group once (its first published text) with its size;
    with ``campaign_id``, the published members of that group."""
    limit = max(1, min(limit, MAX_PAGE))
    if campaign_id is not None:
        query = select(Comment.id, Comment.article_id, Comment.body, Comment.campaign_id).where(
            Comment.consultation_id == consultation.id, Comment.campaign_id == campaign_id,
            Comment.moderation == Moderation.PUBLISHED.value)
    else:
        query = select(Comment.id, Comment.article_id, Comment.body, Comment.campaign_id).where(
            Comment.consultation_id == consultation.id, Comment.listed)
    query = _article(query, Comment.article_id, article_key)
    if after is not None:
        query = query.where(Comment.id > after)
    rows = db.session.execute(query.order_by(Comment.id).limit(limit + 1)).all()
    page = _page(rows, limit, lambda r: str(r.id))
    sizes = campaign_sizes({r.campaign_id for r in page.items if r.campaign_id is not None})
    single = campaign_id is not None
    return Page([PublishedText(r.id, r.article_id, r.body, 1 if single else sizes.get(r.campaign_id, 1),
                               r.campaign_id) for r in page.items], page.next_after)


def campaign_sizes(campaign_ids: set[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    return dict(db.session.execute(
        select(CommentCampaign.id, CommentCampaign.size).where(CommentCampaign.id.in_(campaign_ids))).all())


# --- the staff lists -----------------------------------------------------------------------------------

ANSWERED = ("answered", "unanswered")


def staff_comments(document: Document, *, article_key: int | None = None, moderation: str | None = None,
                   answered: str | None = None, campaign_id: int | None = None, copies: bool = True,
                   channel: str | None = None, after: int | None = None, limit: int = PAGE) -> Page[Comment]:
    """A document's comments for its staff, oldest first, with the filters of the comment and moderation lists.

    ``copies=False`` leaves out the exact copies of a group's first text (they are decided with it)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Comment).where(Comment.document_id == document.id)
    query = _article(query, Comment.article_id, article_key)
    if moderation:
        query = query.where(Comment.moderation == moderation)
    if answered == "answered":
        query = query.where(Comment.decision.is_not(None))
    elif answered == "unanswered":
        query = query.where(Comment.decision.is_(None))
    if campaign_id is not None:
        query = query.where(Comment.campaign_id == campaign_id)
    if channel is not None:  # letter, email, meeting or web: one range of ix_comment_document_channel
        query = query.where(Comment.channel == channel)
    if not copies:
        query = query.where(first_of_copies())
    if after is not None:
        query = query.where(Comment.id > after)
    rows = db.session.scalars(query.options(selectinload(Comment.article), selectinload(Comment.answer),
                                            selectinload(Comment.campaign))
                              .order_by(Comment.id).limit(limit + 1)).all()
    return _page(list(rows), limit, lambda c: str(c.id))


def _copy_or_first(comment):
    """SQL: the comment is its group's first text or an exact copy of it."""
    return comment.is_copy | exists().where(CommentCampaign.id == comment.campaign_id,
                                            CommentCampaign.representative_id == comment.id)


def first_of_copies():
    """SQL: the comment stands for itself in a moderation list: in no group, a near-identical variant, or
    the first of its group's first text and exact copies in its moderation state (which stands for them all)."""
    other = aliased(Comment)
    earlier = exists().where(other.campaign_id == Comment.campaign_id, other.moderation == Comment.moderation,
                             other.id < Comment.id, _copy_or_first(other))
    return Comment.campaign_id.is_(None) | ~_copy_or_first(Comment) | ~earlier


def is_group_row(comment: Comment) -> bool:
    """In a list filtered by ``first_of_copies``: the row decides its group's copies in its state."""
    return comment.campaign_id is not None and (comment.is_copy or comment.campaign.representative_id == comment.id)


def next_unanswered(document: Document, after: int | None = None) -> int | None:
    """The first unanswered comment after the given one (or from the start when none is left after it)."""
    query = select(Comment.id).where(Comment.document_id == document.id, Comment.decision.is_(None))
    if after is not None:
        found = db.session.scalar(query.where(Comment.id > after).order_by(Comment.id).limit(1))
        if found is not None:
            return found
    return db.session.scalar(query.order_by(Comment.id).limit(1))


COPIES_SHOWN = 1000  # beyond this the queue says "1000+": counting a group of 100,000 on every view is waste


def copies_in_state(campaign_ids: list[int], state: str) -> dict[int, int]:
    """How many of each group's first text and its exact copies are in the given moderation state, counted
    up to COPIES_SHOWN + 1 (one bounded index range per group on the page)."""
    found = {}
    for campaign_id in campaign_ids:
        capped = select(Comment.id).where(*copies_selection(campaign_id, state)).limit(COPIES_SHOWN + 1).subquery()
        found[campaign_id] = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return found


def copies_selection(campaign_id: int, state: str):
    """SQL conditions: the group's first text and exact copies in the given state (decided together)."""
    return (Comment.campaign_id == campaign_id, Comment.moderation == state, _copy_or_first(Comment))


def campaigns(document: Document, *, article_key: int | None = None, min_size: int = 2,
              after: tuple[int, int] | None = None, limit: int = 20) -> Page[CommentCampaign]:
    """The document's groups, largest first (then oldest), with their first text and article."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (select(CommentCampaign).join(Consultation, CommentCampaign.consultation_id == Consultation.id)
             .where(Consultation.document_id == document.id, CommentCampaign.size >= min_size))
    query = _article(query, CommentCampaign.article_id, article_key)
    if after is not None:
        size, last_id = after
        query = query.where(or_(CommentCampaign.size < size, and_(CommentCampaign.size == size, CommentCampaign.id > last_id)))
    rows = db.session.scalars(
        query.options(selectinload(CommentCampaign.representative), selectinload(CommentCampaign.article))
        .order_by(CommentCampaign.size.desc(), CommentCampaign.id).limit(limit + 1)).all()
    return _page(list(rows), limit, lambda g: f"{g.size}.{g.id}")

"""The staff dashboard's lists, filtered and paged in SQL (a city holds thousands of documents)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Document, User
from ..workflow import engine
from .comment_lists import Page
from . import co_units


def waiting_candidates(user: User, *, limit: int) -> list[Document]:
    """Visible documents in a stage where one of the user's roles has a step or an action, most urgent first."""
    pairs = engine.stages_for(user)
    if not pairs:
        return []
    in_stage = or_(*[and_(Document.procedure == p, Document.stage == s) for p, s in pairs],
                   co_units.awaiting_signature(user))  # a co-unit's head signs in the joint review
    return list(db.session.scalars(
        select(Document).where(engine.visible_to(user), in_stage).options(selectinload(Document.department))
        .order_by(Document.stage_entered_at, Document.id).limit(limit)))


def visible_documents(user: User, *, query: str = "", after: tuple[int, int] | None = None,
                      limit: int = 50) -> Page[Document]:
    """The documents the user may see, latest change first; ``query`` filters titles."""
    statement = select(Document).where(engine.visible_to(user))
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Document.title.like(f"%{escaped}%", escape="\\"))
    if after is not None:
        stamp, last_id = after
        moment = datetime.fromtimestamp(stamp // 10**6, tz=timezone.utc).replace(microsecond=stamp % 10**6)
        statement = statement.where(tuple_(Document.updated_at, Document.id) < tuple_(moment, last_id))
    rows = db.session.scalars(statement.options(selectinload(Document.department))
                              .order_by(Document.updated_at.desc(), Document.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = list(rows[:limit])
    cursor = f"{int(rows[-1].updated_at.timestamp() * 1_000_000)}.{rows[-1].id}" if more and rows else None
    return Page(rows, cursor)

"""Comments that did not come through the web form (线下意见): letters, emails and meetings.

The comment itself is an ordinary ``Comment`` (channel letter, email or meeting) in the same queue as the
web comments; these rows keep what the staff member recorded besides: when and how it arrived, the
meeting it was raised at, the sender's postal address and the scanned files. All of it is personal data
or internal material: never public.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .consultations import Comment
from .types import UTCDateTime, utcnow


class MeetingKind(str, enum.Enum):
    SYMPOSIUM = "symposium"  # 座谈会
    HEARING = "hearing"      # 听证会
    ARGUMENT = "argument"    # 论证会
    OTHER = "other"          # 其他会议


class OfflineMeeting(db.Model):
    """A meeting held on the draft (座谈会、听证会、论证会): each opinion raised there is a comment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)  # personal data: never public
    minutes: Mapped[str | None] = mapped_column(Text)  # 会议纪要: internal, staff only, never public
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship()


class OfflineComment(db.Model):
    """What a staff member recorded with a comment received off the web form."""

    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True)
    received_on: Mapped[date] = mapped_column(Date)  # 收到日期 (Beijing time)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an email's time of arrival
    postmarked_on: Mapped[date | None] = mapped_column(Date)  # 邮戳日期 of a letter
    postal_address: Mapped[str | None] = mapped_column(String(300))  # personal data
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("offline_meeting.id", ondelete="CASCADE"))

    comment: Mapped[Comment] = relationship()
    meeting: Mapped[OfflineMeeting | None] = relationship()


# A meeting's opinions, in the order they were entered (keyset by comment id).
Index("ix_offline_comment_meeting", OfflineComment.meeting_id, OfflineComment.comment_id)
# The staff list filtered by channel, a keyset range; and the feedback's exact count of the few offline comments.
Index("ix_comment_document_channel", Comment.document_id, Comment.channel, Comment.id)


class OfflineAttachment(db.Model):
    """A scanned letter, a printed email or a meeting's minutes: stored by content hash under the instance
    folder, owner-only, downloaded only by signed-in staff who may see the document."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("offline_meeting.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(40))  # from the file's first bytes, never its name
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded; shown to staff only
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

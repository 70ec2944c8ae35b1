"""Background work requested by the service: an outbox row per job, with its state."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Department
from .documents import Document
from .types import UTCDateTime, utcnow


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed; the worker queues it again at ``retry_at``
    DONE = "done"
    FAILED = "failed"      # every attempt failed: staff see the error and may run it again


ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.RETRYING.value)


class JobKind(str, enum.Enum):
    FEEDBACK_PDF = "feedback_pdf"                # 意见采纳情况反馈 (public)
    COMMENT_SUMMARY_PDF = "comment_summary_pdf"  # 意见汇总表 (internal: with the commenters' details)
    REVIEW_PACKET_PDF = "review_packet_pdf"      # 送审材料 (internal: for the joint review)
    MAIL = "mail"                                # one notification by email


class BackgroundJob(db.Model):
    """A job the service asked for; saved with the change that caused it.

    The row, not Redis, is the truth about a job: the sweeper puts on the queue what the row says is due
    (never sent, lost by Redis, due for a retry, left by a dead worker).
    """

    __table_args__ = (
        # The sweeper's pages (the outbox, lost and due jobs) and a document's job list, keyset by id.
        Index("ix_background_job_state_id", "state", "id"),
        Index("ix_background_job_document_id_id", "document_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED.value)
    rq_job_id: Mapped[str | None] = mapped_column(String(80))
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    # For staff: one short line. The traceback goes to the worker's log and ``error_detail`` (administrators).
    error: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    # When a retrying job goes on the queue again: set by the worker, from its own settings, as the attempt fails.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    # The SHA-256 of the data the file is made from: the same content is not rendered twice.
    content_key: Mapped[str | None] = mapped_column(String(64), index=True)
    progress: Mapped[int] = mapped_column(default=0)  # percent, for the job page
    # Written every few seconds while a worker runs the job; a silent one means the worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))

    document: Mapped[Document | None] = relationship()
    notification: Mapped[Notification | None] = relationship()


class Notification(db.Model):
    """One email to one person about one event. The key makes the same event notify a person once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(60))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transport: Mapped[str | None] = mapped_column(String(300))  # "smtp host:port" or the .eml file written


class Subscription(db.Model):
    """Someone who asked to hear of new consultations (of one department, or of all). Confirmed by a link
    sent to the address; every mail carries the link that ends it. The address is never shown publicly."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department | None] = relationship()

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.ended_at is None

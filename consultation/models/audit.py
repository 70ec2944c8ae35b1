"""The append-only audit trail, chained by SHA-256, and the signed checkpoints of its head."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    action: Mapped[str] = mapped_column(String(60))
    from_stage: Mapped[str | None] = mapped_column(String(60))
    to_stage: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship()


# A document's latest events first (its timeline, the fingerprint of its reports).
Index("ix_audit_event_document_latest", AuditEvent.document_id, AuditEvent.id)


class AuditCheckpoint(db.Model):
    """The chain's head at a moment, signed with a key kept outside the database (consultation/audit_keys.py).

    No foreign key to the head entry: a checkpoint must outlive the removal of what it witnesses.
    """

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_event_id: Mapped[int] = mapped_column(index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))

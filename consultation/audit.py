"""Append-only audit trail whose entries are chained by SHA-256, so that tampering shows."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update

from .extensions import db
from .models import AuditEvent, Comment, Document, User, utcnow

GENESIS = "0" * 64
SYSTEM_ACTOR = "system"


def _content_hash(event: AuditEvent) -> str:
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "document_id": event.document_id,
        "action": event.action,
        "from_stage": event.from_stage,
        "to_stage": event.to_stage,
        "note": event.note,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
    }
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record(
    action: str,
    *,
    actor: User | None,
    actor_label: str | None = None,
    document: Document | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    note: str = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the trail in the current transaction."""
    if db.engine.dialect.name == "postgresql":
        # Serialise writers so that two transactions never chain onto the same predecessor.
        db.session.execute(text("SELECT pg_advisory_xact_lock(7346001)"))
    previous = db.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_label=actor.display_name if actor else (actor_label or SYSTEM_ACTOR),
        document_id=document.id if document else None,
        action=action,
        from_stage=from_stage,
        to_stage=to_stage,
        note=note or "",
        payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True),
        prev_hash=previous or GENESIS,
    )
    event.hash = _content_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


# A public comment is not chained as it arrives: every writer would wait for the one before (the chain is
# a single sequence). Its content is sealed moments later by the clock, in batches, one event per document
# and batch whose payload carries the digest of the batch's rows; verify_chain recomputes it from the rows.
SEALED_ACTION = "comments_received"
_SEALED_FIELDS = ("id", "consultation_id", "document_id", "article_id", "receipt_number", "body", "channel",
                  "name", "organisation", "phone", "email", "show_masked_name", "created_at", "logged_by_id")


def comment_digest(row) -> str:
    """The SHA-256 of a comment's content as received (not its later moderation or answer)."""
    content = {name: getattr(row, name) for name in _SEALED_FIELDS}
    content["created_at"] = content["created_at"].replace(microsecond=0).isoformat() if content["created_at"] else None
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def batch_digest(rows) -> str:
    """The digest of a batch of comments, in id order."""
    hasher = hashlib.sha256()
    for row in rows:
        hasher.update(f"{row.id}:{comment_digest(row)}\n".encode())
    return hasher.hexdigest()


def _sealed_columns():
    return [getattr(Comment, name) for name in _SEALED_FIELDS]


def seal(comments: list) -> None:
    """Seal the given comments (taken in by services/intake.py, in id order) into the chain: one event per
    document and batch, whose payload carries the digest of the batch's rows. In the caller's transaction."""
    by_document: dict[int, list] = {}
    for comment in comments:
        by_document.setdefault(comment.document_id, []).append(comment)
    for document_id, batch in sorted(by_document.items()):
        event = record(SEALED_ACTION, actor=None, actor_label="public", document=db.session.get(Document, document_id),
                       payload={"count": len(batch), "first_id": batch[0].id, "last_id": batch[-1].id,
                                "digest": batch_digest(batch)})
        db.session.execute(update(Comment).where(Comment.id.in_([c.id for c in batch]))
                           .values(chained_in_id=event.id).execution_options(synchronize_session=False))
    for comment in comments:
        db.session.expire(comment, ["chained_in_id"])


def _sealed_batch_problem(event: AuditEvent) -> str | None:
    payload = json.loads(event.payload or "{}")
    rows = db.session.execute(select(*_sealed_columns()).where(Comment.chained_in_id == event.id)
                              .order_by(Comment.id)).all()
    if len(rows) != payload.get("count") or batch_digest(rows) != payload.get("digest"):
        return "the comments sealed by this entry were changed or removed"
    return None


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    problem: str | None


def verify_chain() -> ChainReport:
    """Walk the trail in order; report the first entry whose hash or link does not match."""
    expected_prev, checked = GENESIS, 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.id, "link to the previous entry is broken (an entry was removed or reordered)")
        if _content_hash(event) != event.hash:
            return ChainReport(checked, event.id, "content does not match its hash (the entry was edited)")
        if event.action == SEALED_ACTION and (problem := _sealed_batch_problem(event)):
            return ChainReport(checked, event.id, problem)
        expected_prev, checked = event.hash, checked + 1
    return ChainReport(checked, None, None)


def timeline(document: Document, *, before: int | None = None, limit: int = 100) -> list[AuditEvent]:
    """The document's latest ``limit`` events (before the event ``before``, for the earlier ones), oldest first."""
    query = select(AuditEvent).where(AuditEvent.document_id == document.id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(reversed(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()))

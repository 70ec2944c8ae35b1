"""Append-only audit trail whose entries are chained by SHA-256, so that tampering shows."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from .extensions import db
from .models import AuditEvent, Document, User, utcnow

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
        expected_prev, checked = event.hash, checked + 1
    return ChainReport(checked, None, None)


def timeline(document: Document) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.document_id == document.id).order_by(AuditEvent.id)
        )
    )

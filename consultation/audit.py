"""Append-only audit trail whose entries are chained by SHA-256, so that tampering shows.

The chain alone does not show its newest entries removed, nor an edit followed by a recomputation of every
later hash with the public SHA-256. So its head is checkpointed: signed with a key kept outside the database
(audit_keys), by the clock (checkpoint_if_due, from the worker's sweep) and at each publication, and published
(the API, the Atom feed, the feedback page and PDF) where others keep copies. ``verify_chain`` checks the chain
and every checkpoint against it, and against a copy when given one.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text, update

from . import audit_keys
from .extensions import db
from .models import AuditEvent, Comment, Document, User, utcnow
from .models.audit import AuditCheckpoint

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SYSTEM_ACTOR = "system"
_CHAIN_LOCK = 7346001  # pg_advisory_xact_lock key: one writer of the chain and its checkpoints at a time


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
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
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


# --- checkpoints: the head, signed with a key kept outside the database ---------------------------------

CHECKPOINT_REASONS = ("daily", "publication", "manual", "key_rotation")
DAILY, PUBLICATION, MANUAL, KEY_ROTATION = CHECKPOINT_REASONS
CHECKPOINT_SECONDS = 24 * 3600  # AUDIT_CHECKPOINT_SECONDS: how often the clock signs the head
BEIJING = timezone(timedelta(hours=8))  # signed times carry +08:00 (no summer time in China), as the API shows them


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint, as stored, as published, and as kept by others."""

    seq: int
    head_event_id: int
    head_hash: str
    event_count: int  # entries from the first up to the head, the head included
    created_at: datetime
    reason: str
    key_id: str
    signature: str  # Ed25519 over message(), in hex

    def signed_fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "head_event_id": self.head_event_id, "head_hash": self.head_hash,
                "event_count": self.event_count,
                "created_at": self.created_at.astimezone(BEIJING).isoformat(timespec="seconds"),
                "reason": self.reason, "key_id": self.key_id}

    def message(self) -> bytes:
        """What the signature covers: the signed fields as JSON, keys sorted, without spaces, in UTF-8."""
        return json.dumps(self.signed_fields(), sort_keys=True, separators=(",", ":")).encode()

    def public(self) -> dict[str, Any]:
        return {**self.signed_fields(), "algorithm": audit_keys.ALGORITHM, "signature": self.signature}

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(row.seq, row.head_event_id, row.head_hash, row.event_count, row.created_at, row.reason,
                   row.key_id, row.signature)

    @classmethod
    def from_public(cls, item: Any) -> Checkpoint:
        """A checkpoint as public() gave it (a copy kept by someone else); ValueError if it is not one."""
        try:
            created_at = datetime.fromisoformat(item["created_at"])
            if created_at.tzinfo is None:
                raise ValueError("created_at has no UTC offset")
            return cls(int(item["seq"]), int(item["head_event_id"]), str(item["head_hash"]),
                       int(item["event_count"]), created_at, str(item["reason"]), str(item["key_id"]),
                       str(item["signature"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a checkpoint: {exc!r}") from exc


class ChainBroken(Exception):
    """The trail no longer continues the last checkpoint: its head is not signed."""


def _lock_chain() -> None:
    """Hold the chain until the transaction ends (SQLite: its write lock, taken before reading)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    else:
        db.session.execute(text("UPDATE audit_checkpoint SET seq = seq WHERE 0 = 1"))


def _last_checkpoint() -> Checkpoint | None:
    row = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()
    return Checkpoint.of(row) if row is not None else None


def checkpoint(reason: str, *, now: datetime | None = None) -> Checkpoint | None:
    """Sign the chain's head in the current transaction; None when nothing was recorded since the last one.

    Only the entries recorded since the last checkpoint are read, and the count runs on from it: a checkpoint
    costs what was recorded since, not the size of the trail. A head that does not continue the last
    checkpoint is never signed (ChainBroken).
    """
    _lock_chain()
    head = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    last = _last_checkpoint()
    if head is None or (last is not None and (last.head_event_id, last.head_hash) == (head.id, head.hash)):
        return None
    expected, count, after = (last.head_hash, last.event_count, last.head_event_id) if last else (GENESIS, 0, 0)
    if last is not None and (problem := audit_keys.check(audit_keys.trusted_keys(), last.key_id, last.message(),
                                                         last.signature)):
        raise ChainBroken(f"checkpoint {last.seq}: {problem}")
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.id > after, AuditEvent.id <= head.id)
                                    .order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != expected or _content_hash(event) != event.hash:
            break
        expected, count = event.hash, count + 1
    if expected != head.hash:
        raise ChainBroken(f"the trail no longer continues checkpoint {last.seq if last else 0}: "
                          "run `flask audit verify` to see where")
    key = audit_keys.signing_key()
    unsigned = Checkpoint(last.seq + 1 if last else 1, head.id, head.hash, count,
                          (now or utcnow()).replace(microsecond=0), reason, audit_keys.key_id(key.public_key()), "")
    taken = replace(unsigned, signature=key.sign(unsigned.message()).hex())
    db.session.add(AuditCheckpoint(**asdict(taken)))
    db.session.flush()
    return taken


def try_checkpoint(reason: str, *, now: datetime | None = None) -> Checkpoint | None:
    """checkpoint() for the clock and the publication: a fault is logged (``audit verify`` names it), not raised."""
    try:
        return checkpoint(reason, now=now)
    except ChainBroken as exc:
        log.error("audit checkpoint (%s) not taken: %s", reason, exc)
    except (OSError, ValueError):  # the key file cannot be read or written
        log.exception("audit checkpoint (%s) not taken: the signing key is not usable", reason)
    return None


def checkpoint_if_due(now: datetime | None = None) -> Checkpoint | None:
    """The clock's checkpoint, from the worker's sweep: the head is signed when the last checkpoint is older than
    AUDIT_CHECKPOINT_SECONDS (a day) and something was recorded since. Two indexed look-ups when not due. Commits."""
    now = now or utcnow()
    interval = timedelta(seconds=current_app.config.get("AUDIT_CHECKPOINT_SECONDS", CHECKPOINT_SECONDS))

    def due() -> bool:
        last = db.session.execute(select(AuditCheckpoint.created_at, AuditCheckpoint.head_event_id)
                                  .order_by(AuditCheckpoint.seq.desc()).limit(1)).first()
        if last is not None and now - last.created_at < interval:
            return False
        head = db.session.scalar(select(func.max(AuditEvent.id)))
        return head is not None and (last is None or head != last.head_event_id)

    if not due():
        return None
    _lock_chain()
    taken = try_checkpoint(DAILY, now=now) if due() else None  # another worker may have taken it meanwhile
    db.session.commit()
    return taken


def checkpoints(*, after: int = 0, limit: int = 100) -> list[Checkpoint]:
    """The checkpoints after number ``after``, oldest first (keyset)."""
    rows = db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.seq > after)
                              .order_by(AuditCheckpoint.seq).limit(limit))
    return [Checkpoint.of(row) for row in rows]


def latest_checkpoint() -> Checkpoint | None:
    return _last_checkpoint()


def publication_checkpoint(document: Document) -> Checkpoint | None:
    """The first checkpoint covering the document's publication: its head is the publication entry or later."""
    published = db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.document_id == document.id,
                                                                        AuditEvent.action == "publish"))
    if published is None:
        return None
    row = db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.head_event_id >= published)
                             .order_by(AuditCheckpoint.seq).limit(1)).first()
    return Checkpoint.of(row) if row is not None else None


# --- verification -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None  # the entry at fault (it may be gone: the head of a checkpoint)
    problem: str | None
    checkpoint: int | None = None  # the checkpoint at fault
    checkpoints: int = 0  # signed checkpoints that the trail matches
    last_checkpoint: Checkpoint | None = None
    uncovered: int = 0  # entries newer than the last checkpoint: their removal could not be seen

    @property
    def intact(self) -> bool:
        return self.problem is None


def _stored_checkpoints(copies: list[Checkpoint]) -> tuple[list[Checkpoint], ChainReport | None]:
    """The stored checkpoints, each genuine and numbered without a gap, and each of the copy among them."""
    keys = audit_keys.trusted_keys()
    stored = [Checkpoint.of(row) for row in db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))]
    for number, cp in enumerate(stored, start=1):
        if cp.seq != number:
            return stored, ChainReport(0, None, f"checkpoint {number} is missing: checkpoints were removed",
                                       checkpoint=number)
        if problem := audit_keys.check(keys, cp.key_id, cp.message(), cp.signature):
            return stored, ChainReport(0, None, f"checkpoint {cp.seq}: {problem}", checkpoint=cp.seq)
    by_seq = {cp.seq: cp for cp in stored}
    for copy in copies:
        if problem := audit_keys.check(keys, copy.key_id, copy.message(), copy.signature):
            return stored, ChainReport(0, None, f"checkpoint {copy.seq} of the copy is not genuine: {problem}",
                                       checkpoint=copy.seq)
        if by_seq.get(copy.seq) != copy:
            what = "is missing from the database" if copy.seq not in by_seq else "differs from the database's"
            return stored, ChainReport(0, None, f"checkpoint {copy.seq} of the copy {what}: the checkpoint table "
                                                "was cut short or rewritten", checkpoint=copy.seq)
    return stored, None


def verify_chain(copies: Iterable[Checkpoint] = ()) -> ChainReport:
    """Walk the trail in order; report the first entry whose hash or link does not match, or the first signed
    checkpoint the trail no longer matches (its head gone, another hash, another count). ``copies``: checkpoints
    kept elsewhere, which must be among the stored ones. The entries are streamed (constant memory); the
    checkpoints, a few a day, are held in memory."""
    stored, fault = _stored_checkpoints(list(copies))
    if fault is not None:
        return fault
    pending = deque(sorted(stored, key=lambda c: (c.head_event_id, c.seq)))
    expected_prev, checked = GENESIS, 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.id, "link to the previous entry is broken (an entry was removed or reordered)")
        if _content_hash(event) != event.hash:
            return ChainReport(checked, event.id, "content does not match its hash (the entry was edited)")
        if event.action == SEALED_ACTION and (problem := _sealed_batch_problem(event)):
            return ChainReport(checked, event.id, problem)
        if pending and pending[0].head_event_id < event.id:
            return _head_gone(pending[0], checked)
        expected_prev, checked = event.hash, checked + 1
        while pending and pending[0].head_event_id == event.id:
            cp = pending.popleft()
            if cp.head_hash != event.hash:
                return ChainReport(checked - 1, event.id, f"checkpoint {cp.seq} does not match entry {event.id}: its "
                                   "hash is not the one signed (entries up to it were edited and the chain's hashes "
                                   "recomputed)", checkpoint=cp.seq)
            if cp.event_count != checked:
                return ChainReport(checked - 1, event.id, f"checkpoint {cp.seq} counted {cp.event_count} entries up to "
                                   f"entry {event.id}; the trail now has {checked} (entries were removed or added)",
                                   checkpoint=cp.seq)
    if pending:
        return _head_gone(pending[0], checked)
    last = stored[-1] if stored else None
    return ChainReport(checked, None, None, checkpoints=len(stored), last_checkpoint=last,
                       uncovered=checked - (last.event_count if last else 0))


def _head_gone(cp: Checkpoint, checked: int) -> ChainReport:
    return ChainReport(checked, cp.head_event_id, f"checkpoint {cp.seq} signed entry {cp.head_event_id} as the head "
                       f"of {cp.event_count} entries, and that entry is gone (entries were removed; the trail was "
                       "cut short if they were the newest)", checkpoint=cp.seq)


def timeline(document: Document, *, before: int | None = None, limit: int = 100) -> list[AuditEvent]:
    """The document's latest ``limit`` events (before the event ``before``, for the earlier ones), oldest first."""
    query = select(AuditEvent).where(AuditEvent.document_id == document.id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(reversed(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()))

"""The Atom feed of the public site: consultations once they open, feedback once it is published, and the
audit trail's latest signed checkpoints (a reader that keeps the feed keeps a copy of them)."""
from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import audit
from .extensions import db
from .i18n import local_time
from .models import Consultation, Document, utcnow

LIMIT = 50
CHECKPOINTS = 5  # the latest checkpoints in the feed: each one vouches for the whole trail before it


def atom(now: datetime | None = None) -> bytes:
    """Build the feed; nothing appears before its time, and no commenter's data at all."""
    now = now or utcnow()
    feed = FeedGenerator()
    feed.id(url_for("public.index", _external=True))
    feed.title(current_app.config["SITE_NAME"])
    feed.subtitle("公开征求意见与意见采纳情况反馈")
    feed.link(href=url_for("public.atom_feed", _external=True), rel="self")
    feed.link(href=url_for("public.index", _external=True), rel="alternate")
    feed.language("zh-CN")
    entries: list[tuple[datetime, str, str, str, str]] = []
    opened = db.session.scalars(select(Consultation).where(Consultation.opens_at <= now)
                                .options(selectinload(Consultation.document).selectinload(Document.department))
                                .order_by(Consultation.opens_at.desc()).limit(LIMIT))
    for c in opened:
        entries.append((c.opens_at, f"consultation-{c.id}", f"【征求意见】{c.document.title}",
                        url_for("public.consultation", consultation_id=c.id, _external=True),
                        f"{c.document.department.name}公开征求意见，截止时间 "
                        f"{local_time(c.closes_at)}（北京时间）。"))
    published = db.session.scalars(select(Document).where(Document.published_at.is_not(None),
                                                          Document.published_at <= now)
                                   .options(selectinload(Document.department))
                                   .order_by(Document.published_at.desc()).limit(LIMIT))
    for d in published:
        entries.append((d.published_at, f"feedback-{d.id}", f"【意见采纳情况反馈】{d.title}",
                        url_for("public.feedback", document_id=d.id, _external=True),
                        f"{d.document_number or ''} {d.department.name}公布正式文本及意见采纳情况。".strip()))
    from .services.feedback_stage import feed_entries

    entries += feed_entries(now, LIMIT)  # feedback public before the final text, and outcomes
    latest = audit.latest_checkpoint()
    for cp in audit.checkpoints(after=max(0, latest.seq - CHECKPOINTS), limit=CHECKPOINTS) if latest else []:
        entries.append((cp.created_at, f"audit-checkpoint-{cp.seq}", f"【审计检查点】第{cp.seq}号",
                         url_for("api.audit_checkpoints", after=cp.seq - 1, limit=1, _external=True),
                         f"审计记录截至第{cp.head_event_id}条（共{cp.event_count}条），链头哈希 {cp.head_hash}，"
                         f"{cp.signed_fields()['created_at']} 以密钥 {cp.key_id} 签名（Ed25519）：{cp.signature}"))
    entries.sort(key=lambda e: e[0])
    for when, key, title, link, summary in entries[-LIMIT:]:
        entry = feed.add_entry()  # feedgen prepends: the newest ends up first
        entry.id(f"tag:{_host()},2026:{key}")
        entry.title(title)
        entry.link(href=link)
        entry.updated(when)
        entry.published(when)
        entry.summary(summary)
    feed.updated(entries[-1][0] if entries else now)
    return feed.atom_str(pretty=True)


def _host() -> str:
    return url_for("public.index", _external=True).split("/")[2].split(":")[0]


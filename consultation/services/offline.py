"""Comments received off the web form (线下意见): letters, emails and the opinions raised at meetings.

The drafting department logs them into the same queue as the web comments: each is stored through
``consultations.receive_comment`` (receipt number, counters, receipt mail), then taken in by the clock
(campaign group, audit chain), moderated, answered and counted like any other. What this module adds:
the rule of time (a letter postmarked by the closing day counts; an email must have arrived by the closing
time), the meeting records, and the scanned files, stored owner-only by content hash and never public.
"""
from __future__ import annotations

import hashlib
import re
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import FieldRefused, InvalidInput, NotFound
from ..extensions import db
from ..instance_folder import OWNER_ONLY_FILE, private_folder
from ..models import (
    Comment, CommentChannel, Consultation, Document, MeetingKind, OfflineAttachment, OfflineComment, OfflineMeeting,
    User, utcnow,
)
from ..workflow import engine
from ..workflow.conditions import latest_consultation
from .comment_lists import MAX_PAGE, PAGE, Page, _page
from .consultations import SHANGHAI, receive_comment

ACTION = "log_offline_comment"
LOGGED_CHANNELS = (CommentChannel.LETTER.value, CommentChannel.EMAIL.value)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5  # scans per letter or meeting
MAX_FIELD = {"name": 100, "organisation": 200, "phone": 40, "email": 200, "postal_address": 300,
             "place": 200, "host": 200}
MAX_ATTENDEES = 5000
MAX_MINUTES = 20000  # 会议纪要 typed in: staff only
MEETINGS_SHOWN = 200  # meetings on one document: a handful in practice, bounded all the same

# The first bytes of the files accepted: a scan is a PDF or an image, whatever its name says.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"II*\x00", "image/tiff", "tif"),
    (b"MM\x00*", "image/tiff", "tif"),
)
EXTENSIONS = {mime: ext for _sig, mime, ext in SIGNATURES}


@dataclass(frozen=True)
class Upload:
    """A file as the view read it (at most the size limit plus one byte)."""

    filename: str
    data: bytes


# --- the rule of time ----------------------------------------------------------------------------------------

def _local(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def window_days(consultation: Consultation) -> tuple[date, date]:
    """The first and the last day (Beijing time) of the consultation: a closing time of 00:00 ends the day before."""
    return _local(consultation.opens_at), _local(consultation.closes_at - timedelta(microseconds=1))


def _day(value: date) -> str:
    return value.isoformat()


def check_received(consultation: Consultation, channel: str, *, received_on: date | None,
                   received_time: time | None, postmarked_on: date | None, now: datetime) -> datetime | None:
    """Refuse a letter or an email that does not count; return an email's moment of arrival (UTC).

    A letter counts when it was postmarked by the closing day (邮戳日期为准), even if it arrives later;
    without a legible postmark it must have arrived by the closing day. An email counts when it arrived
    before the closing time. Nothing is dated before the opening or in the future.
    """
    first, last = window_days(consultation)
    today = _local(now)
    if received_on is None:
        raise FieldRefused("received_on", _("Give the date the comment was received."))
    if received_on > today:
        raise FieldRefused("received_on", _("The date received cannot be in the future."))
    if received_on < first:
        raise FieldRefused("received_on", _("The date received is before the consultation opened on %(day)s.",
                                            day=_day(first)))
    if channel == CommentChannel.LETTER.value:
        if postmarked_on is not None:
            if postmarked_on > today:
                raise FieldRefused("postmarked_on", _("The postmark date cannot be in the future."))
            if postmarked_on > received_on:
                raise FieldRefused("postmarked_on", _("The postmark date cannot be later than the date received."))
            if postmarked_on < first:
                raise FieldRefused("postmarked_on", _(
                    "The postmark date is before the consultation opened on %(day)s.", day=_day(first)))
            if postmarked_on > last:
                raise FieldRefused("postmarked_on", _(
                    "The letter was postmarked on %(postmark)s, after the consultation's closing day %(day)s: "
                    "it cannot be counted as a comment.", postmark=_day(postmarked_on), day=_day(last)))
        elif received_on > last:
            raise FieldRefused("postmarked_on", _(
                "The letter arrived after the consultation's closing day %(day)s. It counts only if it was "
                "postmarked by that day: enter the postmark date.", day=_day(last)))
        return None
    if received_time is None:
        raise FieldRefused("received_time", _("Give the time the email was received."))
    arrived = datetime.combine(received_on, received_time, SHANGHAI)
    if arrived > now:
        raise FieldRefused("received_time", _("The time received cannot be in the future."))
    if arrived < consultation.opens_at:
        raise FieldRefused("received_time", _("The email arrived before the consultation opened at %(when)s.",
                                              when=_moment(consultation.opens_at)))
    if arrived >= consultation.closes_at:
        raise FieldRefused("received_time", _(
            "The email arrived at %(when)s, after the consultation closed at %(closes)s: it cannot be counted "
            "as a comment.", when=_moment(arrived), closes=_moment(consultation.closes_at)))
    return arrived


def _moment(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def check_meeting_day(consultation: Consultation, held_on: date | None, now: datetime) -> None:
    first, last = window_days(consultation)
    if held_on is None:
        raise FieldRefused("held_on", _("Give the date of the meeting."))
    if held_on > _local(now):
        raise FieldRefused("held_on", _("The meeting's date cannot be in the future."))
    if not first <= held_on <= last:
        raise FieldRefused("held_on", _(
            "The meeting's date must fall within the consultation period, %(first)s to %(last)s.",
            first=_day(first), last=_day(last)))


# --- attachments ---------------------------------------------------------------------------------------------

def max_bytes() -> int:
    return int(current_app.config.get("OFFLINE_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def attachment_folder() -> Path:
    folder = current_app.config.get("OFFLINE_ATTACHMENT_DIR") or os.path.join(current_app.instance_path, "offline")
    private_folder(folder)
    return Path(folder)


def sniff(data: bytes) -> str | None:
    """The file's real type from its first bytes (PDF, PNG, JPEG, TIFF), or None."""
    return next((mime for signature, mime, _ext in SIGNATURES if data.startswith(signature)), None)


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Refuse a file that is too large, empty or not a PDF or an image; return each with its type."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        raise FieldRefused("files", _("Attach at most %(n)d files.", n=MAX_FILES))
    limit, checked = max_bytes(), []
    for upload in uploads:
        name = _filename(upload.filename)
        if len(upload.data) > limit:
            raise FieldRefused("files", _("The file “%(name)s” is too large: at most %(mb)s MB.",
                                          name=name, mb=megabytes(limit)))
        mime = sniff(upload.data)
        if not upload.data or mime is None:
            raise FieldRefused("files", _("The file “%(name)s” is not a PDF or an image (JPEG, PNG, TIFF): "
                                          "attach the scan as a PDF or an image.", name=name))
        checked.append((upload, mime))
    return checked


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g}"


def _filename(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "scan"


def path_of(attachment: OfflineAttachment) -> Path:
    return attachment_folder() / attachment.sha256[:2] / attachment.sha256


def _write(data: bytes) -> str:
    """Store the bytes under their SHA-256, owner-only; the same file twice is stored once."""
    digest = hashlib.sha256(data).hexdigest()
    folder = attachment_folder() / digest[:2]
    private_folder(folder)
    target = folder / digest
    if not target.exists():
        partial = folder / f".{digest}.{os.getpid()}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    return digest


def _attach(document: Document, user: User, checked: list[tuple[Upload, str]], *, comment: Comment | None = None,
            meeting: OfflineMeeting | None = None, now: datetime) -> list[OfflineAttachment]:
    rows = []
    for upload, mime in checked:
        row = OfflineAttachment(document_id=document.id, comment_id=comment.id if comment else None,
                                meeting_id=meeting.id if meeting else None, sha256=_write(upload.data),
                                size=len(upload.data), content_type=mime, filename=_filename(upload.filename),
                                uploaded_by_id=user.id, uploaded_at=now)
        db.session.add(row)
        db.session.flush()
        # The file's name may carry a person's name: the trail keeps its hash, size and type only.
        audit.record("upload_offline_attachment", actor=user, document=document,
                     payload={"attachment_id": row.id, "comment_id": row.comment_id, "meeting_id": row.meeting_id,
                              "sha256": row.sha256, "size": row.size, "content_type": mime})
        rows.append(row)
    return rows


# --- logging -------------------------------------------------------------------------------------------------

def _consultation(document: Document) -> Consultation:
    consultation = latest_consultation(document)
    if consultation is None:
        raise InvalidInput(_("This document has no consultation: there is nothing to log comments for."))
    return consultation


def _text(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_FIELD[field]:
        raise FieldRefused(field, _("Too long: at most %(n)d characters.", n=MAX_FIELD[field]))
    return value


def log_comment(
    document: Document, user: User, *, channel: str, body: str, received_on: date | None,
    received_time: time | None = None, postmarked_on: date | None = None, article_id: int | None = None,
    name: str = "", organisation: str = "", phone: str = "", email: str = "", postal_address: str = "",
    files: list[Upload] = (), now: datetime | None = None,
) -> Comment:
    """Log a letter or an email as a comment: checked against the rule of time, then stored like a web comment."""
    now = now or utcnow()
    engine.require_action(user, document, ACTION)
    if channel not in LOGGED_CHANNELS:
        raise FieldRefused("channel", _("Choose letter or email."))
    consultation = _consultation(document)
    arrived = check_received(consultation, channel, received_on=received_on, received_time=received_time,
                             postmarked_on=postmarked_on if channel == CommentChannel.LETTER.value else None,
                             now=now)
    personal = {field: _text(value, field) for field, value in
                (("name", name), ("organisation", organisation), ("phone", phone), ("email", email))}
    address = _text(postal_address, "postal_address")
    checked = check_uploads(list(files))
    # created_at is the moment of logging, never the day received: the clock's fold of the figures by
    # channel (services/statistics.py) relies on ids and created_at rising together.
    comment = receive_comment(consultation, body=body, article_id=article_id, channel=channel, logged_by=user,
                              now=now, **personal)
    db.session.add(OfflineComment(comment_id=comment.id, received_on=received_on, received_at=arrived,
                                  postmarked_on=postmarked_on if channel == CommentChannel.LETTER.value else None,
                                  postal_address=address or None))
    db.session.flush()
    audit.record(ACTION, actor=user, document=document,
                 payload={"comment_id": comment.id, "receipt_number": comment.receipt_number, "channel": channel,
                          "received_on": received_on.isoformat(),
                          "received_at": arrived.isoformat() if arrived else None,
                          "postmarked_on": postmarked_on.isoformat() if postmarked_on and arrived is None else None,
                          "files": len(checked)})
    _attach(document, user, checked, comment=comment, now=now)
    return comment


def create_meeting(
    document: Document, user: User, *, kind: str, held_on: date | None, place: str, host: str, attendees: str,
    minutes: str = "", files: list[Upload] = (), now: datetime | None = None,
) -> OfflineMeeting:
    """Record a meeting held on the draft within the consultation period, with its minutes if scanned."""
    now = now or utcnow()
    engine.require_action(user, document, ACTION)
    try:
        kind = MeetingKind(kind).value
    except ValueError:
        raise FieldRefused("kind", _("Choose the kind of meeting.")) from None
    consultation = _consultation(document)
    check_meeting_day(consultation, held_on, now)
    place, host = _text(place, "place"), _text(host, "host")
    attendees = (attendees or "").strip()
    if not place:
        raise FieldRefused("place", _("Give the place of the meeting."))
    if not host:
        raise FieldRefused("host", _("Give who hosted the meeting."))
    if not attendees:
        raise FieldRefused("attendees", _("List the attendees."))
    if len(attendees) > MAX_ATTENDEES:
        raise FieldRefused("attendees", _("Too long: at most %(n)d characters.", n=MAX_ATTENDEES))
    minutes = (minutes or "").strip()
    if len(minutes) > MAX_MINUTES:
        raise FieldRefused("minutes", _("Too long: at most %(n)d characters.", n=MAX_MINUTES))
    checked = check_uploads(list(files))
    meeting = OfflineMeeting(document_id=document.id, consultation_id=consultation.id, kind=kind, held_on=held_on,
                             place=place, host=host, attendees=attendees, minutes=minutes or None,
                             created_by_id=user.id, created_at=now)
    db.session.add(meeting)
    db.session.flush()
    audit.record("record_offline_meeting", actor=user, document=document,
                 payload={"meeting_id": meeting.id, "kind": kind, "held_on": held_on.isoformat(),
                          "minutes": bool(minutes), "files": len(checked)})
    _attach(document, user, checked, meeting=meeting, now=now)
    return meeting


def add_meeting_opinion(document: Document, user: User, meeting_id: int, *, body: str, article_id: int | None = None,
                        name: str = "", organisation: str = "", now: datetime | None = None) -> Comment:
    """One opinion raised at the meeting: a comment of channel meeting, received on the meeting's day."""
    now = now or utcnow()
    engine.require_action(user, document, ACTION)
    meeting = meeting_of(document, meeting_id)
    consultation = db.session.get(Consultation, meeting.consultation_id)
    comment = receive_comment(consultation, body=body, article_id=article_id, channel=CommentChannel.MEETING.value,
                              name=_text(name, "name"), organisation=_text(organisation, "organisation"),
                              logged_by=user, now=now)
    db.session.add(OfflineComment(comment_id=comment.id, received_on=meeting.held_on, meeting_id=meeting.id))
    db.session.flush()
    audit.record(ACTION, actor=user, document=document,
                 payload={"comment_id": comment.id, "receipt_number": comment.receipt_number,
                          "channel": CommentChannel.MEETING.value, "meeting_id": meeting.id,
                          "received_on": meeting.held_on.isoformat()})
    return comment


# --- reading -------------------------------------------------------------------------------------------------

def meeting_of(document: Document, meeting_id: int) -> OfflineMeeting:
    meeting = db.session.get(OfflineMeeting, meeting_id)
    if meeting is None or meeting.document_id != document.id:
        raise NotFound(_("No such meeting on this document."))
    return meeting


def meetings_of(document: Document) -> list[OfflineMeeting]:
    return list(db.session.scalars(select(OfflineMeeting).where(OfflineMeeting.document_id == document.id)
                                   .order_by(OfflineMeeting.held_on.desc(), OfflineMeeting.id.desc())
                                   .limit(MEETINGS_SHOWN)))


def opinion_counts(meeting_ids: list[int]) -> dict[int, int]:
    if not meeting_ids:
        return {}
    return dict(db.session.execute(select(OfflineComment.meeting_id, func.count()).where(
        OfflineComment.meeting_id.in_(meeting_ids)).group_by(OfflineComment.meeting_id)).all())


def meeting_opinions(meeting: OfflineMeeting, *, after: int | None = None, limit: int = PAGE) -> Page[Comment]:
    """The opinions raised at a meeting, in the order entered, a page at a time."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (select(Comment).join(OfflineComment, OfflineComment.comment_id == Comment.id)
             .where(OfflineComment.meeting_id == meeting.id))
    if after is not None:
        query = query.where(Comment.id > after)
    rows = db.session.scalars(query.order_by(Comment.id).limit(limit + 1)).all()
    return _page(list(rows), limit, lambda c: str(c.id))


def details_of(comment: Comment) -> OfflineComment | None:
    if comment.channel == CommentChannel.WEB.value:
        return None
    return db.session.get(OfflineComment, comment.id)


def attachments_of(*, comment: Comment | None = None, meeting: OfflineMeeting | None = None) -> list[OfflineAttachment]:
    query = select(OfflineAttachment).order_by(OfflineAttachment.id).limit(MAX_FILES * 4)
    if comment is not None:
        query = query.where(OfflineAttachment.comment_id == comment.id)
    else:
        query = query.where(OfflineAttachment.meeting_id == meeting.id)
    return list(db.session.scalars(query))


def attachment_of(document: Document, attachment_id: int) -> OfflineAttachment:
    attachment = db.session.get(OfflineAttachment, attachment_id)
    if attachment is None or attachment.document_id != document.id:
        raise NotFound(_("No such file on this document."))
    return attachment


def channel_counts(document: Document, total: int | None = None) -> dict[str, int]:
    """How many of the document's comments came by each channel: the offline ones counted exactly (they are
    few, one index range each), the web ones as the rest of the counters' total."""
    from . import tallies

    offline = dict(db.session.execute(
        select(Comment.channel, func.count()).where(
            Comment.document_id == document.id,
            Comment.channel.in_([c.value for c in CommentChannel if c is not CommentChannel.WEB]))
        .group_by(Comment.channel)).all())
    if total is None:
        total = tallies.counts(document=document).total
    counts = {c.value: int(offline.get(c.value, 0)) for c in CommentChannel}
    counts[CommentChannel.WEB.value] = max(0, total - sum(counts.values()))
    return counts


# --- the review packet (送审材料, a staff document) -------------------------------------------------------------

MEETING_KINDS_ZH = {MeetingKind.SYMPOSIUM.value: "座谈会", MeetingKind.HEARING.value: "听证会",
                    MeetingKind.ARGUMENT.value: "论证会", MeetingKind.OTHER.value: "其他会议"}
# Contact details typed into the attendees by mistake: never printed in the packet.
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
                      r"|(?<!\d)(?:\+?86[- ]?)?(?:1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})(?!\d)")


def without_contacts(text: str) -> str:
    return _CONTACT.sub("（略）", text or "")


def received_labels(comments: list[Comment]) -> dict[int, str]:
    """When each logged comment of a batch came (not when it was logged), in Chinese, for the PDF tables:
    one query for the batch's offline comments."""
    ids = [c.id for c in comments if c.channel != CommentChannel.WEB.value]
    if not ids:
        return {}
    labels = {}
    for row in db.session.scalars(select(OfflineComment).where(OfflineComment.comment_id.in_(ids))):
        if row.meeting_id:
            label = f"会议日期 {row.received_on.isoformat()}"
        elif row.received_at:
            label = f"收到 {row.received_at.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')}"
        else:
            label = f"收到 {row.received_on.isoformat()}"
        if row.postmarked_on:
            label += f" · 邮戳 {row.postmarked_on.isoformat()}"
        labels[row.comment_id] = label
        db.session.expunge(row)
    return labels


def packet_meetings(document: Document) -> list[dict]:
    """The meetings held on the draft, for the reviewers: kind, date, place, host, the attendees (names and
    organisations as recorded, any email or telephone number struck out), the minutes and the opinions' count.
    The packet is never public (reports.review_packet: public=False)."""
    meetings = meetings_of(document)
    counts = opinion_counts([m.id for m in meetings])
    return [{"kind": MEETING_KINDS_ZH.get(m.kind, m.kind), "held_on": m.held_on.isoformat(), "place": m.place,
             "host": m.host, "attendees": without_contacts(m.attendees), "minutes": without_contacts(m.minutes or ""),
             "opinions": counts.get(m.id, 0)} for m in reversed(meetings)]

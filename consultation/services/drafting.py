"""Drafting (起草): document projects and their versions."""
from __future__ import annotations

import hashlib
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..articles import parse_articles
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..models import Article, Assessment, AssessmentKind, Document, DocumentVersion, Role, User, VersionKind
from ..workflow import engine

PROCEDURE = "normative_document"


def _add_version(
    document: Document, kind: VersionKind, body: str, explanation: str, user: User,
    source_filename: str | None,
) -> DocumentVersion:
    body = body.strip()
    parsed = parse_articles(body)
    if not parsed:
        raise InvalidInput(
            _("No articles were found. Each article must start on its own line with 第一条, 第二条 …")
        )
    seq = (db.session.scalar(
        select(func.max(DocumentVersion.seq)).where(DocumentVersion.document_id == document.id)
    ) or 0) + 1 if document.id else 1
    version = DocumentVersion(
        seq=seq, kind=kind.value, body=body, explanation=explanation.strip(),
        source_filename=source_filename, sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        created_by_id=user.id,
        articles=[Article(seq=a.seq, label=a.label, chapter=a.chapter, text=a.text) for a in parsed],
    )
    document.versions.append(version)
    db.session.flush()
    return version


def create_document(
    user: User, *, title: str, body: str, explanation: str, affects_public_rights: bool,
    concerns_market_entities: bool = False, source_filename: str | None = None,
    procedure: str = PROCEDURE,
) -> Document:
    """Open a document project with its consultation draft (征求意见稿)."""
    if not user.has_role(Role.DRAFTER):
        raise NotAllowed(_("Only drafting-department staff can create a document."))
    if procedure not in engine.procedures():
        raise InvalidInput(_("Unknown procedure."))
    document = Document(
        title=title.strip(), procedure=procedure, stage=engine.procedures()[procedure].initial,
        department_id=user.department_id, affects_public_rights=affects_public_rights,
        concerns_market_entities=concerns_market_entities, created_by_id=user.id,
    )
    db.session.add(document)
    version = _add_version(document, VersionKind.CONSULTATION_DRAFT, body, explanation, user, source_filename)
    audit.record(
        "create_document", actor=user, document=document, to_stage=document.stage,
        payload={"version": version.seq, "sha256": version.sha256, "articles": len(version.articles)},
    )
    return document


def edit_draft(
    document: Document, user: User, *, title: str, body: str, explanation: str,
    affects_public_rights: bool, concerns_market_entities: bool, source_filename: str | None = None,
) -> DocumentVersion:
    """Replace the draft while still drafting: a new consultation-draft version."""
    engine.require_action(user, document, "edit_draft")
    document.title = title.strip()
    document.affects_public_rights = affects_public_rights
    document.concerns_market_entities = concerns_market_entities
    version = _add_version(document, VersionKind.CONSULTATION_DRAFT, body, explanation, user, source_filename)
    audit.record("edit_draft", actor=user, document=document, payload={"version": version.seq, "sha256": version.sha256})
    return version


def revise_draft(
    document: Document, user: User, *, body: str, explanation: str, source_filename: str | None = None
) -> DocumentVersion:
    """Prepare the revised review draft (送审稿) after the consultation."""
    engine.require_action(user, document, "revise_draft")
    version = _add_version(document, VersionKind.REVIEW_DRAFT, body, explanation, user, source_filename)
    audit.record("revise_draft", actor=user, document=document, payload={"version": version.seq, "sha256": version.sha256})
    return version


def add_final_text(document: Document, user: User, body: str) -> DocumentVersion:
    """Store the final text (正式文本) as adopted; its explanation is carried over."""
    explanation = document.current_version.explanation if document.current_version else ""
    return _add_version(document, VersionKind.FINAL_TEXT, body, explanation, user, None)


def request_skip_predisclosure(document: Document, user: User, reason: str) -> None:
    """Ask the openness office to let a draft that does not affect public rights skip pre-disclosure.

    The legal reason is kept on the document and shown to the openness office, which decides.
    """
    engine.perform(document, "request_skip_predisclosure", user, note=reason)
    document.predisclosure_skip_reason = reason.strip()


def record_assessment(
    document: Document, user: User, *, kind: str, held_on: date, participants: str, conclusion: str,
) -> Assessment:
    """Record an expert argument (专家论证), a risk assessment (风险评估) or a prior assessment (事前评估)."""
    engine.require_action(user, document, "record_assessment")
    try:
        kind = AssessmentKind(kind).value
    except ValueError:
        raise InvalidInput(_("Choose the kind of assessment.")) from None
    if not participants.strip() or not conclusion.strip():
        raise InvalidInput(_("Name the participants and give the conclusion."))
    assessment = Assessment(
        document_id=document.id, version_id=document.current_version.id, kind=kind, held_on=held_on,
        participants=participants.strip(), conclusion=conclusion.strip(), recorded_by_id=user.id,
    )
    db.session.add(assessment)
    db.session.flush()
    audit.record("record_assessment", actor=user, document=document,
                 payload={"assessment_id": assessment.id, "kind": kind, "held_on": held_on.isoformat(),
                          "version": document.current_version.seq})
    return assessment


def assessments_of(document: Document) -> list[Assessment]:
    return list(db.session.scalars(
        select(Assessment).where(Assessment.document_id == document.id).order_by(Assessment.id)
    ))

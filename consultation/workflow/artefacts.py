"""The artefacts (材料) that procedure files may name: what a stage ``produces`` and a step ``requires``.

Each artefact has a title for the checklist on the document page and a check telling whether the document
has it now. A procedure file naming an artefact not listed here is refused at start-up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Assessment, AssessmentKind, Document, VersionKind
from . import signers
from .conditions import latest_consultation, latest_round, unanswered_count


@dataclass(frozen=True)
class Artefact:
    name: str
    title: object  # a lazy string: the page's language decides
    present: Callable[[Document], bool]


ARTEFACTS: dict[str, Artefact] = {}


def artefact(name: str, title) -> Callable[[Callable[[Document], bool]], Callable[[Document], bool]]:
    def register(fn: Callable[[Document], bool]) -> Callable[[Document], bool]:
        ARTEFACTS[name] = Artefact(name, title, fn)
        return fn
    return register


def _assessment(document: Document, kind: AssessmentKind) -> bool:
    return db.session.scalar(
        select(Assessment.id).where(Assessment.document_id == document.id, Assessment.kind == kind.value).limit(1)
    ) is not None


@artefact("consultation_draft", _l("Consultation draft with its articles (征求意见稿)"))
def _consultation_draft(document: Document) -> bool:
    version = document.current_version
    return version is not None and bool(version.articles)


@artefact("drafting_explanation", _l("Drafting explanation (起草说明)"))
def _explanation(document: Document) -> bool:
    version = document.current_version
    return version is not None and bool(version.explanation.strip())


@artefact("consultation_notice", _l("Consultation notice with its dates (征求意见公告)"))
def _notice(document: Document) -> bool:
    consultation = latest_consultation(document)
    return consultation is not None and bool(consultation.notice.strip())


@artefact("comment_answers", _l("An answer to every comment (意见处理情况)"))
def _answers(document: Document) -> bool:
    return unanswered_count(document) == 0


@artefact("review_draft", _l("Review draft (送审稿)"))
def _review_draft(document: Document) -> bool:
    version = document.current_version
    return version is not None and version.kind == VersionKind.REVIEW_DRAFT.value


@artefact("expert_argument", _l("Record of the expert argument (专家论证意见)"))
def _expert_argument(document: Document) -> bool:
    return _assessment(document, AssessmentKind.EXPERT_ARGUMENT)


@artefact("risk_assessment", _l("Risk assessment report (风险评估报告)"))
def _risk_assessment(document: Document) -> bool:
    return _assessment(document, AssessmentKind.RISK_ASSESSMENT)


@artefact("review_opinions", _l("Review (co-signing) opinions of every joint-review signer (联合审查各方的审核（会签）意见)"))
def _review_opinions(document: Document) -> bool:
    """Every signer the procedure file names in [review] signers (co-units spelt out) signed the latest round."""
    rnd = latest_round(document)
    return rnd is not None and set(signers.required(document)) <= {s.organ for s in rnd.signoffs}


@artefact("meeting_decision", _l("Decision of the executive meeting (审议决定)"))
def _decision(document: Document) -> bool:
    return document.decision is not None


@artefact("document_number", _l("Document number (发文字号)"))
def _number(document: Document) -> bool:
    return document.number_seq is not None


@artefact("final_text", _l("Final text (正式文本)"))
def _final_text(document: Document) -> bool:
    return document.latest_version(VersionKind.FINAL_TEXT) is not None


@artefact("policy_interpretation", _l("Policy interpretation (政策解读)"))
def _interpretation(document: Document) -> bool:
    return bool((document.policy_interpretation or "").strip())


KNOWN_ARTEFACTS = frozenset(ARTEFACTS)

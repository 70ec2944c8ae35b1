"""The workflow engine: asks the procedure file whether a step is allowed, and takes it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select, true, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..extensions import db
from ..i18n import separator
from ..errors import InvalidInput, NotAllowed
from ..models import Document, DocumentCoUnit, ReviewRound, User, utcnow
from . import signers
from .artefacts import ARTEFACTS, KNOWN_ARTEFACTS
from .conditions import CONDITIONS, KNOWN_CONDITIONS
from .definition import Procedure, Stage, Transition, load_directory


@dataclass(frozen=True)
class TransitionOption:
    transition: Transition
    blocked_by: tuple[str, ...]  # reasons; empty when the user may take it now

    @property
    def allowed(self) -> bool:
        return not self.blocked_by


def init_app(app: Flask) -> None:
    """Load and validate every procedure file; a broken one stops start-up."""
    app.extensions["procedures"] = load_directory(Path(app.config["WORKFLOWS_DIR"]), KNOWN_CONDITIONS, KNOWN_ARTEFACTS)


def procedures() -> dict[str, Procedure]:
    return current_app.extensions["procedures"]


def procedure_of(document: Document) -> Procedure:
    return procedures()[document.procedure]


def stage_of(document: Document) -> Stage:
    return procedure_of(document).stages[document.stage]


def _in_scope(user: User, document: Document, roles: tuple[str, ...], procedure: Procedure) -> bool:
    """Tell whether the user holds one of the roles, in the document's department where that matters."""
    for role in roles:
        if not user.has_role(role):
            continue
        if role in procedure.department_roles and user.department_id != document.department_id:
            continue
        return True
    return False


def can_see(user: User, document: Document) -> bool:
    """Department staff see their own documents; others see them once they leave the department."""
    procedure = procedure_of(document)
    if user.has_role("admin"):
        return True
    if user.department_id == document.department_id and user.has_role(*procedure.department_roles):
        return True
    if _co_unit_sees(user, document, procedure):
        return True
    other_roles = {r for r in user.roles if r not in procedure.department_roles}
    return bool(other_roles) and not procedure.stages[document.stage].internal


def _co_unit_sees(user: User, document: Document, procedure: Procedure) -> bool:
    """Staff of a co-responsible unit (its drafters and its head) see the document from its submission on."""
    if "co_units" not in procedure.review_signers or not user.has_role(*procedure.department_roles):
        return False
    if document.stage not in signers.co_unit_stages(procedure) and not db.session.scalar(
            select(exists().where(ReviewRound.document_id == document.id))):
        return False
    return bool(db.session.scalar(select(exists().where(
        DocumentCoUnit.document_id == document.id, DocumentCoUnit.department_id == user.department_id))))


def _co_unit_visible(user: User, procedure: Procedure):
    """``_co_unit_sees`` as one SQL condition on Document."""
    return and_(
        exists().where(DocumentCoUnit.document_id == Document.id, DocumentCoUnit.department_id == user.department_id),
        or_(Document.stage.in_(sorted(signers.co_unit_stages(procedure))),
            exists().where(ReviewRound.document_id == Document.id)),
    )


def visible_to(user: User):
    """``can_see`` as a SQL condition on Document, so that lists are filtered in the database."""
    if user.has_role("admin"):
        return true()
    allowed = []
    for procedure in procedures().values():
        own = user.has_role(*procedure.department_roles)
        other = any(r not in procedure.department_roles for r in user.roles)
        public_stages = [s.id for s in procedure.stages.values() if not s.internal]
        terms = []
        if own:
            terms.append(Document.department_id == user.department_id)
            if "co_units" in procedure.review_signers:
                terms.append(_co_unit_visible(user, procedure))
        if other:
            terms.append(Document.stage.in_(public_stages))
        if terms:
            allowed.append(and_(Document.procedure == procedure.id, or_(*terms)))
    return or_(*allowed) if allowed else false()


def stages_for(user: User) -> list[tuple[str, str]]:
    """The (procedure, stage) pairs in which one of the user's roles has a step or an in-stage action."""
    found = set()
    for procedure in procedures().values():
        for transition in procedure.transitions.values():
            if not transition.automatic and transition.waits and any(user.has_role(r) for r in transition.roles):
                found.update((procedure.id, stage) for stage in transition.from_stages)
        for action in procedure.actions.values():
            if any(user.has_role(r) for r in action.roles):
                found.update((procedure.id, stage) for stage in action.stages)
    return sorted(found)


def may_act(user: User, document: Document, action: str) -> bool:
    """Tell whether the user may do an in-stage action (answer, sign) on the document now."""
    procedure = procedure_of(document)
    spec = procedure.actions.get(action)
    if spec is None:
        raise KeyError(f"{procedure.source.name}: no action '{action}'")
    return document.stage in spec.stages and _in_scope(user, document, spec.roles, procedure)


def require_action(user: User, document: Document, action: str) -> None:
    if not may_act(user, document, action):
        raise NotAllowed(_("You cannot do this at the current stage of the document."))


def _blockers(document: Document, transition: Transition, now: datetime) -> list[str]:
    reasons = [msg for cond in transition.conditions if (msg := CONDITIONS[cond](document, now))]
    missing = [str(ARTEFACTS[name].title) for name in transition.requires if not ARTEFACTS[name].present(document)]
    if missing:
        reasons.append(_("Missing: %(items)s.", items=separator("semicolon").join(missing)))
    return reasons


def checklist(document: Document) -> list[tuple[str, bool]]:
    """What the current stage must produce, and whether each piece is there yet."""
    stage = stage_of(document)
    return [(str(ARTEFACTS[name].title), ARTEFACTS[name].present(document)) for name in stage.produces]


def options(document: Document, user: User, now: datetime | None = None) -> list[TransitionOption]:
    """List the manual transitions the user holds a role for, with what still blocks each."""
    now = now or utcnow()
    procedure = procedure_of(document)
    return [
        TransitionOption(t, tuple(_blockers(document, t, now)))
        for t in procedure.transitions_from(document.stage)
        if not t.automatic and _in_scope(user, document, t.roles, procedure)
    ]


def require_transition(document: Document, name: str, user: User) -> Transition:
    """Refuse a manual step the user may not take from the document's stage (conditions aside)."""
    procedure = procedure_of(document)
    transition = procedure.transitions.get(name)
    if transition is None or transition.automatic:
        raise NotAllowed(_("Unknown step."))
    if document.stage not in transition.from_stages:
        raise NotAllowed(
            _("This step is not possible at the stage “%(stage)s”.", stage=procedure.stages[document.stage].title)
        )
    if not _in_scope(user, document, transition.roles, procedure):
        raise NotAllowed(_("Your role does not allow this step on this document."))
    return transition


def perform(
    document: Document, name: str, user: User, note: str = "", now: datetime | None = None
) -> Transition:
    """Take a manual transition after checking stage, role, department, note and conditions."""
    now = now or utcnow()
    settle(document, now)
    return _take(document, require_transition(document, name, user), user, note, now)


def perform_as_signer(document: Document, name: str, user: User, note: str = "", now: datetime | None = None) -> Transition:
    """Take a step for a joint-review signer whose right to sign the review service has checked (a co-unit's
    head, the openness office): as ``perform``, without the roles of the transition."""
    now = now or utcnow()
    settle(document, now)
    procedure = procedure_of(document)
    transition = procedure.transitions.get(name)
    if transition is None or transition.automatic or document.stage not in transition.from_stages:
        raise NotAllowed(_("You cannot do this at the current stage of the document."))
    return _take(document, transition, user, note, now)


def _take(document: Document, transition: Transition, user: User, note: str, now: datetime) -> Transition:
    """Check the note and the conditions, then move the document (once, whoever else tries at the same time)."""
    if transition.note_required and not note.strip():
        raise InvalidInput(_("Please give the reason or opinion in writing."))
    blockers = _blockers(document, transition, now)
    if blockers:
        raise InvalidInput(separator("sentence").join(blockers))
    if not _move(document, transition, user, note, now):
        raise InvalidInput(_("Someone else moved this document on in the meantime. Reload the page to see where it is now."))
    settle(document, now)
    return transition


def settle(document: Document, now: datetime | None = None) -> None:
    """Apply the automatic transitions whose conditions now hold (the clock, both signatures)."""
    now = now or utcnow()
    procedure = procedure_of(document)
    for _guard in range(len(procedure.stages)):
        due = next(
            (
                t for t in procedure.transitions_from(document.stage)
                if t.automatic and not _blockers(document, t, now)
            ),
            None,
        )
        if due is None or not _move(document, due, None, "", now):
            return


def _move(document: Document, transition: Transition, user: User | None, note: str, now: datetime) -> bool:
    """Move the document on, unless another request or the worker's clock moved it first (then False).

    A compare-and-set on the stage: two requests that both saw the old stage cannot both record the step
    (on PostgreSQL the second UPDATE waits for the first and then matches no row; on SQLite writers queue).
    """
    before = document.stage
    moved = db.session.execute(
        update(Document).where(Document.id == document.id, Document.stage == before)
        .values(stage=transition.to, stage_entered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.refresh(document, ["stage", "stage_entered_at"])
        return False
    set_committed_value(document, "stage", transition.to)
    set_committed_value(document, "stage_entered_at", now)
    audit.record(
        transition.name, actor=user, document=document, from_stage=before, to_stage=transition.to, note=note
    )
    from ..services import feedback_stage, notifications  # the services build on the engine: imported when needed

    feedback_stage.on_stage_entered(document, transition, user, now)
    notifications.on_transition(document, transition.name)
    return True

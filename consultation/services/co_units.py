"""Co-responsible units (会签单位): the drafter names the departments that sign the joint review with the organs.

Naming and removing a unit is the ``name_co_units`` action of the procedure file (the drafting department's
drafters, while drafting or handling comments: before submission), and only when the file's
``[review] signers`` include ``co_units``. A unit is one of the drafting departments the administrator keeps,
never the document's own. Its staff (drafters and head) see the document from its submission for review on
(workflow/engine.py can_see / visible_to); its department head signs the unit's opinion in each review round
(services/review.py, organ ``unit:<department_id>``).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select

from .. import audit
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..models import Department, DepartmentKind, Document, DocumentCoUnit, Role, User, UserRole
from ..workflow import engine, signers

ACTION = "name_co_units"
MAX_CHOICES = 500  # the departments offered: a city has a few dozen


def may_name(user: User, document: Document) -> bool:
    procedure = engine.procedure_of(document)
    return (signers.takes_co_units(document) and ACTION in procedure.actions
            and engine.may_act(user, document, ACTION))


def units_of(document: Document) -> list[DocumentCoUnit]:
    return list(db.session.scalars(
        select(DocumentCoUnit).where(DocumentCoUnit.document_id == document.id).order_by(DocumentCoUnit.id)
    ))


def choices(document: Document) -> list[Department]:
    """The departments that may still be named: drafting departments other than the document's own."""
    named = select(DocumentCoUnit.department_id).where(DocumentCoUnit.document_id == document.id)
    return list(db.session.scalars(
        select(Department).where(Department.kind == DepartmentKind.DRAFTING.value,
                                 Department.id != document.department_id, Department.id.not_in(named))
        .order_by(Department.name).limit(MAX_CHOICES)
    ))


def _require_naming(user: User, document: Document) -> None:
    if not signers.takes_co_units(document):
        raise NotAllowed(_("This procedure has no co-responsible units in its joint review."))
    if not may_name(user, document):
        raise NotAllowed(_("You cannot do this at the current stage of the document."))


def name_unit(document: Document, user: User, department_id: int) -> DocumentCoUnit:
    """Name a co-responsible department; it signs every review round from the next one on."""
    _require_naming(user, document)
    department = db.session.get(Department, department_id)
    if department is None or department.kind != DepartmentKind.DRAFTING.value:
        raise InvalidInput(_("Choose one of the departments in the list."))
    if department.id == document.department_id:
        raise InvalidInput(_("The drafting department itself cannot be a co-responsible unit."))
    if db.session.scalar(select(exists().where(DocumentCoUnit.document_id == document.id,
                                               DocumentCoUnit.department_id == department.id))):
        raise InvalidInput(_("This department is already a co-responsible unit of the document."))
    unit = DocumentCoUnit(document_id=document.id, department_id=department.id, named_by_id=user.id)
    db.session.add(unit)
    db.session.flush()
    audit.record("name_co_unit", actor=user, document=document,
                 payload={"department_id": department.id, "department": department.name})
    return unit


def remove_unit(document: Document, user: User, department_id: int) -> None:
    """Remove a co-responsible department; the signatures it gave in earlier rounds stay on record."""
    _require_naming(user, document)
    unit = db.session.scalars(select(DocumentCoUnit).where(
        DocumentCoUnit.document_id == document.id, DocumentCoUnit.department_id == department_id)).first()
    if unit is None:
        raise InvalidInput(_("This department is not a co-responsible unit of the document."))
    name = unit.department.name
    db.session.delete(unit)
    db.session.flush()
    audit.record("remove_co_unit", actor=user, document=document,
                 payload={"department_id": department_id, "department": name})


def awaiting_signature(user: User):
    """A SQL condition on Document: in the joint review with the user's department as a co-unit, for a
    department head (the dashboard asks each such document whether the unit has still to sign)."""
    if not user.has_role(Role.DEPARTMENT_HEAD):
        return false()
    terms = []
    for procedure in engine.procedures().values():
        spec = procedure.actions.get("sign_off")
        if "co_units" in procedure.review_signers and spec is not None:
            terms.append(and_(Document.procedure == procedure.id, Document.stage.in_(spec.stages)))
    if not terms:
        return false()
    return and_(or_(*terms), exists().where(DocumentCoUnit.document_id == Document.id,
                                            DocumentCoUnit.department_id == user.department_id))


def signers_to_tell(document: Document) -> list[User]:
    """Who hears that a review round opened besides the two organs: each co-unit's head, and the openness
    office when the procedure file names it among the signers (active accounts with an address)."""
    query = select(User).where(User.active.is_(True), User.email.is_not(None))
    heads = db.session.scalars(query.where(User.department_id.in_(
        select(DocumentCoUnit.department_id).where(DocumentCoUnit.document_id == document.id))).limit(200))
    found = [u for u in heads if u.has_role(Role.DEPARTMENT_HEAD)]
    if "openness_office" in signers.procedure_signers(document):
        officers = db.session.scalars(query.join(UserRole, UserRole.user_id == User.id)
                                      .where(UserRole.role == Role.OPENNESS_OFFICER.value).limit(200))
        found += list(officers)
    return found

"""Who signs a joint-review round: the organs the procedure file names in ``[review] signers``.

A signer is stored as the ``organ`` of its Signoff: ``gov_office``, ``justice``, ``openness_office``, or
``unit:<department_id>`` for a co-responsible unit (会签单位) the drafter named for the document. The name
``co_units`` in a procedure file stands for every co-unit of the document at the time of the round.

Kept apart from the engine (which imports the conditions that use this module).
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Department, Document, DocumentCoUnit

UNIT_PREFIX = "unit:"


def unit_key(department_id: int) -> str:
    return f"{UNIT_PREFIX}{department_id}"


def unit_department_id(key: str) -> int | None:
    """The department of a ``unit:<id>`` signer, or None for an organ."""
    if key.startswith(UNIT_PREFIX) and key[len(UNIT_PREFIX):].isdigit():
        return int(key[len(UNIT_PREFIX):])
    return None


def procedure_signers(document: Document) -> tuple[str, ...]:
    return current_app.extensions["procedures"][document.procedure].review_signers


def takes_co_units(document: Document) -> bool:
    """Whether the document's procedure lets co-responsible units sign (``co_units`` in [review] signers)."""
    return "co_units" in procedure_signers(document)


def co_unit_ids(document: Document) -> list[int]:
    """The document's co-responsible departments, in the order they were named (a handful at most)."""
    return list(db.session.scalars(
        select(DocumentCoUnit.department_id).where(DocumentCoUnit.document_id == document.id)
        .order_by(DocumentCoUnit.id)
    ))


def required(document: Document) -> list[str]:
    """Every signer the open round needs, in the file's order, with ``co_units`` spelt out per unit."""
    found: list[str] = []
    for name in procedure_signers(document):
        if name == "co_units":
            found.extend(unit_key(i) for i in co_unit_ids(document))
        else:
            found.append(name)
    return found


def label(key: str) -> str:
    """A signer's name in the page's language; a co-unit by its department's name."""
    from ..labels import ORGANS

    department_id = unit_department_id(key)
    if department_id is None:
        return str(ORGANS.get(key, key))
    department = db.session.get(Department, department_id)
    name = department.name if department else key
    return _("%(department)s (co-responsible unit)", department=name)


# Each signer's own words (item 二十一): the justice bureau judges legality (合法 / 应当予以修改 / 不合法); the
# government office, the openness office and the co-units agree or return (同意 / 退回修改; a unit's 会签意见).
JUSTICE = "justice"
JUSTICE_OUTCOMES = {"approve": _l("lawful (合法)"), "return": _l("should be amended (应当予以修改)"),
                    "reject": _l("unlawful (不合法)")}
OTHER_OUTCOMES = {"approve": _l("agreed (同意)"), "return": _l("returned for revision (退回修改)")}
JUSTICE_CHOICES = [("approve", _l("Lawful (合法)")), ("return", _l("Should be amended (应当予以修改)")),
                   ("reject", _l("Unlawful: back to drafting (不合法)"))]
OTHER_CHOICES = [("approve", _l("Agree (同意)")), ("return", _l("Return for revision (退回修改)"))]
OUTCOMES_ZH = {JUSTICE: {"approve": "合法", "return": "应当予以修改", "reject": "不合法"},
               None: {"approve": "同意", "return": "退回修改", "reject": "不合法"}}


def outcome_label(outcome: str, key: str | None = None) -> str:
    """A signature's outcome in its signer's words; without a signer, the combined words (同意 / 合法)."""
    if key is None:
        from ..labels import OUTCOMES
        return str(OUTCOMES.get(outcome, outcome))
    words = JUSTICE_OUTCOMES if key == JUSTICE else OTHER_OUTCOMES
    return str(words.get(outcome, JUSTICE_OUTCOMES.get(outcome, outcome)))


def outcome_zh(outcome: str, key: str) -> str:
    """The outcome in the signer's Chinese words (for the review packet, always in Chinese)."""
    return OUTCOMES_ZH[JUSTICE if key == JUSTICE else None].get(outcome, outcome)


def outcome_choices(keys) -> list[tuple[str, object]] | None:
    """The signing form's outcomes for the signers a user may sign for: the justice bureau's words, or the
    others' (同意 / 退回修改); None when the user signs for both kinds (the form keeps its combined words)."""
    keys = list(keys)
    if keys and all(k == JUSTICE for k in keys):
        return JUSTICE_CHOICES
    if keys and JUSTICE not in keys:
        return OTHER_CHOICES
    return None


def opinion_label(keys) -> object | None:
    """The opinion field's name: a co-unit's 会签意见 when the user signs only for units."""
    keys = list(keys)
    if keys and all(unit_department_id(k) is not None for k in keys):
        return _l("Co-signing opinion (会签意见)")
    return None


ORGAN_NAMES_ZH = {"gov_office": "市政府办公室", "justice": "市司法局", "openness_office": "政务公开办"}


def name_zh(key: str) -> str:
    """A signer's name in Chinese (for the review packet, which is always in Chinese)."""
    department_id = unit_department_id(key)
    if department_id is None:
        return ORGAN_NAMES_ZH.get(key, key)
    department = db.session.get(Department, department_id)
    return f"{department.name if department else key}（会签单位）"


def co_unit_stages(procedure) -> frozenset[str]:
    """The stages in which co-units see the document: from where ``submit_for_review`` leads on, without going
    back to the drafting department's stages (its origin and the initial stage). Once a review round exists
    they also keep seeing it when it goes back for revision (engine.can_see)."""
    submit = procedure.transitions.get("submit_for_review")
    sign_off = procedure.actions.get("sign_off")
    if submit is None:
        return frozenset(sign_off.stages if sign_off else ())
    barrier = {procedure.initial, *submit.from_stages}
    reached, todo = {submit.to}, [submit.to]
    while todo:
        here = todo.pop()
        for t in procedure.transitions_from(here):
            if t.to not in reached and t.to not in barrier:
                reached.add(t.to)
                todo.append(t.to)
    return frozenset(reached)

"""The one way a view calls a service that may refuse: commit, or undo and say why."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_wtf import FlaskForm

from ..errors import DomainError
from ..extensions import db


def commit_or_refuse(action: Callable[[], object], form: FlaskForm | None = None) -> bool:
    """Run a service call and commit. On a refusal undo it and say why: beside the form's field when the
    refusal names one (FieldRefused), else at the top of the page; the form keeps what was typed."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        field = getattr(exc, "field", None)
        if form is not None and field in form:
            form[field].errors = [*form[field].errors, exc.message]
        else:
            flash(exc.message, "error")
        return False
    db.session.commit()
    return True

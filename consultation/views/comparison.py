"""The comparison table (修改对照表): for staff any two versions, for the public the feedback's one."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..comparison import ChangeKind
from ..errors import NotFound
from ..extensions import db
from ..models import Document
from ..services import comparison
from ..services.status import is_published
from ..workflow import engine

bp = Blueprint("comparison", __name__)

CHANGE_LABELS = {
    ChangeKind.UNCHANGED: _l("unchanged"),
    ChangeKind.MODIFIED: _l("modified"),
    ChangeKind.INSERTED: _l("inserted"),
    ChangeKind.DELETED: _l("deleted"),
    ChangeKind.SPLIT: _l("split"),
    ChangeKind.MERGED: _l("merged"),
    ChangeKind.MOVED: _l("moved"),
}


def _staff_document(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or not engine.can_see(current_user, document):
        abort(404)
    return document


def _chosen_pair(document: Document):
    default_old, default_new = comparison.default_pair(document)
    try:
        old = comparison.version_of(document, request.args.get("old", default_old.seq, type=int))
        new = comparison.version_of(document, request.args.get("new", default_new.seq, type=int))
    except NotFound:
        abort(404)
    return old, new


@bp.get("/staff/documents/<int:document_id>/comparison")
@login_required
def staff(document_id: int):
    document = _staff_document(document_id)
    old, new = _chosen_pair(document)
    return render_template("workspace/comparison.html", document=document, versions=comparison.versions_of(document),
                           table=comparison.table(document, old, new), labels=CHANGE_LABELS, public=False,
                           only_changed=request.args.get("changed") == "1")


@bp.get("/staff/documents/<int:document_id>/comparison.docx")
@login_required
def staff_docx(document_id: int):
    from ..comparison_docx import table_docx

    document = _staff_document(document_id)
    old, new = _chosen_pair(document)
    data = table_docx(document, comparison.table(document, old, new), CHANGE_LABELS)
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    name = f"修改对照表-{document.id}-v{old.seq}-v{new.seq}.docx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=comparison-{document.id}-v{old.seq}-v{new.seq}.docx; filename*=UTF-8''{quote(name)}")
    return response


@bp.get("/feedback/<int:document_id>/comparison")
def public(document_id: int):
    document = db.session.get(Document, document_id)
    if document is None or not is_published(document):
        abort(404)
    table = comparison.public_table(document)
    if table is None:
        abort(404)
    return render_template("workspace/comparison.html", document=document, versions=[], table=table,
                           labels=CHANGE_LABELS, public=True, only_changed=False,
                           back=url_for("public.feedback", document_id=document.id))

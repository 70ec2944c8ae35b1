"""``GET /api/v1/feedback/{document_id}/comparison``: the consultation draft against the final text (修改对照表).

Public once the feedback is: each row with its character diff and the adopted comments that caused it; a
comment's text only when it was published, never a name, a contact or a receipt number.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..comparison import ArticleSide, ChangeKind, Op
from ..services import comparison, library
from . import bp
from .errors import ApiError, json_response


def _article(side: ArticleSide) -> dict[str, Any]:
    return {"label": side.label, "chapter": side.chapter, "text": side.text,
            "segments": [{"op": s.op.value, "text": s.text} for s in side.segments]}


@bp.get("/feedback/<int:document_id>/comparison")
def feedback_comparison(document_id: int):
    document = library.public_document(document_id)
    table = comparison.public_table(document) if document is not None else None
    if table is None:
        raise ApiError(404, "not_found", _("No published comparison table has this number."))
    return json_response({
        "document_id": document.id,
        "old": {"seq": table.old.seq, "kind": table.old.kind},
        "new": {"seq": table.new.seq, "kind": table.new.kind},
        "counts": {kind.value: table.comparison.counts[kind] for kind in ChangeKind},
        "rows": [{"kind": r.row.kind.value, "moved": r.row.moved, "renumbered": r.row.renumbered,
                  "old": [_article(a) for a in r.row.old], "new": [_article(a) for a in r.row.new],
                  "reasons": [{"decision": c.decision, "comment": c.excerpt} for c in r.reasons],
                  "more_reasons": r.more_reasons} for r in table.rows],
    })


def openapi_path(path_id: dict[str, Any], not_found: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's entry in the OpenAPI document (consultation/api/openapi.py)."""
    from .openapi import COUNT, STRING, _get, array, nullable, obj

    version = obj({"seq": {"type": "integer", "minimum": 1},
                   "kind": {"type": "string", "enum": ["consultation_draft", "review_draft", "final_text"]}})
    article = obj({"label": {**STRING, "description": "第N条 in its version"}, "chapter": nullable(STRING),
                   "text": STRING,
                   "segments": array(obj({"op": {"type": "string", "enum": [op.value for op in Op]},
                                          "text": STRING},
                                         "equal: in both texts; delete: only in the old; insert: only in the new"))})
    kinds = [kind.value for kind in ChangeKind]
    row = obj({
        "kind": {"type": "string", "enum": kinds},
        "moved": {"type": "boolean", "description": "out of the order of the rest, or into another chapter"},
        "renumbered": {"type": "boolean"},
        "old": array(article), "new": array(article),
        "reasons": array(obj({"decision": {"type": "string", "enum": list(comparison.ADOPTING)},
                              "comment": {**nullable(STRING), "description": "the comment's text when published"}})),
        "more_reasons": COUNT,
    })
    answer = obj({"document_id": {"type": "integer", "minimum": 1}, "old": version, "new": version,
                  "counts": obj({kind: COUNT for kind in kinds}), "rows": array(row)})
    return _get("getFeedbackComparison",
                "The comparison table (修改对照表): the consultation draft against the final text, article by article",
                {"description": "the rows in the order of the final text, deleted articles where they stood",
                 "content": {"application/json": {"schema": answer}}},
                [path_id], not_found, tag="feedback")

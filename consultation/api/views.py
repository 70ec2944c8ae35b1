"""The API's endpoints: each reads its input with ``params``, asks a service, answers with ``responses``."""
from __future__ import annotations

from flask import Response, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import ratelimit
from ..extensions import db
from ..feedback import build_feedback
from ..models import Department, utcnow
from ..services import consultations, library
from ..services.publication import LibraryStatus
from . import bp, responses
from .errors import ApiError, init_blueprint, json_response
from .listing import STATUSES, browse_consultations, comment_counts
from .openapi import document as openapi_document
from .params import MAX_ID, YEARS, Query, comment_input, json_object

init_blueprint(bp)

# A comment of 5,000 characters is at most 20 kB as JSON (\\uXXXX escapes: 30 kB); nothing larger is read.
MAX_COMMENT_REQUEST = 64 * 1024


@bp.after_request
def _headers(response: Response) -> Response:
    # Open data: any site may read it from a browser. Nothing here uses cookies, and writing needs a
    # JSON body, which a cross-site browser request cannot send without a preflight that is never granted.
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    # Public data may be cached for a minute; a receipt's progress, writes and refusals not at all.
    cacheable = request.method in ("GET", "HEAD") and response.status_code == 200 and request.endpoint != "api.receipt"
    response.headers.setdefault("Cache-Control", "public, max-age=60" if cacheable else "no-store")
    response.vary.add("Accept-Language")
    return response


def _page(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}


@bp.get("/openapi.json")
def openapi():
    return json_response(openapi_document(url_for("api.openapi", _external=True).removesuffix("/openapi.json")))


@bp.get("/departments")
def departments():
    rows = db.session.scalars(select(Department).where(Department.kind == "drafting").order_by(Department.id))
    return json_response({"items": [responses.department(d) for d in rows]})


@bp.get("/consultations")
def consultation_list():
    query = Query()
    status = query.choice("status", STATUSES)
    department_id = query.integer("department_id", 1, MAX_ID)
    year = query.integer("year", *YEARS)
    page, per_page = query.page()
    query.done()
    now = utcnow()
    result = browse_consultations(status=status, department_id=department_id, year=year, page=page,
                                  per_page=per_page, now=now)
    counts = comment_counts(result.items)
    return json_response(_page([responses.consultation_item(c, counts.get(c.id, 0), now) for c in result.items],
                               page, per_page, result.total))


@bp.get("/consultations/<int:consultation_id>")
def consultation_detail(consultation_id: int):
    now = utcnow()
    return json_response(responses.consultation_detail(consultations.public_consultation(consultation_id, now), now))


@bp.post("/consultations/<int:consultation_id>/comments")
def comment_create(consultation_id: int):
    """Accept a comment: the web form's checks and its rate limit; committed before the receipt is sent."""
    if request.content_length is not None and request.content_length > MAX_COMMENT_REQUEST:
        raise ApiError(413, "payload_too_large", _("The request is too large."))
    now = utcnow()
    consultation = consultations.public_consultation(consultation_id, now)
    data = comment_input(json_object())
    if not consultation.is_open(now):
        raise ApiError(409, "closed", _("The consultation closed on %(when)s; comments are no longer accepted.",
                                        when=responses.local_minute(consultation.closes_at)))
    if (seconds := ratelimit.retry_after("comment", "COMMENT_RATE_LIMIT")) is not None:
        raise ApiError(429, "rate_limited", _("You have sent many comments in a short time. Please wait a while "
                                              "and send this one again."), headers={"Retry-After": str(seconds)})
    comment = consultations.submit_comment(
        consultation, body=data.body, article_id=data.article_id, name=data.name, organisation=data.organisation,
        phone=data.phone, email=data.email, show_masked_name=data.show_masked_name,
        client_address=request.remote_addr, now=now,
    )
    body = responses.comment_created(comment)
    return json_response(body, 201, {"Location": body["lookup_url"]})


@bp.get("/receipts/<number>")
@ratelimit.limited("receipt", "RECEIPT_LOOKUP_RATE_LIMIT", methods=("GET",))
def receipt(number: str):
    comment = consultations.find_by_receipt(number) if len(number) <= 40 else None
    if comment is None:
        raise ApiError(404, "not_found", _("No comment has this receipt number. Please check it and try again."))
    return json_response(responses.receipt(comment))


@bp.get("/feedback/<int:document_id>")
def feedback(document_id: int):
    document = library.public_document(document_id)
    if document is None:
        raise ApiError(404, "not_found", _("No published feedback has this number."))
    return json_response(responses.feedback(document, build_feedback(document)))


@bp.get("/library")
def library_list():
    query = Query()
    status = query.choice("status", [s.value for s in LibraryStatus])
    topic = query.choice("topic", library.topics())
    department_id = query.integer("department_id", 1, MAX_ID)
    year = query.integer("year", *YEARS)
    page, per_page = query.page()
    query.done()
    result = library.browse(status=status, topic=topic, department_id=department_id, year=year, page=page,
                            per_page=per_page)
    return json_response(_page([responses.library_item(d, s) for d, s in result.items], page, per_page, result.total))


@bp.get("/library/<int:document_id>")
def library_document(document_id: int):
    document = library.public_document(document_id)
    if document is None:
        raise ApiError(404, "not_found", _("No published document has this number."))
    return json_response(responses.library_detail(document))

"""The API's endpoints: each reads its input with ``params``, asks a service, answers with ``responses``."""
from __future__ import annotations

import re

from flask import Response, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, audit_keys, ratelimit
from ..extensions import db
from ..feedback import build_feedback
from ..models import Department, utcnow
from ..errors import InvalidInput
from ..services import comment_lists, consultations, feedback_stage, library
from ..services.publication import LibraryStatus
from . import bp, responses
from .errors import ApiError, init_blueprint, json_response
from .listing import STATUSES, browse_consultations, comment_counts
from .openapi import document as openapi_document
from .params import CHECKPOINT_PAGE, MAX_CHECKPOINT_PAGE, MAX_ID, YEARS, Query, comment_input, json_object

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


# One rule for both methods: an id beyond the database's integer is then a 404 for either (two rules made
# werkzeug answer a POST with such an id 405, naming the GET rule whose converter had refused it).
@bp.route("/consultations/<int:consultation_id>/comments", methods=["GET", "POST"])
def consultation_comments(consultation_id: int):
    """GET: the published comments, a page at a time (keyset cursor): each group once with its size, or the
    published members of one group. POST: a new comment (comment_create)."""
    if request.method == "POST":
        return comment_create(consultation_id)
    query = Query()
    article_id = query.integer("article_id", 0, MAX_ID)
    campaign_id = query.integer("campaign_id", 1, MAX_ID)
    limit = query.integer("limit", 1, comment_lists.MAX_PAGE, comment_lists.PAGE)
    raw_cursor = request.args.get("cursor")
    # A cursor is the last id of a page: beyond the largest id there is nothing more (an empty page).
    cursor = (min(int(raw_cursor), MAX_ID),) if raw_cursor and re.fullmatch(r"[0-9]{1,10}", raw_cursor) else None
    if raw_cursor is not None and cursor is None:
        query.errors["cursor"] = _("Use the next_cursor of the previous page.")
    query.done()
    consultation = consultations.public_consultation(consultation_id, utcnow())
    page = comment_lists.published_texts(consultation, article_key=article_id, campaign_id=campaign_id,
                                         after=cursor[0] if cursor else None, limit=limit)
    return json_response(responses.comment_page(consultation, page, article_id=article_id, campaign_id=campaign_id,
                                                limit=limit if limit != comment_lists.PAGE else None))


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, as a header carries it


def comment_create(consultation_id: int):
    """Accept a comment: the web form's checks and its rate limit; committed before the receipt is sent.

    With an ``Idempotency-Key`` header, a retry of the same request gets the same receipt back (and no
    second comment), however often it is sent.
    """
    if request.content_length is not None and request.content_length > MAX_COMMENT_REQUEST:
        raise ApiError(413, "payload_too_large", _("The request is too large."))
    now = utcnow()
    consultation = consultations.public_consultation(consultation_id, now)
    data = comment_input(json_object())
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "invalid_idempotency_key", _("The Idempotency-Key must be 1 to 200 printable ASCII "
                                                         "characters."))
    try:
        earlier = consultations.replayed_comment(consultation, key, body=data.body, article_id=data.article_id)
    except InvalidInput as exc:
        raise ApiError(422, "idempotency_key_reused", exc.message) from None
    if earlier is not None:
        body = responses.comment_created(earlier)
        return json_response(body, 201, {"Location": body["lookup_url"], "Idempotent-Replayed": "true"})
    if not consultation.is_open(now):
        raise ApiError(409, "closed", _("The consultation closed on %(when)s; comments are no longer accepted.",
                                        when=responses.local_minute(consultation.closes_at)))
    if (seconds := ratelimit.retry_after("comment", "COMMENT_RATE_LIMIT")) is not None:
        raise ApiError(429, "rate_limited", _("You have sent many comments in a short time. Please wait a while "
                                              "and send this one again."), headers={"Retry-After": str(seconds)})
    comment = consultations.submit_comment(
        consultation, body=data.body, article_id=data.article_id, name=data.name, organisation=data.organisation,
        phone=data.phone, email=data.email, show_masked_name=data.show_masked_name,
        client_address=request.remote_addr, idempotency_key=key, now=now,
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
    document = feedback_stage.public_document(document_id)
    if document is None:
        raise ApiError(404, "not_found", _("No published feedback has this number."))
    data = build_feedback(document)
    return Response(stream_with_context(responses.feedback(document, data)), mimetype="application/json")


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


# --- the audit trail's signed checkpoints: copies kept by the public and other organs ------------------

@bp.get("/audit/checkpoints")
def audit_checkpoints():
    """The signed checkpoints, oldest first, a page at a time (keyset: after the number given)."""
    query = Query()
    after = query.integer("after", 0, MAX_ID, 0) or 0
    limit = query.integer("limit", 1, MAX_CHECKPOINT_PAGE, CHECKPOINT_PAGE) or CHECKPOINT_PAGE
    query.done()
    items = audit.checkpoints(after=after, limit=limit + 1)
    next_after = items[limit - 1].seq if len(items) > limit else None
    return json_response({
        "items": [c.public() for c in items[:limit]],
        "next_after": next_after,
        "next": url_for("api.audit_checkpoints", after=next_after, limit=limit if limit != CHECKPOINT_PAGE else None,
                        _external=True) if next_after else None,
    })


@bp.get("/audit/checkpoints/latest")
def audit_latest_checkpoint():
    latest = audit.latest_checkpoint()
    if latest is None:
        raise ApiError(404, "not_found", _("No checkpoint has been taken yet."))
    return json_response(latest.public())


@bp.get("/audit/keys")
def audit_public_keys():
    return json_response({"items": [{"key_id": k.key_id, "algorithm": audit_keys.ALGORITHM, "public_key": k.pem,
                                     "current": k.current} for k in audit_keys.public_keys()]})

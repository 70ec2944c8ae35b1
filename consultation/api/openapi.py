"""The OpenAPI 3.1 document of ``/api/v1``, built from the same constants the endpoints check against.

Objects are closed (``additionalProperties: false``): a field added to an answer without being
documented here makes the contract test fail, so the document cannot drift from the API.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from ..audit import CHECKPOINT_REASONS
from ..audit_keys import ALGORITHM
from ..feedback import DECISION_LABELS, HIDDEN_REASON_LABELS
from ..models.types import MAX_ROW_ID
from ..services.publication import LibraryStatus
from .errors import ERROR_CODES
from .comparison import openapi_path as comparison_path
from .listing import STATUSES
from .statistics import openapi_path as statistics_path
from .params import (
    BODY_PATTERN, CHECKPOINT_PAGE, EMAIL_MAX, MAX_CHECKPOINT_PAGE, MAX_ID, MAX_PAGE, MAX_PER_PAGE, NAME_MAX,
    ORGANISATION_MAX, PHONE_MAX, PHONE_PATTERN, TEXT_PATTERN, YEARS,
)

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
URL: Schema = {"type": "string", "format": "uri"}
MOMENT: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601 with the +08:00 offset"}
DAY: Schema = {"type": "string", "format": "date"}


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties: dict[str, Schema], description: str | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(properties),
                      "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def page_of(name: str) -> Schema:
    return obj({"items": array(ref(name)), "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "total": COUNT})


def _schemas() -> dict[str, Schema]:
    department = obj({"id": ID, "name": STRING})
    consultation_item = {
        "id": ID, "document_id": ID, "title": STRING, "department": ref("Department"), "opens_at": MOMENT,
        "closes_at": MOMENT,
        "status": {"type": "string", "enum": list(STATUSES),
                   "description": "open: inside the comment period; closed: after it; feedback: the adoption "
                                  "feedback is public (from the procedure's stage, an outcome or the final text)"},
        "comment_count": {**COUNT, "description": "every comment received, hidden ones included"},
        "url": {**URL, "description": "the public page"},
        "api_url": URL,
        "feedback_api_url": {**nullable(URL), "description": "once the adoption feedback is published"},
    }
    published_comment = obj({"id": ID, "article_id": nullable(ID), "text": STRING,
                             "count": {"type": "integer", "minimum": 1,
                                       "description": "the comments of its group (1: in no group)"},
                             "campaign_id": nullable(ID)},
                            "A published comment; a group of identical or near-identical comments appears once.")
    comment_page = obj({"items": array(ref("PublishedComment")),
                        "next_cursor": {**nullable(STRING), "description": "pass as cursor for the next page"},
                        "next": {**nullable(URL), "description": "the next page; null on the last"}})
    article = obj({"id": ID, "seq": {"type": "integer", "minimum": 1}, "label": STRING, "chapter": nullable(STRING),
                   "text": STRING, "anchor": STRING, "comment_count": COUNT, "published_count": COUNT,
                   "comments_url": URL})
    consultation_detail = obj({
        **consultation_item,
        "notice": STRING, "short_period_reason": nullable(STRING),
        "contacts": obj({"contact_person": nullable(STRING), "contact_phone": nullable(STRING),
                         "contact_email": nullable(STRING), "postal_address": nullable(STRING)},
                        "The drafting office's channels for comments by letter, mail or telephone."),
        "extensions": array(obj({"extended_at": MOMENT, "previous_closes_at": MOMENT, "new_closes_at": MOMENT,
                                 "reason": STRING})),
        "explanation": {**STRING, "description": "the drafting explanation (起草说明)"},
        "articles": array(ref("Article")),
        "whole_draft_comment_count": COUNT,
        "comments_url": {**URL, "description": "the published comments, paged"},
    })
    comment_input = {
        "type": "object",
        "properties": {
            "body": {"type": "string", "minLength": 1, "maxLength": current_app.config["COMMENT_MAX_LENGTH"],
                     "pattern": BODY_PATTERN,
                     "description": "the comment (not blank, no control characters but tab and line breaks); "
                                    "published only after moderation"},
            "article_id": {**nullable(ID), "description": "an article of this draft; absent or null: the draft as a "
                                                          "whole"},
            "name": {"type": ["string", "null"], "maxLength": NAME_MAX, "pattern": TEXT_PATTERN,
                     "description": "never published"},
            "organisation": {"type": ["string", "null"], "maxLength": ORGANISATION_MAX, "pattern": TEXT_PATTERN,
                             "description": "never published"},
            "phone": {"type": ["string", "null"], "maxLength": PHONE_MAX, "pattern": f"^{PHONE_PATTERN}$",
                      "description": "never published"},
            "email": {"type": ["string", "null"], "maxLength": EMAIL_MAX, "format": "email",
                      "description": "never published; the receipt is mailed here. Checked as a deliverable "
                                     "address form (no reserved domains such as .test or .local)"},
            "show_masked_name": {"type": "boolean", "default": False,
                                 "description": "show the name masked (张*) beside the comment in the feedback"},
        },
        "required": ["body"],
        "additionalProperties": False,
    }
    comment_created = obj({"receipt_number": {"type": "string", "pattern": "^[0-9A-Z]{10,}$"},
                           "receipt_display": STRING, "lookup_url": URL, "lookup_page": URL})
    answer = obj({"decision": {"type": "string", "enum": list(DECISION_LABELS)}, "decision_label": STRING,
                  "reason": STRING})
    outcome = obj({"stage": STRING, "label": STRING, "date": nullable(DAY), "reason": STRING})
    receipt = obj({
        "receipt_number": STRING, "receipt_display": STRING,
        "consultation": obj({"id": ID, "title": STRING, "url": URL}),
        "article": nullable(obj({"id": ID, "label": STRING})),
        "received_at": MOMENT,
        "moderation": {"type": "string", "enum": ["pending", "published", "hidden"]},
        "moderation_label": STRING,
        "progress": {"type": "string", "enum": ["consultation_open", "being_considered", "answered", "ended"]},
        "progress_label": STRING,
        "answer": {**nullable(ref("Answer")), "description": "present once the feedback is published"},
        "feedback_url": nullable(URL),
        "outcome": {**nullable(outcome), "description": "not adopted or withdrawn: the outcome, its date and reason"},
    })
    feedback_row = obj({
        "number": {"type": "integer", "minimum": 1}, "body": STRING,
        "decision": nullable({"type": "string", "enum": list(DECISION_LABELS)}), "decision_label": STRING,
        "reason": STRING,
        "masked_name": {**nullable(STRING), "description": "only when the commenter agreed, and masked"},
        "count": {"type": "integer", "minimum": 1, "description": "comments this row stands for (a campaign group)"},
        "hidden": {"type": "boolean", "description": "the text is withheld (moderation); the answer is not"},
        "changed_articles": {**array(obj({"seq": {"type": "integer", "minimum": 1}, "label": STRING})),
                             "description": "the articles of the final text that an adopted answer changed "
                                            "(修改对照表)"},
    })
    feedback = obj({
        "document_id": ID, "title": STRING, "document_number": nullable(STRING), "department": ref("Department"),
        "published_at": {**nullable(MOMENT), "description": "the final text's publication (null before it)"},
        "feedback_published_at": {**MOMENT, "description": "when the feedback became public"},
        "stage": obj({"status": {"type": "string", "enum": ["before_decision", "final", "outcome"]},
                      "stage": STRING, "stage_label": STRING, "line": STRING, "outcome": nullable(outcome)}),
        "summary": STRING,
        "counts": obj({k: COUNT for k in ("total", "adopted", "partly_adopted", "not_adopted", "explained",
                                          "unanswered")}),
        "hidden": array(obj({"reason": {"type": "string", "enum": [*HIDDEN_REASON_LABELS, "pending"]},
                             "label": STRING, "count": {"type": "integer", "minimum": 1}})),
        "hidden_total": COUNT,
        "by_channel": obj({k: COUNT for k in ("web", "letter", "email", "meeting")},
                          "how the comments came in: the web form, letters, emails, meetings (座谈会等)"),
        "prior_assessments": {**nullable(obj({
            "summary": STRING, "total": COUNT,
            "by_kind": obj({k: COUNT for k in ("enterprise", "association", "expert")}),
            "by_decision": obj({k: COUNT for k in DECISION_LABELS}),
            "items": array(obj({
                "kind": {"type": "string", "enum": ["enterprise", "association", "expert"]},
                "named_expert": {**nullable(STRING), "description": "an expert's name, only with their consent"},
                "decision": nullable({"type": "string", "enum": list(DECISION_LABELS)}), "reason": STRING,
                "article_remarks": COUNT})),
        })), "description": "invited prior assessments (事前评估), counted apart from the comments"},
        "final_articles": array(obj({"label": STRING, "chapter": nullable(STRING), "text": STRING})),
        "policy_interpretation": nullable(STRING),
        "links": obj({"page": URL, "pdf": nullable(URL), "csv": URL, "library": nullable(URL)}),
        "groups": array(obj({"label": STRING, "anchor": STRING, "text": STRING, "comment_count": COUNT,
                             "comments": array(ref("FeedbackRow"))})),
    })
    statuses = [s.value for s in LibraryStatus]
    library_item = {
        "id": ID, "title": STRING, "document_number": nullable(STRING), "registration_number": nullable(STRING),
        "issuing_organ": {**nullable(STRING), "description": "发文机关, the organ whose number the document carries"},
        "department": {**ref("Department"), "description": "the drafting department (起草单位)"},
        "signed_date": nullable(DAY), "published_at": MOMENT,
        "publication_time": nullable(obj({
            "working_days": COUNT, "limit_working_days": COUNT, "late_by_working_days": COUNT},
            "公布期限: working days from the meeting's decision to publication, against the limit (逾期公布 when "
            "late_by_working_days > 0); null when not recorded.")),
        "effective_date": nullable(DAY), "valid_until": nullable(DAY),
        "status": nullable({"type": "string", "enum": statuses}), "status_label": nullable(STRING),
        "topic": nullable(STRING), "urls": obj({"page": URL, "feedback": URL, "api": URL}),
    }
    document_ref = obj({"id": ID, "title": STRING, "document_number": nullable(STRING), "url": URL})
    library_detail = obj({
        **library_item,
        "history": array(obj({"day": DAY, "status": {"type": "string", "enum": statuses}, "status_label": STRING,
                              "note": STRING, "by_document": nullable(ref("DocumentRef")),
                              "by_reference": nullable(STRING)})),
        "changed": array(obj({"document": ref("DocumentRef"), "change": {"type": "string", "enum": statuses},
                              "change_label": STRING, "effective_on": DAY},
                             "A change this document made to another one.")),
        "articles": array(obj({"seq": {"type": "integer", "minimum": 1}, "label": STRING,
                               "chapter": nullable(STRING), "text": STRING, "anchor": STRING})),
        "policy_interpretation": nullable(STRING),
        "docx_url": nullable(URL),
    })
    checkpoint = obj({
        "seq": {"type": "integer", "minimum": 1, "description": "numbered from 1 without a gap"},
        "head_event_id": {**ID, "description": "the newest entry of the audit trail when it was taken"},
        "head_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                      "description": "that entry's SHA-256, which chains every earlier entry"},
        "event_count": {"type": "integer", "minimum": 1, "description": "entries up to the head, the head included"},
        "created_at": MOMENT,
        "reason": {"type": "string", "enum": list(CHECKPOINT_REASONS),
                   "description": "daily: by the clock; publication: a final text and its feedback were published"},
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "see /audit/keys"},
        "algorithm": {"type": "string", "enum": [ALGORITHM]},
        "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$",
                      "description": "in hex, over the UTF-8 JSON of seq, head_event_id, head_hash, event_count, "
                                     "created_at, reason and key_id as given here, keys sorted, without spaces"},
    }, "The audit trail's head at a moment, signed with a key kept outside the database. Keep a copy: "
       "`flask audit verify --against` checks the trail against it, which shows entries removed or rewritten.")
    checkpoint_page = obj({"items": array(ref("Checkpoint")),
                           "next_after": {**nullable({"type": "integer", "minimum": 1}),
                                          "description": "pass as after for the next page"},
                           "next": {**nullable(URL), "description": "the next page; null on the last"}})
    audit_keys = obj({"items": array(obj({
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$",
                   "description": "the first 16 hex digits of the SHA-256 of the raw public key"},
        "algorithm": {"type": "string", "enum": [ALGORITHM]},
        "public_key": {**STRING, "description": "PEM (SubjectPublicKeyInfo)"},
        "current": {"type": "boolean", "description": "false: a retired key, whose checkpoints still count"},
    }))})
    error = obj({"error": obj({
        "code": {"type": "string", "enum": list(ERROR_CODES)},
        "message": {**STRING, "description": "for people, in the language of Accept-Language"},
        "fields": {"type": "object", "additionalProperties": STRING,
                   "description": "the parameters or fields at fault, each with its message"},
    })})
    return {
        "Department": department, "ConsultationItem": obj(consultation_item),
        "ConsultationPage": page_of("ConsultationItem"), "PublishedComment": published_comment,
        "CommentPage": comment_page, "Article": article,
        "ConsultationDetail": consultation_detail, "CommentInput": comment_input, "CommentCreated": comment_created,
        "Answer": answer, "Receipt": receipt, "FeedbackRow": feedback_row, "Feedback": feedback,
        "LibraryItem": obj(library_item), "LibraryPage": page_of("LibraryItem"), "DocumentRef": document_ref,
        "LibraryDetail": library_detail, "Checkpoint": checkpoint, "CheckpointPage": checkpoint_page,
        "AuditKeys": audit_keys, "Error": error,
    }


def _json(schema_name: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


def _error(description: str, headers: dict[str, Schema] | None = None) -> Schema:
    answer = _json("Error", description)
    if headers:
        answer["headers"] = headers
    return answer


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path_id(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _paging() -> list[Schema]:
    return [_query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "page number"),
            _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
                   "results per page")]


# Any request may be refused as malformed (a NUL character anywhere is refused before any view).
MALFORMED = {"description": "the request is malformed or a parameter is not valid",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _get(operation_id: str, summary: str, answer: Schema, parameters: list[Schema] | None = None,
         errors: dict[str, Schema] | None = None, tag: str = "consultations") -> Schema:
    return {"get": {"operationId": operation_id, "summary": summary, "tags": [tag], "parameters": parameters or [],
                    "responses": {"200": answer, "400": MALFORMED, **(errors or {})}}}


def document(server: str) -> Schema:
    """The whole document; ``server`` is this deployment's base address of the API."""
    year = {"type": "integer", "minimum": YEARS[0], "maximum": YEARS[1]}
    department = _query("department_id", ID, "the drafting department (see /departments)")
    bad_query = {"400": _error("a query parameter is not valid")}
    not_found = {"404": _error("no such item, or not public yet")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{current_app.config['SITE_NAME']} API",
            "version": "1.0.0",
            "description": (
                "Open data of the normative-document consultations (规范性文件公开征求意见): the consultations "
                "once they open, comments with receipts, the adoption feedback and the library of published "
                "documents. No personal data of commenters is ever part of an answer. Messages follow "
                "Accept-Language (zh-Hans-CN by default, en). Comments share the web form's rate limit per "
                "client address."),
        },
        "servers": [{"url": server}],
        "tags": [{"name": "consultations"}, {"name": "comments"}, {"name": "feedback"}, {"name": "library"},
                 {"name": "audit"}],
        "paths": {
            "/departments": _get("listDepartments", "The drafting departments", {
                "description": "the departments",
                "content": {"application/json": {"schema": obj({"items": array(ref("Department"))})}}}),
            "/consultations": _get(
                "listConsultations", "Consultations that have opened, newest first",
                _json("ConsultationPage", "a page of consultations"),
                [_query("status", {"type": "string", "enum": list(STATUSES)}, "open, closed or feedback published"),
                 department, _query("year", year, "the year the consultation opened (Beijing time)"), *_paging()],
                bad_query),
            "/consultations/{consultation_id}": _get(
                "getConsultation", "One consultation: the notice, the draft by article, published comments",
                _json("ConsultationDetail", "the consultation"), [_path_id("consultation_id")], not_found),
            "/consultations/{consultation_id}/comments": {**_get(
                "listPublishedComments", "The published comments, a page at a time (keyset cursor)",
                _json("CommentPage", "a page of published comments"),
                [_path_id("consultation_id"),
                 _query("article_id", {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},
                        "an article of the draft; 0: comments on the draft as a whole"),
                 _query("campaign_id", ID, "the published members of one group"),
                 _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "page size"),
                 _query("cursor", {"type": "string", "pattern": "^[0-9]{1,10}$"}, "next_cursor of the previous page")],
                {**not_found}, tag="comments"), "post": {
                "operationId": "createComment", "tags": ["comments"],
                "summary": "Send a comment on the whole draft or on one article",
                "description": "The comment is stored before the answer is sent: a receipt number means it exists. "
                               "Send an Idempotency-Key to retry safely: the same key gives back the same receipt "
                               "(201 with Idempotent-Replayed: true), never a second comment.",
                "parameters": [_path_id("consultation_id"),
                               {"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                                           "pattern": "^[\\x21-\\x7e]+$"},
                                "description": "a unique key per comment chosen by the client (a UUID)"}],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": ref("CommentInput")}}},
                "responses": {
                    "201": {**_json("CommentCreated", "received; keep the receipt number"),
                            "headers": {"Location": {"description": "the receipt's API address",
                                                     "schema": URL}}},
                    "400": _error("the body is not a JSON object"),
                    **not_found,
                    "409": _error("the consultation is closed"),
                    "413": _error("the request is too large"),
                    "415": _error("the body is not application/json"),
                    "422": _error("a field is not valid, the article is not part of this draft, or the "
                                  "Idempotency-Key was used for another comment"),
                    "429": _error("too many comments from this address; wait and send again", RETRY_AFTER),
                },
            }},
            "/receipts/{receipt_number}": _get(
                "getReceipt", "What became of a comment, by its receipt number",
                _json("Receipt", "the comment's progress, and its answer once the feedback is published"),
                [{"name": "receipt_number", "in": "path", "required": True,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 40},
                  "description": "as on the receipt; dashes, spaces and case do not matter"}],
                {**not_found, "429": _error("too many look-ups from this address", RETRY_AFTER)}, tag="comments"),
            "/feedback/{document_id}": _get(
                "getFeedback", "The adoption feedback (意见采纳情况反馈) of a published document",
                _json("Feedback", "the feedback"), [_path_id("document_id")], not_found, tag="feedback"),
            "/feedback/{document_id}/comparison": comparison_path(_path_id("document_id"), not_found),
            "/library": _get(
                "listLibrary", "The library of published documents (规范性文件库), newest first",
                _json("LibraryPage", "a page of documents"),
                [_query("status", {"type": "string", "enum": [s.value for s in LibraryStatus]}, "validity status"),
                 _query("topic", {"type": "string", "enum": list(current_app.config["LIBRARY_TOPICS"])}, "topic"),
                 department, _query("year", year, "the year of the document number"), *_paging()],
                bad_query, tag="library"),
            "/library/{document_id}": _get(
                "getLibraryDocument", "One published document: record, status history and final text",
                _json("LibraryDetail", "the document"), [_path_id("document_id")], not_found, tag="library"),
            "/audit/checkpoints": _get(
                "listAuditCheckpoints", "The audit trail's signed checkpoints, oldest first (keyset)",
                _json("CheckpointPage", "a page of checkpoints"),
                [_query("after", {"type": "integer", "minimum": 0, "maximum": MAX_ID, "default": 0},
                        "the number (seq) of the last checkpoint already held"),
                 _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_CHECKPOINT_PAGE,
                                  "default": CHECKPOINT_PAGE}, "page size")],
                bad_query, tag="audit"),
            "/audit/checkpoints/latest": _get(
                "getLatestAuditCheckpoint", "The newest signed checkpoint",
                _json("Checkpoint", "the checkpoint"), [], {"404": _error("no checkpoint has been taken yet")},
                tag="audit"),
            "/statistics": statistics_path(year, department),
            "/audit/keys": _get(
                "listAuditKeys", "The public keys that check the checkpoints' signatures",
                _json("AuditKeys", "the current key and the retired ones"), tag="audit"),
        },
        "components": {"schemas": _schemas()},
    }

"""Reading what a client sends: query parameters and the comment body, checked field by field.

Everything is checked before it reaches a service or the database, so that no input can cause a 500:
numbers stay within the database's integers, text is valid Unicode without control characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_babel import gettext as _

from ..models.types import MAX_ROW_ID
from ..text import CONTROL, CONTROL_CHARACTERS, one_line_break
from .errors import ApiError

MAX_ID = MAX_ROW_ID
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
YEARS = (1900, 2999)
CHECKPOINT_PAGE, MAX_CHECKPOINT_PAGE = 100, 1000

# Lengths of the personal fields, as the web form and the table columns have them.
NAME_MAX, ORGANISATION_MAX, PHONE_MAX, EMAIL_MAX = 100, 200, 40, 200
PHONE_PATTERN = r"[0-9+\-() ]*"
COMMENT_FIELDS = ("body", "article_id", "name", "organisation", "phone", "email", "show_masked_name")
# The same rules as patterns for the OpenAPI document: no control characters; the comment not blank.
TEXT_PATTERN = f"^[^{CONTROL}]*$"
BODY_PATTERN = f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"


class Query:
    """The query string, read parameter by parameter; ``done()`` refuses the request if any was wrong."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int | None:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[0-9]{1,10}", raw) or not low <= int(raw) <= high:
            self.errors[name] = _("Must be a whole number from %(min)d to %(max)d.", min=low, max=high)
            return default
        return int(raw)

    def choice(self, name: str, values: tuple[str, ...] | list[str]) -> str | None:
        raw = request.args.get(name)
        if raw is None:
            return None
        if raw not in values:
            self.errors[name] = _("Choose one of: %(values)s.", values=", ".join(values))
            return None
        return raw

    def page(self) -> tuple[int, int]:
        return (self.integer("page", 1, MAX_PAGE, 1) or 1,
                self.integer("per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE)

    def done(self) -> None:
        if self.errors:
            raise ApiError(400, "invalid_parameters", _("Some query parameters are not valid."), self.errors)


@dataclass(frozen=True)
class CommentInput:
    body: str
    article_id: int | None
    name: str
    organisation: str
    phone: str
    email: str
    show_masked_name: bool


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; only ``application/json`` is read.

    Requiring the JSON media type means a browser on another site cannot post without a CORS
    preflight, which this API never grants: other sites cannot make their visitors send comments.
    """
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       _("Send the comment as JSON, with the header Content-Type: application/json."))
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", _("The request body must be a JSON object."))
    return data


def comment_input(data: dict[str, Any]) -> CommentInput:
    """Check a comment as the web form does, collecting a message for every field at fault."""
    errors: dict[str, str] = {}
    for name in data:
        if name not in COMMENT_FIELDS:
            errors[str(name)] = _("This field is not accepted.")

    limit = current_app.config["COMMENT_MAX_LENGTH"]
    body = _text(data, "body", limit, errors)
    if "body" not in errors and not body.strip():
        errors["body"] = _("Please write your comment.")
    name = _text(data, "name", NAME_MAX, errors)
    organisation = _text(data, "organisation", ORGANISATION_MAX, errors)
    phone = _text(data, "phone", PHONE_MAX, errors)
    if "phone" not in errors and not re.fullmatch(PHONE_PATTERN, phone):
        errors["phone"] = _("Use digits only for the telephone number.")
    email = _text(data, "email", EMAIL_MAX, errors).strip()
    if "email" not in errors and email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors["email"] = _("This email address is not valid.")

    article_id = data.get("article_id")
    if isinstance(article_id, float) and article_id.is_integer():
        article_id = int(article_id)
    if article_id is not None and (isinstance(article_id, bool) or not isinstance(article_id, int)
                                   or not 1 <= article_id <= MAX_ID):
        errors["article_id"] = _("Must be a whole number from %(min)d to %(max)d.", min=1, max=MAX_ID)
    show_masked_name = data.get("show_masked_name", False)
    if not isinstance(show_masked_name, bool):
        errors["show_masked_name"] = _("Must be true or false.")

    if errors:
        raise ApiError(422, "invalid_input", _("Some fields are not valid."), errors)
    return CommentInput(body=body, article_id=article_id, name=name, organisation=organisation, phone=phone,
                        email=email, show_masked_name=show_masked_name)


def _text(data: dict[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    """A text field: absent or null is empty; the length counts what was sent, spaces included."""
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        value = one_line_break(value)  # one line break is one character, as in the web form
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
    elif len(value) > limit:
        errors[name] = (_("The comment is too long: at most %(n)d characters.", n=limit) if name == "body"
                        else _("At most %(n)d characters.", n=limit))
    elif CONTROL_CHARACTERS.search(value) or not _encodable(value):
        errors[name] = _("Contains characters that are not allowed.")
    else:
        return value
    return ""


def _encodable(value: str) -> bool:
    """False for lone surrogates, which JSON allows and UTF-8 (hence the database) does not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

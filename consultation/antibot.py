"""A check against simple bots on the public comment form, with no outside service.

Two signs: a honeypot field that people never see or fill, and a signed time stamp given with the form,
because a person needs a few seconds to read and write while a script posts at once. A refused comment
keeps everything typed, with a message saying what to do.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "comment-form-started"
MAX_AGE = 12 * 3600  # a form left open for half a day is submitted again from a fresh page


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue() -> str:
    """The token the form carries: when it was served, signed."""
    return _serializer().dumps("form")


def refusal(token: str | None, honeypot: str | None) -> str | None:
    """Return why the submission looks automatic, or None when it looks human."""
    if honeypot:
        return _("The comment could not be accepted. Please reload the page and try again.")
    try:
        _serializer().loads(token or "", max_age=MAX_AGE)
    except SignatureExpired:
        return _("The page was open for too long. Please submit your comment again.")
    except BadSignature:
        return _("The comment could not be accepted. Please reload the page and try again.")
    age = _serializer().loads(token, max_age=MAX_AGE, return_timestamp=True)[1]
    from datetime import datetime, timezone

    seconds = (datetime.now(timezone.utc) - age).total_seconds()
    if seconds < current_app.config["COMMENT_MIN_SECONDS"]:
        return _("That was very quick. Please check your comment and submit it again.")
    return None

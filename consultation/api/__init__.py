"""The open-data API (开放数据接口) under ``/api/v1``: JSON in and out, no sign-in, no cookies.

What the public site shows, the API gives as data, and nothing more: consultations once they have
opened, the adoption feedback and the library once published, a comment's progress by its receipt
number. A comment sent here follows the web form's rules and shares its rate limit per client
address. The OpenAPI document at ``/api/v1/openapi.json`` describes every endpoint; a test checks
the live API against it.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import views  # noqa: E402,F401 - the routes register themselves on bp
from . import comparison  # noqa: E402,F401 - GET /feedback/{id}/comparison
from . import statistics  # noqa: E402,F401 - GET /statistics

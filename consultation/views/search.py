"""The public search page (placeholder: filled in by the search work of issue 4)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("search", __name__)

"""Search over consultations and the library (placeholder: filled in by the search work of issue 4)."""
from __future__ import annotations

from .models import Consultation, Document


def index_consultation(consultation: Consultation) -> None:
    """Add or refresh the entry of a consultation (visible from its opening time)."""


def index_document(document: Document) -> None:
    """Add or refresh the library entry of a published document (visible from its publication time)."""

"""PDF rendering with WeasyPrint: A4, Chinese fonts embedded (subset) as real text."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app, render_template

from .models import utcnow


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML  # imported late: the web process needs it only in jobs

    html = render_template(template, generated_at=utcnow(), **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def store(data: bytes, relative_name: str) -> tuple[Path, str]:
    """Write the file atomically under PDF_DIR; return its path and SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = Path(current_app.config["PDF_DIR"]) / relative_name
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target, digest

"""The configuration both the bench process and the project's gunicorn workers use for the bench database."""
from __future__ import annotations

import os
from typing import Any

REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET_KEY = "bench-secret-key-not-for-production"
PASSWORD = "bench-pass-123"  # the demo accounts' password in the bench database


def project_config(database_url: str, workdir: str) -> dict[str, Any]:
    """A mapping for ``create_app``: it replaces instance/config.py, so every setting the bench needs is here."""
    name = os.path.basename(database_url.rsplit("/", 1)[-1])
    return {
        "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": SECRET_KEY,
        "PDF_DIR": os.path.join(workdir, "pdf"),
        "MAIL_DIR": os.path.join(workdir, "mail"),
        "RQ_QUEUE_PREFIX": f"{name}-",
        "RATELIMIT_KEY_PREFIX": f"{name}-limits",
        # Every request of the bench comes from 127.0.0.1: the per-address limits would stop it at once.
        "COMMENT_RATE_LIMIT": "1000000 per minute",
        "RECEIPT_LOOKUP_RATE_LIMIT": "1000000 per minute",
        "SUBSCRIBE_RATE_LIMIT": "1000000 per minute",
        "SITE_URL": "http://127.0.0.1",
    }


def from_environment() -> dict[str, Any]:
    """The project configuration for a gunicorn worker, from BENCH_DATABASE_URL and BENCH_WORKDIR."""
    return project_config(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_WORKDIR"])

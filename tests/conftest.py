"""Fixtures: the app on a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), a real
Redis (embedded by default, TEST_REDIS_URL otherwise), clients with CSRF on, and a user of each role."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from consultation import create_app
from consultation.demo import seed_accounts
from consultation.extensions import db
from consultation.i18n import compile_catalogs
from consultation.models import User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "test-pass-123"


def _compile_translations() -> None:
    compile_catalogs(str(ROOT / "consultation" / "translations"))


def _database(tmp_path_factory) -> tuple[str, dict, callable]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        return f"sqlite:///{path}", {}, lambda: None
    # A schema of our own on the shared database, dropped at the end.
    schema = f"test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}, drop


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Flask:
    _compile_translations()
    url, engine_options, drop = _database(tmp_path_factory)
    instance = tmp_path_factory.mktemp("instance")
    redis_url = os.environ.get("TEST_REDIS_URL")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        "EMBEDDED_REDIS_FILE": str(instance / "redis.rdb"),
        "SITE_URL": "http://yijian.huacheng.gov.cn",  # links in mails and PDFs; not the commenters' 127.0.0.1
        "PDF_DIR": str(instance / "pdf"),
        "MAIL_DIR": str(instance / "mail"),
        "AUDIT_SIGNING_KEY_FILE": str(instance / "audit_signing_key.pem"),
        "RQ_QUEUE_PREFIX": f"test-{uuid.uuid4().hex[:6]}-",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production keeps scrypt
        "COMMENT_MIN_SECONDS": 0,  # the browser tests post at once; tests/test_antibot.py checks the delay
        # Every test client comes from 127.0.0.1: the limit is lowered where it is tested (test_public_site.py).
        "COMMENT_RATE_LIMIT": "10000 per minute",
        "RECEIPT_LOOKUP_RATE_LIMIT": "10000 per minute",
        "SUBSCRIBE_RATE_LIMIT": "10000 per minute",
        "SIGN_IN_ACCOUNT_LIMIT": "10000 per minute",  # lowered where it is tested (test_auth.py)
        "SIGN_IN_ADDRESS_LIMIT": "10000 per minute",
        # The journeys travel in time by weeks with signed-in staff: the limits are tested in test_auth.py.
        "SESSION_IDLE_MINUTES": 10 ** 7,
        "SESSION_MAX_HOURS": 10 ** 5,
        "RATELIMIT_KEY_PREFIX": f"test-limits-{uuid.uuid4().hex[:6]}",
    })
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture(autouse=True)
def _clean_database(app: Flask):
    with app.app_context():
        yield
        db.session.remove()
        from consultation.services.consultations import article_ids
        article_ids.cache_clear()  # SQLite gives the ids of deleted rows again; a database never does that
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The audit table refuses DELETE by trigger; a test superuser lifts that for this cleanup only.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def city(app: Flask) -> dict[str, User]:
    """The demo departments with one account per role, keyed by username."""
    seed_accounts(PASSWORD)
    db.session.commit()
    return {u.username: u for u in db.session.scalars(db.select(User))}


class Browser:
    """A test client that behaves like a browser with CSRF protection on."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None
        self._hidden: dict[str, str] = {}

    def _request(self, method: str, url: str, **kw):
        # A fresh app context per request, as in a real server: the test's own context (its g and
        # its database session) is never shared with the request.
        with self.client.application.app_context():
            return getattr(self.client, method)(url, **kw)

    def get(self, url: str, **kw):
        response = self._request("get", url, **kw)
        if match := re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', response.data):
            self._token = (match.group(1) or match.group(2)).decode()
        # Other hidden fields a browser sends back as they are (the comment form's time stamp).
        self._hidden = {m.group(1).decode(): m.group(2).decode() for m in re.finditer(
            rb'<input id="(started)" name="started" type="hidden" value="([^"]*)"', response.data)}
        return response

    def post(self, url: str, data: dict | None = None, *, form_page: str | None = None, **kw):
        """Open the page with the form (the url itself unless given), then post with its token."""
        self.get(form_page or url)
        data = dict(data or {})
        data.setdefault("csrf_token", self._token)
        for name, value in self._hidden.items():
            data.setdefault(name, value)
        return self._request("post", url, data=data, **kw)

    def login(self, username: str, password: str = PASSWORD):
        response = self.post("/auth/login", {"username": username, "password": password})
        assert response.status_code == 302, response.data
        return self


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def as_user(app: Flask, city):
    """Return a signed-in browser for a demo username: as_user("drafter")."""
    def make(username: str) -> Browser:
        return Browser(app.test_client()).login(username)
    return make


@pytest.fixture
def live_server(app: Flask):
    """The app served over real HTTP on a free localhost port, in a thread; yields its base address.

    Each request gets its own app context and database session, as under a production server.
    """
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

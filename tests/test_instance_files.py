"""The instance folder and everything in it are owner-only: database, secret key, Redis dump, PDFs, mails."""
from __future__ import annotations

import os
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text

from consultation import create_app, mail, pdf, queue
from consultation.extensions import db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    """A process umask that makes new files world-readable (022 is the usual default): modes are set by us."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "instance"
    monkeypatch.setenv("CONSULTATION_INSTANCE", str(folder))
    return folder


def fresh_app(**settings):
    """An installation on its own instance folder: SQLite, generated secret key, embedded Redis by default."""
    return create_app({"TESTING": True, "RQ_QUEUE_PREFIX": "perm-", **settings})


def test_a_new_installation_creates_its_instance_folder_owner_only(instance, permissive_umask):
    app = fresh_app()
    assert app.instance_path == str(instance)
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        db.session.execute(text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        files = {p.name: mode(p) for p in instance.iterdir()}
        db.session.remove()
        db.engine.dispose()
    assert mode(instance) == 0o700
    # The write-ahead log and its shared memory exist while a connection is open, with the database's mode.
    assert {"secret_key", "consultation.sqlite3", "consultation.sqlite3-wal", "consultation.sqlite3-shm"} <= set(files)
    assert {name: m for name, m in files.items() if m & 0o077} == {}
    assert mode(instance / "pdf") == mode(instance / "mail") == 0o700


def test_files_an_older_version_left_readable_are_closed_at_start_up(instance, permissive_umask):
    (instance / "pdf" / "2026").mkdir(parents=True, mode=0o755)
    instance.chmod(0o755)
    (instance / "pdf").chmod(0o755)
    for name in ("consultation.sqlite3", "consultation.sqlite3-wal", "redis.rdb", "secret_key", "pdf/2026/a.pdf",
                 "app.log"):
        (instance / name).write_text("x")
        (instance / name).chmod(0o644)
    outside = instance.parent / "elsewhere.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (instance / "link").symlink_to(outside)

    fresh_app()
    opened = [str(p.relative_to(instance)) for p in [instance, *instance.rglob("*")]
              if not p.is_symlink() and mode(p) & 0o077]
    assert opened == []
    assert mode(outside) == 0o644  # a link is not followed out of the folder


def test_the_embedded_redis_dump_is_owner_only(instance, permissive_umask):
    app = fresh_app(REDIS_URL=None)
    conn = queue.connection(app)
    server = app.extensions["embedded_redis_server"]
    try:
        conn.set("receipt", "HC-2026-000001")
        conn.save()
        dump = Path(app.config["EMBEDDED_REDIS_FILE"])
        assert dump.parent == instance and dump.exists()
        assert {p.name: oct(mode(p)) for p in instance.iterdir() if mode(p) & 0o077} == {}
    finally:
        conn.connection_pool.disconnect()
        server.shutdown(nosave=True)


def test_pdfs_and_mails_written_by_jobs_are_owner_only(instance, permissive_umask):
    app = fresh_app(REDIS_URL=None)
    with app.app_context():
        stored, _ = pdf.store(b"%PDF-1.7 feedback", "feedback/1/feedback.pdf")
        message = EmailMessage()
        message["To"] = "zhang@example.com"
        message.set_content("回执编号 HC-2026-000001")
        eml = Path(mail.deliver(message))
    assert mode(stored) == mode(eml) == 0o600
    assert mode(eml.parent) == 0o700

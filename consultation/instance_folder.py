"""The instance folder holds password hashes, commenters' personal data and the secret key: owner-only.

New files are made owner-only where they are created (the secret key, the SQLite database, PDFs, mails; the
servers run with umask 077 under manage.sh and systemd); at start-up, whatever an older version or another
umask left readable by group or others is closed.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

OWNER_ONLY_FOLDER = 0o700
OWNER_ONLY_FILE = 0o600
# SQLite gives its journal, WAL and shared-memory files the database file's permissions.
_SQLITE_COMPANIONS = ("", "-journal", "-wal", "-shm")


def init_app(app: Flask) -> None:
    """Close the instance folder, and create the folders and the SQLite database that the settings name."""
    secure(app.instance_path)
    for setting in ("PDF_DIR", "MAIL_DIR"):
        private_folder(app.config[setting])
    private_folder(Path(app.config["EMBEDDED_REDIS_FILE"]).parent)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        private_sqlite_file(url.database)


def secure(folder: str | os.PathLike[str]) -> None:
    """Create ``folder`` owner-only, and take group and world access away from it and all it holds."""
    root = Path(folder)
    root.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
    _close(root)
    for parent, folders, files in os.walk(root):
        for name in folders + files:
            _close(Path(parent) / name)


def private_folder(folder: str | os.PathLike[str]) -> None:
    """Create ``folder`` (and missing parents) owner-only; close it if it exists."""
    path = Path(folder)
    path.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
    _close(path)


def private_sqlite_file(database: str | os.PathLike[str]) -> None:
    """Create the SQLite database file owner-only before SQLite does (its WAL and -shm files follow its mode)."""
    path = Path(database)
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
    except FileExistsError:
        pass
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _close(companion)


def _close(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or not mode & 0o077:  # chmod would follow a link out of the folder
            return
        path.chmod(stat.S_IMODE(mode) & 0o700)
    except OSError as error:  # another account's file, or gone meanwhile: say so, start anyway
        log.warning("could not make %s owner-only: %s", path, error)

"""Staff sign-in: the password check and the sessions kept on the server (OWASP ASVS 2.2, 3.3).

The password is checked with the same work whether or not the account exists or is active (a dummy hash of
the same method), so that the time taken does not tell which usernames exist. Each sign-in opens a new
session with a new random token (no fixation); the browser keeps the token, the table its SHA-256. Signing
out, deactivation and a new password delete the rows, so a cookie copied before no longer opens anything. A
session also ends after ``SESSION_IDLE_MINUTES`` without a request and ``SESSION_MAX_HOURS`` after sign-in.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, sign_in_throttle
from ..errors import FieldRefused
from ..extensions import db
from ..models import User, utcnow
from ..models.accounts import SignInSession

SEEN_EVERY = timedelta(minutes=1)  # a live session's last request is written at most this often
_TOKEN_MAX = 100  # a longer token was never handed out: no need to hash it


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    """A hash of a random password by the accounts' method, checked when the account is unknown or inactive."""
    return generate_password_hash(secrets.token_hex(16), method=method)


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def authenticate(username: str, password: str) -> User | None:
    """The active account with this username (any case) and password, else None; always one hash check.

    Raises :class:`sign_in_throttle.Throttled` when this address has failed too often. A failure that locks the
    account for this address is recorded in the audit trail (without what was typed).
    """
    username = username.strip()
    attempt = sign_in_throttle.begin(username)
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    usable = user is not None and user.active
    right = check_password_hash(user.password_hash if usable else _dummy_hash(_hash_method()), password)
    if usable and right:
        attempt.succeeded()
        return user
    if attempt.failed():
        # Unknown usernames are recorded too (the same work), but not as typed: it may be a password.
        audit.record("sign_in_locked", actor=None, payload={
            "user_id": user.id if user else None, "username": user.username if user else None,
            "minutes": sign_in_throttle.account_window_minutes(),
        })
    return None


def confirm_own_password(user: User, password: str, field: str = "current_password") -> None:
    """Refuse (beside ``field``) unless this is the signed-in account's current password; counted like a
    sign-in attempt, so that a session left open does not let anyone guess it."""
    try:
        attempt = sign_in_throttle.begin(user.username)
    except sign_in_throttle.Throttled as exc:
        raise FieldRefused(field, exc.message) from None
    if check_password_hash(user.password_hash, password or ""):
        attempt.succeeded()
        return
    attempt.failed()
    raise FieldRefused(field, _("This is not your current password."))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetimes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"]), timedelta(hours=config["SESSION_MAX_HOURS"])


def _expired():
    """The condition of a session past its idle timeout or its lifetime."""
    idle, lifetime = _lifetimes()
    now = utcnow()
    return or_(SignInSession.last_seen_at < now - idle, SignInSession.created_at < now - lifetime)


def open_session(user: User) -> str:
    """Open a new session for the account and return its token (also kept on ``user`` for Flask-Login)."""
    db.session.execute(delete(SignInSession).where(_expired()))  # the sessions nobody came back to
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(SignInSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    db.session.flush()
    user.sign_in_token = token
    return token


def sign_in(user: User, previous_token: str | None = None) -> str:
    """Open a session for the account that gave its password (ending the browser's earlier one)."""
    if previous_token:
        end_session(previous_token)
    token = open_session(user)
    audit.record("sign_in", actor=user)
    return token


def sign_out(user: User) -> None:
    """End the session this request came with."""
    if user.sign_in_token:
        end_session(user.sign_in_token)
    audit.record("sign_out", actor=user)


def end_session(token: str) -> None:
    db.session.execute(delete(SignInSession).where(SignInSession.token_hash == token_hash(token)))


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of the account (but the one with token ``keep``); return how many ended."""
    query = delete(SignInSession).where(SignInSession.user_id == user.id)
    if keep:
        query = query.where(SignInSession.token_hash != token_hash(keep))
    return db.session.execute(query).rowcount or 0


def live_sessions(user: User) -> list[SignInSession]:
    """The account's sessions that still open something, the most recently used first."""
    return list(db.session.scalars(select(SignInSession).where(SignInSession.user_id == user.id, ~_expired())
                                   .order_by(SignInSession.last_seen_at.desc(), SignInSession.id.desc())))


def end_other_sessions(user: User, password: str) -> int:
    """The person ends their sessions elsewhere (a computer left signed in), after giving their password again
    (ASVS 3.3.4); return how many ended."""
    confirm_own_password(user, password, "password")
    ended = end_sessions(user, keep=user.sign_in_token)
    audit.record("sessions_ended", actor=user, payload={"user_id": user.id, "username": user.username,
                                                         "ended": ended})
    return ended


def end_account_sessions(user: User, actor: User) -> int:
    """An administrator ends every session of an account (a lost laptop); return how many ended."""
    ended = end_sessions(user)
    audit.record("sessions_ended", actor=actor, payload={"user_id": user.id, "username": user.username,
                                                          "ended": ended})
    return ended


def user_for(token: str) -> User | None:
    """The active account whose live session this token opens, else None (an expired session is deleted).

    Runs at the start of a request (consultation/security.py) and commits its own small writes: the time of
    the last request, at most once a minute, so that a busy session writes nothing most of the time.
    """
    if not token or len(token) > _TOKEN_MAX:
        return None
    row = db.session.scalars(select(SignInSession).where(SignInSession.token_hash == token_hash(token))).first()
    if row is None:
        return None
    idle, lifetime = _lifetimes()
    now = utcnow()
    if row.last_seen_at < now - idle or row.created_at < now - lifetime:
        db.session.delete(row)
        db.session.commit()
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_seen_at < now - SEEN_EVERY:
        db.session.execute(update(SignInSession).where(SignInSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    user.sign_in_token = token
    return user

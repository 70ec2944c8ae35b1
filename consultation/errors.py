"""Domain errors: each carries a message meant for the user, already translated; and which failures mean
that the database or Redis is away (answered 503, never a lost comment)."""
from __future__ import annotations


class DomainError(Exception):
    """A rule of the procedure refused the request; views show ``message`` to the user."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = str(message)


class NotAllowed(DomainError):
    """The user's roles or department do not allow this."""

    status_code = 403


class InvalidInput(DomainError):
    """The input breaks a rule (a window too short, a missing reason)."""

    status_code = 400


class FieldRefused(InvalidInput):
    """A refusal that concerns one form field, named by ``field``: the page shows it beside that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    status_code = 404


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database or Redis is away (restarting, unreachable, overloaded) rather than
    a fault of the request or of the code: such a request can be answered 503 and tried again."""
    import sqlite3

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy import exc as sa

    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, sa.TimeoutError)):
        return True  # sa.TimeoutError: no pooled connection came free in time
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc.orig, sqlite3.OperationalError):  # a locked or unreadable file, not a missing table
            return any(word in str(exc.orig) for word in ("locked", "unable to open", "disk I/O"))
        return isinstance(exc, (sa.OperationalError, sa.InterfaceError))
    return False

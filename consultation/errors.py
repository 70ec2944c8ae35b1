"""Domain errors: each carries a message meant for the user, already translated."""
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

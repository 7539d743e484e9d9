"""The one error base of every part: a code, a detail and, for bad input, the field at fault.

Parts raise these and never speak HTTP; the web edge (``web/errors.py``) and the CLI turn them into
problem responses and one-line messages, each in one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID_INPUT = "invalid_input"
    INTERNAL = "internal"
    UNAVAILABLE = "unavailable"
    """A service the request needs (the database, Redis) is away: try again shortly."""


class AtendeError(Exception):
    """Base error: what went wrong (``code``), said for a person (``detail``), and the field at fault."""

    code: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInputError(AtendeError):
    """Bad input: names the field and why."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class NotFoundError(AtendeError):
    code = ErrorCode.NOT_FOUND


class ConflictError(AtendeError):
    """The thing is in a state that forbids the action (taken by someone else, closed, a duplicate)."""

    code = ErrorCode.CONFLICT


class ForbiddenError(AtendeError):
    code = ErrorCode.FORBIDDEN


class UnauthenticatedError(AtendeError):
    code = ErrorCode.UNAUTHENTICATED

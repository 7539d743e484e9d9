"""Errors of the ticket lifecycle."""

from __future__ import annotations

from core.errors import AtendeError, ConflictError, ErrorCode, NotFoundError


class TicketNotFoundError(NotFoundError):
    pass


class TicketConflictError(ConflictError):
    """The ticket is in a state that forbids the action (taken by someone else, closed)."""


class InvalidReplyError(AtendeError):
    code = ErrorCode.INVALID_INPUT

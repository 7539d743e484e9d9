"""Errors of the ticket lifecycle."""

from __future__ import annotations


class HandoffError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class TicketNotFoundError(HandoffError):
    status_code = 404


class TicketConflictError(HandoffError):
    """The ticket is in a state that forbids the action (taken by someone else, closed)."""

    status_code = 409


class InvalidReplyError(HandoffError):
    status_code = 422

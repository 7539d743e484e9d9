"""Domain errors shared by every part; the web layer turns them into RFC 9457 problem responses."""

from __future__ import annotations


class AtendeError(Exception):
    """Base error: carries an HTTP status and, for bad input, the field at fault."""

    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInputError(AtendeError):
    status_code = 422
    title = "Invalid input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class NotFoundError(AtendeError):
    status_code = 404
    title = "Not found"


class ConflictError(AtendeError):
    status_code = 409
    title = "Conflict"


class PermissionDeniedError(AtendeError):
    status_code = 403
    title = "Forbidden"

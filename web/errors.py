"""Every error becomes an RFC 9457 problem response here, and nowhere else."""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from sqlalchemy.exc import SQLAlchemyError

from core.database import DatabaseUnreachableError, database_unreachable
from core.errors import AtendeError, ErrorCode

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
HTTP_STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
}
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    405: "Method not allowed",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}
RETRY_AFTER_SECONDS = 5
"""What a 503 asks the client (a browser, a provider's webhook) to wait before trying again."""


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    body["instance"] = request.url.path
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} | (headers or {})
    return Response(body | extra, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: AtendeError) -> Response[dict[str, Any]]:
    reason = getattr(exc, "reason", None) or exc.detail
    extra: dict[str, Any] = {"errors": [{"field": exc.field, "reason": reason}]} if exc.field else {}
    return _problem(request, HTTP_STATUS[exc.code], exc.detail, code=str(exc.code), **extra)


def validation_error_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    """Body and parameter errors: 422, naming each field and why."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            reason = str(item.get("message", ""))
            missing = _MISSING_FIELD.search(reason)
            field = missing.group(1) if missing else str(item.get("key") or "body").removeprefix("$.")
            errors.append({"field": field, "reason": reason})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or exc.detail
    return _problem(request, 422, detail, errors=errors)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if (
        isinstance(exc, NotAuthorizedException)
        and "token" in exc.detail.lower()
        and "invalid" not in exc.detail
    ):
        return _problem(request, 401, "log in first: send the token as 'Authorization: Bearer <token>'")
    return _problem(request, exc.status_code, exc.detail, headers=exc.headers)  # Allow, Retry-After


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The database is away (``core.database.database_unreachable``): a 503 with ``Retry-After``, so the
    page, the client or the channel's provider sends it again, with one log line naming the errors'
    types (never the statement, its parameters or the body). Any other database error stays a 500,
    logged with its traceback by ``web.error_log`` like every other fault."""
    fields = {
        "method": request.method,
        "path": request.url.path,
        "error": type(exc).__name__,
        "cause": type(_root_cause(exc)).__name__,
    }
    if database_unreachable(exc):
        log.warning("database.unavailable", **fields)
        detail = "the service is temporarily unavailable: try again in a few seconds"
        return _problem(request, 503, detail, code=str(ErrorCode.UNAVAILABLE))
    return _problem(request, 500, "the server failed to handle this request", code=str(ErrorCode.INTERNAL))


exception_handlers: dict[type[Exception] | int, Any] = {
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    AtendeError: domain_error_handler,
    SQLAlchemyError: database_error_handler,
    DatabaseUnreachableError: database_error_handler,
}

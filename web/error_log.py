"""Every request that fails on the server's side is logged, once, with its traceback.

Litestar turns an unexpected exception into a 500 and, unless in debug mode, logs nothing. This hook
logs each one (and each server-side error a handler maps, but for the database being away, which
``web.errors`` logs in one line) through structlog, whose
chain masks personal data in the message and the traceback (``core.logging``). Errors of the
client's making (4xx) are answers, not faults: they are not logged.
"""

from __future__ import annotations

import structlog
from litestar.exceptions import HTTPException
from litestar.types import Scope

from core.database import database_unreachable
from core.errors import AtendeError, ErrorCode

log = structlog.get_logger("atende.web")
_SERVER_SIDE = {ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE}


def is_server_fault(exc: Exception) -> bool:
    if database_unreachable(exc):
        return False  # an outage, not a fault: web.errors logs one line per refused request
    if isinstance(exc, HTTPException):
        return exc.status_code >= 500
    if isinstance(exc, AtendeError):
        return exc.code in _SERVER_SIDE
    return True


async def log_server_fault(exc: Exception, scope: Scope) -> None:
    """Litestar's ``after_exception`` hook: runs for every exception a route raised."""
    if is_server_fault(exc):
        log.error(
            "request.failed",
            method=scope.get("method", scope["type"]),
            path=scope.get("path_template") or scope["path"],
            error=type(exc).__name__,
            exc_info=exc,
        )

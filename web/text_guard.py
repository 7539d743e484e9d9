"""One rule for every route: text PostgreSQL cannot store is refused with a 422 naming the field.

Path parameters, query parameters and JSON bodies are looked at once, here, before a handler runs,
so that no handler has to (``core.storable_text`` says what cannot be stored). The body read here is
the one the handler gets: Litestar keeps it on the connection. Channels' webhooks opt out
(``opt={UNCHECKED_TEXT: True}``): what a provider sends is a customer's message, cleaned, not refused.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import InvalidInputError
from core.storable_text import UNCHECKED_TEXT, first_unstorable, unstorable_reason


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


async def check_storable_text(request: Request[Any, Any, Any]) -> None:
    """Raise ``InvalidInputError`` for the first parameter or JSON field PostgreSQL cannot store."""
    for name, value in (request.scope.get("path_params") or {}).items():
        if isinstance(value, str) and (reason := unstorable_reason(value)):
            raise InvalidInputError(name, reason)
    for name, value in request.query_params.multi_items():
        if reason := unstorable_reason(name) or unstorable_reason(value):
            raise InvalidInputError(name, reason)
    if request.method in {"GET", "HEAD", "OPTIONS", "DELETE"} or not _is_json(request.content_type[0]):
        return
    body = await request.body()
    if b"\\u" not in body:  # NUL and surrogates only come as escapes: raw, they are not valid JSON
        return
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # the handler's decoding says what is wrong with it
    if found := first_unstorable(decoded):
        raise InvalidInputError(*found)


class StorableTextMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = UNCHECKED_TEXT

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        await check_storable_text(Request(scope, receive))
        await next_app(scope, receive, send)

"""An ``OPTIONS`` answer names every method of its path.

Litestar 2 makes the automatic ``OPTIONS`` handler with the first handler registered for a path and
never updates it, so its ``Allow`` names only that handler's methods (litestar#4169, fixed in v3). This
``before_send`` hook writes the whole list, from the app's routes, on each such answer.
"""

from __future__ import annotations

from functools import cache

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


@cache
def _methods_by_path(app: Litestar) -> dict[str, str]:
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods.setdefault(route.path_format, set()).update(route.methods)
    return {path: ", ".join(sorted(names)) for path, names in methods.items()}


async def name_allowed_methods(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the full ``Allow`` on an ``OPTIONS`` answer's start."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    allowed = _methods_by_path(scope["app"]).get(scope.get("path_template", ""))
    headers = MutableScopeHeaders.from_message(message)
    if allowed and "allow" in headers:
        headers["Allow"] = allowed

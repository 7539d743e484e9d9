"""The security headers of every response, pages and API alike, set in one place (a ``before_send`` hook,
so errors, 404s and the login's refusals carry them too).

The policy lets a page run only the scripts and styles served from /static: no inline script, no
``eval``, no plugin; frames only from this origin (and ``blob:`` for the eval report, whose one inline
stylesheet is allowed by its hash). The customer's chat page may be embedded by any site (it is the web
chat widget, and no setting lists a tenant's sites yet), so it alone has ``frame-ancestors *``. A
response that set its own policy (media files: a sandbox) keeps it.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from evals.html import report_style_hash

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {report_style_hash()}",
            "img-src 'self' blob: data:",
            "frame-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_PAGE = {
    **_COMMON,
    "Content-Security-Policy": content_security_policy("'self'"),
    "X-Frame-Options": "SAMEORIGIN",
}
_EMBEDDABLE = {**_COMMON, "Content-Security-Policy": content_security_policy("*")}


def _embeddable(path: str) -> bool:
    """The customer's chat page, which a tenant's own site may show in a frame."""
    return path.startswith("/chat/")


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the headers on each HTTP response's start, those it already has kept."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    wanted = _EMBEDDABLE if _embeddable(scope.get("path", "")) else _PAGE
    for name, value in wanted.items():
        if name not in headers:
            headers[name] = value
    if scope.get("scheme") == "https" and "Strict-Transport-Security" not in headers:
        headers["Strict-Transport-Security"] = HSTS

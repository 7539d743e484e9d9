"""Customers' media files, for the inbox only: the logged-in user's tenant, never a public URL.

A file is the customer's content shown on Atende's own origin, so it never runs there: only plain
raster images are served inline; everything else is a download (``Content-Disposition: attachment``),
and active content (SVG, HTML, XML…) or a type ATENDE_MEDIA_TYPES no longer accepts goes out as
``application/octet-stream``. Every media response also carries ``nosniff`` and a sandbox CSP.
"""

from __future__ import annotations

import unicodedata
import uuid
from urllib.parse import quote

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Response
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.message_reads import message_file
from conversations.services import Services
from core.media_types import essence, is_active_content, shows_inline
from core.settings import Settings
from web.auth import AuthUser, InboxController

MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}
"""On every media response: no type sniffing, and a page that could render would be sandboxed anyway."""

_MAX_NAME = 150


def _ascii_fallback(name: str) -> str:
    """The name for clients that ignore ``filename*``: ASCII letters kept, quotes and the rest made ``_``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() or c in " .-_()" else "_" for c in plain).strip() or "file"


def clean_file_name(name: str) -> str:
    """No path, no control characters, at most 150 characters (the extension kept)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(name) > _MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        name = (
            stem[: _MAX_NAME - len(suffix) - 1] + dot + suffix
            if dot and len(suffix) <= 10
            else name[:_MAX_NAME]
        )
    return name or "file"


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: a quoted ASCII ``filename`` and the exact name as RFC 5987 ``filename*``."""
    name = clean_file_name(name)
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def served_as(mime_type: str | None, settings: Settings) -> tuple[str, str]:
    """The Content-Type and disposition a stored file is served with."""
    if shows_inline(mime_type):
        return essence(mime_type), "inline"
    if not mime_type or is_active_content(mime_type) or not settings.accepts_media_type(mime_type):
        return "application/octet-stream", "attachment"
    return essence(mime_type), "attachment"


class MediaController(InboxController):
    path = "/api/v1/media"

    @get("/{message_id:uuid}/{index:int}")
    async def attachment(
        self,
        request: Request[AuthUser, Token, State],
        message_id: uuid.UUID,
        index: int,
        db_session: AsyncSession,
        services: Services,
    ) -> Response[bytes]:
        """The ``index``-th file of a message whose ticket the user sees; others are 404 alike."""
        attachment, data = await message_file(services, db_session, request.user, message_id, index)
        name = attachment.file_name or str(attachment.path).rsplit("/", 1)[-1]
        media_type, disposition = served_as(attachment.mime_type, services.settings)
        headers = {**MEDIA_HEADERS, "Content-Disposition": content_disposition(disposition, name)}
        return Response(data, media_type=media_type, headers=headers)

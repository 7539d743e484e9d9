"""Customers' media files, for the inbox only: the logged-in user's tenant, never a public URL."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Response
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.message_reads import message_file
from conversations.services import Services
from web.auth import AuthUser, InboxController


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
        """The ``index``-th file of a message of the user's tenant; other tenants' are 404 alike."""
        attachment, data = await message_file(services, db_session, request.user.tenant_id, message_id, index)
        name = attachment.file_name or str(attachment.path).rsplit("/", 1)[-1]
        return Response(
            data,
            media_type=attachment.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
        )

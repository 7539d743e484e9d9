"""Customers' media files, for the inbox only: the logged-in user's tenant, never a public URL."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.response import Response
from litestar.security.jwt import Token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import content_of
from channels.media_store import MediaNotFoundError
from channels.models import Message
from conversations.services import Services
from core.errors import NotFoundError
from web.auth import AuthUser, inbox_roles_only


class MediaController(Controller):
    path = "/api/v1/media"
    guards = [inbox_roles_only]  # noqa: RUF012 - Litestar reads this class attribute

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
        message = await db_session.scalar(
            select(Message).where(Message.id == message_id, Message.tenant_id == request.user.tenant_id)
        )
        attachments = content_of(message.content).attachments if message else ()
        if not 0 <= index < len(attachments) or not attachments[index].path:
            raise NotFoundError(f"no file {index} in message {message_id}")
        attachment = attachments[index]
        try:
            data = await services.media.read(str(attachment.path))
        except MediaNotFoundError as exc:
            raise NotFoundError(f"no file {index} in message {message_id}") from exc
        name = attachment.file_name or str(attachment.path).rsplit("/", 1)[-1]
        return Response(
            data,
            media_type=attachment.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
        )

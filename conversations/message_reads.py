"""Messages read outside a ticket's page: the web chat page's own conversation, and a message's files
for the inbox."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Attachment, content_of
from channels.media_store import MediaNotFoundError
from channels.models import DeliveryStatus, Message
from channels.service import conversation_messages, find_conversation
from channels.views import MessageView, message_view
from conversations.services import Services
from core.accounts import Actor
from core.errors import NotFoundError
from handoff.visibility import sees_conversation, visibility


async def webchat_transcript(
    session: AsyncSession, tenant_id: uuid.UUID, session_id: str
) -> list[MessageView]:
    """The web chat session's conversation so far (none yet: empty), without the bot's decision records:
    the customer sees the conversation, not why the bot answered as it did, nor replies never sent."""
    found = await find_conversation(session, tenant_id, session_id, "webchat")
    if found is None:
        return []
    messages = await conversation_messages(session, tenant_id, found[1].id)
    return [
        msgspec.structs.replace(message_view(m), decision=None)
        for m in messages
        if m.delivery_status != DeliveryStatus.SUPPRESSED
    ]


async def message_file(
    services: Services, session: AsyncSession, actor: Actor, message_id: uuid.UUID, index: int
) -> tuple[Attachment, bytes]:
    """The ``index``-th file of a message this person may see (``handoff.visibility``), and its bytes;
    one of a ticket they cannot see, or of another tenant, is not found alike."""
    message = await session.scalar(
        select(Message).where(Message.id == message_id, Message.tenant_id == actor.tenant_id)
    )
    if message is not None:
        view = await visibility(session, actor.tenant_id, actor.id, actor.role)
        if not await sees_conversation(session, view, actor.tenant_id, message.conversation_id):
            message = None
    attachments = content_of(message.content).attachments if message else ()
    if not 0 <= index < len(attachments) or not attachments[index].path:
        raise NotFoundError(f"no file {index} in message {message_id}")
    attachment = attachments[index]
    try:
        return attachment, await services.media.read(str(attachment.path))
    except MediaNotFoundError as exc:
        raise NotFoundError(f"no file {index} in message {message_id}") from exc

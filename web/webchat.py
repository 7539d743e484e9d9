"""The web chat channel's API: customers post messages and follow their session in real time."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ContactExternalId, InboundMessage, MessageText
from channels.service import get_or_create_channel
from channels.views import MessageView
from channels.webchat import session_stream
from conversations.message_reads import webchat_transcript
from conversations.receive import receive_on_default_channel
from conversations.services import Services
from conversations.typing import Throttle, customer_typing
from core.accounts import get_tenant
from web.sockets import relay


class CustomerTyping(msgspec.Struct, tag_field="type", tag="typing"):
    """What the chat page sends while the customer writes: ``{"type": "typing"}``."""


SessionId = ContactExternalId


class WebChatMessageIn(msgspec.Struct):
    session_id: SessionId
    text: MessageText
    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """The page's own id for the message: a retried POST with the same id is stored once."""


class WebChatMessageAccepted(msgspec.Struct):
    id: str
    session_id: str
    duplicate: bool


class WebChatController(Controller):
    path = "/api/v1/webchat/{tenant_slug:str}"

    @post("/messages", exclude_from_auth=True, status_code=202)
    async def post_message(
        self, tenant_slug: str, data: WebChatMessageIn, db_session: AsyncSession, services: Services
    ) -> WebChatMessageAccepted:
        tenant = await get_tenant(db_session, tenant_slug)
        await db_session.close()  # its connection back to the pool: storing the message takes another
        inbound = InboundMessage(
            contact_external_id=data.session_id,
            text=data.text,
            channel_message_id=data.message_id or str(uuid.uuid4()),
        )
        received = await receive_on_default_channel(services, tenant, "webchat", inbound)
        return WebChatMessageAccepted(
            id=str(received.message_id), session_id=data.session_id, duplicate=not received.created
        )

    @get("/sessions/{session_id:str}/messages", exclude_from_auth=True)
    async def list_messages(
        self, tenant_slug: str, session_id: str, db_session: AsyncSession
    ) -> list[MessageView]:
        tenant = await get_tenant(db_session, tenant_slug)
        return await webchat_transcript(db_session, tenant.id, session_id)

    @websocket("/sessions/{session_id:str}/events", exclude_from_auth=True)
    async def session_events(
        self,
        socket: WebSocket[Any, Any, Any],
        tenant_slug: str,
        session_id: str,
        channels: ChannelsPlugin,
        db_session: AsyncSession,
        services: Services,
    ) -> None:
        """Replies as they happen; the page sends ``{"type": "typing"}`` while the customer writes."""
        tenant = await get_tenant(db_session, tenant_slug)
        await db_session.close()
        throttle = Throttle()

        async def typing(_: CustomerTyping) -> None:
            if throttle.allows(session_id):
                async with services.database.sessionmaker() as session:
                    channel = await get_or_create_channel(session, tenant.id, "webchat")
                    await customer_typing(services, session, channel, session_id)

        stream = session_stream(str(tenant.id), session_id)
        await relay(socket, channels, stream, socket.send_data, CustomerTyping, typing)

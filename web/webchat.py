"""The web chat channel's API: a page starts a session, posts messages and follows it in real time.

The server issues the session (``POST .../sessions``: a random id and its token); reading, posting
and listening need the token (``Authorization: Bearer``, or ``?token=`` on the WebSocket, where a
browser cannot set headers). Posts are counted per session and per client address, and so are new
sessions per address, so one caller cannot flood the bot or the queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ContactExternalId, InboundMessage, MessageText
from channels.service import get_or_create_channel
from channels.views import MessageView
from channels.webchat import check_session_token, new_session, session_stream, visitor_name
from conversations.message_reads import webchat_transcript
from conversations.receive import receive_on_default_channel
from conversations.services import Services
from conversations.typing import Throttle, customer_typing
from core.accounts import Tenant, get_tenant
from core.settings import Settings
from web.rate_limits import Allowance, RateLimits
from web.sockets import relay


class CustomerTyping(msgspec.Struct, tag_field="type", tag="typing"):
    """What the chat page sends while the customer writes: ``{"type": "typing"}``."""


SessionId = ContactExternalId


class WebChatSessionCreated(msgspec.Struct):
    session_id: str
    token: str
    """Keep it: it is the only way back into this conversation."""
    name: str
    """What the team sees the customer called until they say their name."""


class WebChatMessageIn(msgspec.Struct):
    session_id: SessionId
    text: MessageText
    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] | None = None
    """The page's own id for the message: a retried POST with the same id is stored once."""


class WebChatMessageAccepted(msgspec.Struct):
    id: str
    session_id: str
    duplicate: bool


@dataclass(frozen=True)
class _Allowances:
    per_session: Allowance
    per_address: Allowance
    new_sessions: Allowance


def _allowances(settings: Settings) -> _Allowances:
    return _Allowances(
        per_session=Allowance(
            "webchat-session-posts",
            f"{settings.webchat_posts_per_minute}/minute",
            "too many messages in this chat",
        ),
        per_address=Allowance(
            "webchat-address-posts",
            f"{settings.webchat_address_posts_per_minute}/minute",
            "too many chat messages from this address",
        ),
        new_sessions=Allowance(
            "webchat-address-sessions",
            f"{settings.webchat_address_sessions_per_minute}/minute",
            "too many new chats from this address",
        ),
    )


async def _spend(connection: ASGIConnection[Any, Any, Any, Any], allowance: Allowance, key: str) -> None:
    """Count against ``allowance`` (uncounted while Redis is away: ``web.rate_limits``)."""
    limits: RateLimits = connection.app.state.rate_limits
    await limits.spend(allowance, key)


def _address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _secret_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    key: str = connection.app.state.secret_key
    return key


async def _tenant(db_session: AsyncSession, tenant_slug: str) -> Tenant:
    tenant = await get_tenant(db_session, tenant_slug)
    await db_session.close()  # its connection back to the pool: what follows takes another, or none
    return tenant


class WebChatController(Controller):
    path = "/api/v1/webchat/{tenant_slug:str}"

    @post("/sessions", exclude_from_auth=True, status_code=201)
    async def start_session(
        self, request: Request[Any, Any, Any], tenant_slug: str, db_session: AsyncSession, services: Services
    ) -> WebChatSessionCreated:
        tenant = await _tenant(db_session, tenant_slug)
        await _spend(request, _allowances(services.settings).new_sessions, _address(request))
        issued = new_session(_secret_key(request), tenant.id)
        return WebChatSessionCreated(issued.id, issued.token, visitor_name(issued.id))

    @post("/messages", exclude_from_auth=True, status_code=202)
    async def post_message(
        self,
        request: Request[Any, Any, Any],
        tenant_slug: str,
        data: WebChatMessageIn,
        db_session: AsyncSession,
        services: Services,
    ) -> WebChatMessageAccepted:
        tenant = await _tenant(db_session, tenant_slug)
        check_session_token(_secret_key(request), tenant.id, data.session_id, _bearer(request))
        allowances = _allowances(services.settings)
        await _spend(request, allowances.per_session, f"{tenant.id}:{data.session_id}")
        await _spend(request, allowances.per_address, _address(request))
        inbound = InboundMessage(
            contact_external_id=data.session_id,
            text=data.text,
            # Scoped to the session: another session's page cannot collide with (or probe) this id.
            channel_message_id=f"{data.session_id}:{data.message_id or uuid.uuid4()}",
            contact_name=visitor_name(data.session_id),
        )
        received = await receive_on_default_channel(services, tenant, "webchat", inbound)
        return WebChatMessageAccepted(
            id=str(received.message_id), session_id=data.session_id, duplicate=not received.created
        )

    @get("/sessions/{session_id:str}/messages", exclude_from_auth=True)
    async def list_messages(
        self, request: Request[Any, Any, Any], tenant_slug: str, session_id: str, db_session: AsyncSession
    ) -> list[MessageView]:
        tenant = await get_tenant(db_session, tenant_slug)
        check_session_token(_secret_key(request), tenant.id, session_id, _bearer(request))
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
        tenant = await _tenant(db_session, tenant_slug)
        check_session_token(_secret_key(socket), tenant.id, session_id, socket.query_params.get("token"))
        throttle = Throttle()

        async def typing(_: CustomerTyping) -> None:
            if throttle.allows(session_id):
                async with services.database.sessionmaker() as session:
                    channel = await get_or_create_channel(session, tenant.id, "webchat")
                    await customer_typing(services, session, channel, session_id)

        stream = session_stream(str(tenant.id), session_id)
        await relay(socket, channels, stream, socket.send_data, CustomerTyping, typing)

"""The public REST API, for a tenant's own systems: authenticated by an API key, scoped to its tenant.

``Authorization: Bearer atd_…`` (or ``X-API-Key: atd_…``). An unknown or revoked key is a 401;
another tenant's channel, conversation or contact is a 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.pagination import OffsetPagination
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ContactExternalId, MessageText
from channels.contacts import get_contact
from channels.models import Contact, Conversation
from channels.views import MessageView, message_view
from conversations.notify import Outgoing, send_outgoing
from conversations.services import Services
from core.views import view_of
from handoff.views import TicketView, ticket_view
from integrations import public_api
from integrations.api_keys import VISIBLE_CHARS, hash_key, use_api_key

API_KEY_SCHEME = "ApiKey"
Limit = Annotated[int, Parameter(ge=1, le=100, description="how many items per page")]
MAX_OFFSET = 1_000_000
"""Beyond this a list is read by filtering, not by paging (and PostgreSQL's OFFSET takes a bigint)."""
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="how many items to skip")]
OfChannel = Annotated[uuid.UUID | None, Parameter(description="only this channel's")]
T = TypeVar("T")


@dataclass(frozen=True)
class ApiClient:
    """Who is calling: one of a tenant's API keys."""

    key_id: uuid.UUID
    tenant_id: uuid.UUID
    key_prefix: str


@dataclass(frozen=True)
class Window:
    """Which page of a list a call asks for (``limit`` and ``offset`` in its query)."""

    limit: int
    offset: int

    def page(self, items: list[T], total: int) -> OffsetPagination[T]:
        return OffsetPagination(items, self.limit, self.offset, total)


def provide_window(limit: Limit = 50, offset: Offset = 0) -> Window:
    return Window(limit, offset)


def _presented_key(request: Request[Any, Any, Any]) -> str | None:
    if key := request.headers.get("x-api-key"):
        return key.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


ADDRESS_ALLOWANCE = 5
"""One address may make this many keys' worth of requests (several integrations behind one NAT)."""


def rate_limited_caller(request: Request[Any, Any, Any]) -> str:
    """Whom the public API's limit counts: the API key (hashed, so no key sits in the store), else
    the address of a caller who sent none."""
    key = _presented_key(request)
    return f"key:{hash_key(key)}" if key else f"ip:{get_remote_address(request)}"


def rate_limits(per_minute: int) -> list[DefineMiddleware]:
    """``per_minute`` requests per key; more get a 429 whose ``RateLimit-Reset`` says when to retry.
    An address gets ``ADDRESS_ALLOWANCE`` times that whatever keys it sends, so made-up keys (each a
    fresh count) cannot flood the key check."""
    per_key = RateLimitConfig(rate_limit=("minute", per_minute), identifier_for_request=rate_limited_caller)
    per_address = RateLimitConfig(
        rate_limit=("minute", per_minute * ADDRESS_ALLOWANCE),
        identifier_for_request=lambda request: f"address:{get_remote_address(request)}",
        set_rate_limit_headers=False,
    )
    return [per_address.middleware, per_key.middleware]


async def provide_api_client(request: Request[Any, Any, Any], services: Services) -> ApiClient:
    key = _presented_key(request)
    if not key:
        raise NotAuthorizedException("send an API key as 'Authorization: Bearer atd_…' or 'X-API-Key: atd_…'")
    async with services.database.sessionmaker.begin() as session:
        found = await use_api_key(session, key)
    if found is None:
        raise NotAuthorizedException("unknown or revoked API key")
    return ApiClient(key_id=found[0], tenant_id=found[1], key_prefix=key[:VISIBLE_CHARS])


class ApiMessageIn(msgspec.Struct):
    channel_id: uuid.UUID
    contact: ContactExternalId
    text: MessageText
    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=150)] | None = None
    """Your own id for the message: a retried call with the same id sends it once."""


class ContactView(msgspec.Struct):
    id: str
    channel_id: str
    external_id: str
    name: str | None
    created_at: str
    email: str | None = None
    phone: str | None = None
    custom_fields: dict[str, str] = {}


class ContactUpdate(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ConversationView(msgspec.Struct):
    id: str
    channel_id: str
    mode: str
    """bot, or human once handed off."""
    contact: ContactView
    created_at: str
    updated_at: str


def _contact_view(contact: Contact) -> ContactView:
    return view_of(ContactView, contact)


def _conversation_view(conversation: Conversation, contact: Contact) -> ConversationView:
    return view_of(ConversationView, conversation, contact=_contact_view(contact))


class PublicApiController(Controller):
    path = "/api/v1/public"
    tags = ["Public API"]  # noqa: RUF012 - Litestar reads this class attribute
    security = [{API_KEY_SCHEME: []}]  # noqa: RUF012 - Litestar reads this class attribute
    opt = {"exclude_from_auth": True}  # noqa: RUF012 - the API key, not the login token, says who calls
    dependencies = {  # noqa: RUF012 - Litestar reads this class attribute
        "client": Provide(provide_api_client),
        "window": Provide(provide_window, sync_to_thread=False),
    }

    @post("/messages", status_code=201)
    async def send_message(
        self, client: ApiClient, data: ApiMessageIn, db_session: AsyncSession, services: Services
    ) -> MessageView:
        """Send a text to a contact on one of the tenant's channels, as an agent would.

        It is stored in the conversation (the inbox shows it) and delivered through the channel;
        ``delivery_status`` follows it (pending, sent, failed) on external channels.
        """
        async with db_session.begin():
            message, channel, contact, created = await public_api.store_api_message(
                db_session,
                client.tenant_id,
                data.channel_id,
                data.contact,
                data.text,
                data.message_id,
                client.key_prefix,
            )
            outgoing = Outgoing.of(message, channel.type, contact.external_id) if created else None
            view = message_view(message)
        if outgoing is not None:
            await send_outgoing(services, outgoing)
        return view

    @get("/conversations")
    async def conversations(
        self, client: ApiClient, db_session: AsyncSession, window: Window, channel_id: OfChannel = None
    ) -> OffsetPagination[ConversationView]:
        """The tenant's conversations, newest first."""
        page = await public_api.page_conversations(
            db_session, client.tenant_id, window.limit, window.offset, channel_id
        )
        return window.page([_conversation_view(c, p) for c, p in page.items], page.total)

    @get("/conversations/{conversation_id:uuid}/messages")
    async def messages(
        self, client: ApiClient, conversation_id: uuid.UUID, db_session: AsyncSession, window: Window
    ) -> OffsetPagination[MessageView]:
        """A conversation's messages, oldest first."""
        page = await public_api.page_messages(
            db_session, client.tenant_id, conversation_id, window.limit, window.offset
        )
        return window.page([message_view(m) for m in page.items], page.total)

    @get("/tickets")
    async def tickets(
        self,
        client: ApiClient,
        db_session: AsyncSession,
        window: Window,
        status: Literal["pending", "open", "closed"] | None = Parameter(
            default=None, description="pending, open or closed"
        ),
    ) -> OffsetPagination[TicketView]:
        """The tenant's tickets, newest first."""
        page = await public_api.page_tickets(
            db_session, client.tenant_id, window.limit, window.offset, status
        )
        return window.page([ticket_view(t, c.name or c.external_id) for t, c in page.items], page.total)

    @get("/contacts")
    async def contacts(
        self,
        client: ApiClient,
        db_session: AsyncSession,
        window: Window,
        channel_id: OfChannel = None,
        external_id: str | None = Parameter(default=None, description="the contact's id on its channel"),
    ) -> OffsetPagination[ContactView]:
        """The tenant's contacts, newest first."""
        page = await public_api.page_contacts(
            db_session, client.tenant_id, window.limit, window.offset, channel_id, external_id
        )
        return window.page([_contact_view(c) for c in page.items], page.total)

    @get("/contacts/{contact_id:uuid}")
    async def contact(
        self, client: ApiClient, contact_id: uuid.UUID, db_session: AsyncSession
    ) -> ContactView:
        return _contact_view(await get_contact(db_session, client.tenant_id, contact_id))

    @patch("/contacts/{contact_id:uuid}")
    async def update_contact(
        self, client: ApiClient, contact_id: uuid.UUID, data: ContactUpdate, db_session: AsyncSession
    ) -> ContactView:
        """Set the contact's name (empty or null clears it); the inbox shows it."""
        async with db_session.begin():
            contact = await public_api.rename_contact(db_session, client.tenant_id, contact_id, data.name)
            return _contact_view(contact)


def openapi_config() -> OpenAPIConfig:
    """The schema at /schema/openapi.json, browsable at /schema/swagger (and /schema, /schema/redoc)."""
    return OpenAPIConfig(
        title="Atende API",
        version="1",
        description=(
            "The public API (`/api/v1/public`) takes an API key that a tenant's admin makes on "
            "/integrations: `Authorization: Bearer atd_…`. The other routes are the web app's, with "
            "the login token."
        ),
        components=Components(
            security_schemes={
                API_KEY_SCHEME: SecurityScheme(
                    type="apiKey",
                    name="X-API-Key",
                    security_scheme_in="header",
                    description="An API key (atd_…) in X-API-Key; Authorization: Bearer atd_… works too.",
                )
            }
        ),
        use_handler_docstrings=True,
    )

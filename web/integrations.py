"""The admin's integrations API: API keys for the public API, webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.outbox import retry_job_of
from conversations.services import Services
from core.accounts import User, get_user
from core.outbox import JobKind
from core.secrets import decrypt_secret, mask_secret
from core.views import view_of
from integrations.api_keys import MAX_NAME_LENGTH, ApiKey, create_api_key, list_api_keys, revoke_api_key
from integrations.webhooks import (
    EVENT_TYPES,
    WebhookDelivery,
    WebhookStatus,
    WebhookSubscription,
    create_subscription,
    delete_subscription,
    delivery_counts,
    get_delivery,
    list_deliveries,
    list_subscriptions,
)
from web.auth import AdminController, AuthUser

AdminRequest = Request[AuthUser, Token, State]
DeliveryStatusFilter = Literal["pending", "delivered", "failed"]


class ApiKeyIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]


class ApiKeyView(msgspec.Struct):
    id: str
    name: str
    prefix: str
    """The key's first characters, to tell keys apart; the key itself is never shown again."""
    created_by: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class ApiKeyCreated(msgspec.Struct):
    id: str
    key: str
    """Shown this once: store it now."""
    api_key: ApiKeyView


def _key_view(key: ApiKey, creator: User | None) -> ApiKeyView:
    return view_of(ApiKeyView, key, created_by=creator.email if creator else None)


class WebhookIn(msgspec.Struct):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    events: list[str]
    """Any of message.created, message.updated, ticket.created, ticket.updated."""


class WebhookView(msgspec.Struct):
    id: str
    url: str
    events: list[str]
    secret: str
    """Masked ("…abcd"): the whole secret is shown once, when the subscription is made."""
    created_at: str
    pending: int = 0
    delivered: int = 0
    failed: int = 0


class WebhookCreated(msgspec.Struct):
    id: str
    secret: str
    """Shown this once: the subscriber checks signatures with it."""
    webhook: WebhookView


class WebhookDeliveryView(msgspec.Struct):
    id: str
    """The ``X-Atende-Delivery`` header the subscriber received."""
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    delivered_at: str | None


def _delivery_view(delivery: WebhookDelivery) -> WebhookDeliveryView:
    return view_of(WebhookDeliveryView, delivery)


def _webhook_view(subscription: WebhookSubscription, secret_key: str, counts: dict[str, int]) -> WebhookView:
    return WebhookView(
        id=str(subscription.id),
        url=subscription.url,
        events=list(subscription.events),
        secret=mask_secret(decrypt_secret(secret_key, subscription.secret)),
        created_at=subscription.created_at.isoformat(),
        pending=counts.get("pending", 0),
        delivered=counts.get("delivered", 0),
        failed=counts.get("failed", 0),
    )


class IntegrationsController(AdminController):
    path = "/api/v1/admin"
    tags = ["Admin: integrations"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/api-keys")
    async def list_keys(self, request: AdminRequest, db_session: AsyncSession) -> list[ApiKeyView]:
        """The tenant's API keys, newest first (revoked ones too, marked)."""
        return [_key_view(k, u) for k, u in await list_api_keys(db_session, request.user.tenant_id)]

    @post("/api-keys", status_code=201)
    async def create_key(
        self, request: AdminRequest, data: ApiKeyIn, db_session: AsyncSession
    ) -> ApiKeyCreated:
        """A new key for the public API; the response is the only time the key is shown."""
        async with db_session.begin():
            key, plain = await create_api_key(db_session, request.user.tenant_id, data.name, request.user.id)
            creator = await get_user(db_session, request.user.id)
            view = _key_view(key, creator)
        return ApiKeyCreated(id=view.id, key=plain, api_key=view)

    @delete("/api-keys/{key_id:uuid}", status_code=200)
    async def revoke_key(
        self, request: AdminRequest, key_id: uuid.UUID, db_session: AsyncSession
    ) -> ApiKeyView:
        """Revoke a key: calls with it are refused (401) from now on."""
        async with db_session.begin():
            key = await revoke_api_key(db_session, request.user.tenant_id, key_id)
            creator = await get_user(db_session, key.created_by_id) if key.created_by_id else None
            return _key_view(key, creator)

    @get("/webhooks")
    async def list_webhooks(
        self, request: AdminRequest, db_session: AsyncSession, services: Services
    ) -> list[WebhookView]:
        """The tenant's webhook subscriptions, with how many deliveries are pending, delivered, failed."""
        tenant_id, secret_key = request.user.tenant_id, services.settings.resolved_secret_key()
        counts = await delivery_counts(db_session, tenant_id)
        return [
            _webhook_view(s, secret_key, counts.get(s.id, {}))
            for s in await list_subscriptions(db_session, tenant_id)
        ]

    @get("/webhooks/events")
    async def webhook_events(self) -> list[str]:
        """The event types a subscription can ask for."""
        return list(EVENT_TYPES)

    @post("/webhooks", status_code=201)
    async def create_webhook(
        self, request: AdminRequest, data: WebhookIn, db_session: AsyncSession, services: Services
    ) -> WebhookCreated:
        """Subscribe a URL to events; the response is the only time the signing secret is shown."""
        secret_key = services.settings.resolved_secret_key()
        async with db_session.begin():
            subscription, secret = await create_subscription(
                db_session,
                request.user.tenant_id,
                data.url,
                data.events,
                request.user.id,
                secret_key,
                allow_private=services.settings.allow_private_networks,
            )
            view = _webhook_view(subscription, secret_key, {})
        return WebhookCreated(id=view.id, secret=secret, webhook=view)

    @delete("/webhooks/{webhook_id:uuid}", status_code=204)
    async def delete_webhook(
        self, request: AdminRequest, webhook_id: uuid.UUID, db_session: AsyncSession
    ) -> None:
        """Stop sending to this URL; its pending deliveries are dropped."""
        async with db_session.begin():
            await delete_subscription(db_session, request.user.tenant_id, webhook_id)

    @get("/webhooks/{webhook_id:uuid}/deliveries")
    async def deliveries(
        self,
        request: AdminRequest,
        webhook_id: uuid.UUID,
        db_session: AsyncSession,
        status: DeliveryStatusFilter | None = Parameter(
            default=None, description="pending, delivered or failed"
        ),
        limit: Annotated[int, Parameter(ge=1, le=200, description="how many, newest first")] = 50,
    ) -> list[WebhookDeliveryView]:
        """What was sent to the subscriber: tries, the last status code or error."""
        rows = await list_deliveries(db_session, request.user.tenant_id, webhook_id, status, limit)
        return [_delivery_view(d) for d in rows]

    @post("/webhooks/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver", status_code=202)
    async def redeliver(
        self,
        request: AdminRequest,
        webhook_id: uuid.UUID,
        delivery_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> WebhookDeliveryView:
        """Send a failed delivery again (same delivery id, a fresh count of tries)."""
        async with db_session.begin():
            delivery = await get_delivery(db_session, request.user.tenant_id, webhook_id, delivery_id)
            if delivery.status == WebhookStatus.FAILED:
                await retry_job_of(db_session, JobKind.WEBHOOK, delivery.id)
                await db_session.refresh(delivery)
            view = _delivery_view(delivery)
        if view.status == "pending":
            await services.jobs.deliver_webhook(uuid.UUID(view.id))
        return view

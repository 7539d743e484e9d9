"""Outbound webhooks: a tenant's events POSTed, signed, to the URLs its admins subscribe.

Every event the inbox hears (``conversations.notify.notify_inbox``) is stored as one delivery row per
matching subscription, then sent by a job. The receiver gets the JSON event with
``X-Atende-Event``, ``X-Atende-Delivery`` (one id per event and subscription, the same on every
try), ``X-Atende-Timestamp`` and ``X-Atende-Signature: sha256=<hex HMAC-SHA256(secret,
"{timestamp}.{body}")>``. A 2xx answer delivers it; anything else is tried again, waiting twice as
long each time, and after the last try the delivery is marked failed with the last status code or
error, for the admin to see. Rows still pending when the process stops are queued again at start.
Each try holds the row's lock, so two jobs never both deliver one event.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import structlog
from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_never

from core.errors import InvalidInputError, NotFoundError
from core.resources import CoreResources
from core.secrets import decrypt_secret, encrypt_secret
from core.url_guard import check_webhook_target
from handoff.events import WEBHOOK_EVENT_TYPES, InboxEvent, event_type

log = structlog.get_logger(__name__)

EVENT_TYPES = WEBHOOK_EVENT_TYPES
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret
MAX_WAIT_SECONDS = 300.0
MAX_ERROR_LENGTH = 500


class WebhookStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookSubscription(UUIDv7AuditBase):
    __tablename__ = "webhook_subscriptions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONB, default=list)
    secret: Mapped[str] = mapped_column(Text)
    """The signing secret, encrypted (see core.secrets)."""
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookDelivery(UUIDv7AuditBase):
    """One event for one subscriber; its id is the ``X-Atende-Delivery`` header."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
        Index(
            "ix_webhook_deliveries_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default=WebhookStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Atende-Signature`` value: HMAC-SHA256 of ``{timestamp}.{body}`` under the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInputError("url", "must be an http:// or https:// address")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError as exc:
        raise InvalidInputError("url", "the port must be a number from 1 to 65535") from exc
    if len(url) > 2000:
        raise InvalidInputError("url", "at most 2000 characters")
    return url


def _check_events(events: list[str]) -> list[str]:
    if not events:
        raise InvalidInputError("events", f"choose at least one of {', '.join(EVENT_TYPES)}")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise InvalidInputError("events", f"unknown {', '.join(unknown)}: use {', '.join(EVENT_TYPES)}")
    return [e for e in EVENT_TYPES if e in events]


async def create_subscription(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    url: str,
    events: list[str],
    created_by_id: uuid.UUID | None,
    secret_key: str,
    *,
    allow_private: bool = False,
) -> tuple[WebhookSubscription, str]:
    """A subscription and its signing secret in plain text (shown to the admin this once)."""
    url = _check_url(url)
    await check_webhook_target(url, allow_private=allow_private)
    plain = SECRET_PREFIX + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        tenant_id=tenant_id,
        url=url,
        events=_check_events(events),
        secret=encrypt_secret(secret_key, plain),
        created_by_id=created_by_id,
    )
    session.add(subscription)
    await session.flush()
    return subscription, plain


async def list_subscriptions(session: AsyncSession, tenant_id: uuid.UUID) -> list[WebhookSubscription]:
    return list(
        await session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.tenant_id == tenant_id)
            .order_by(WebhookSubscription.created_at)
        )
    )


async def get_subscription(
    session: AsyncSession, tenant_id: uuid.UUID, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.id == subscription_id
        )
    )
    if subscription is None:
        raise NotFoundError(f"no webhook subscription {subscription_id}")
    return subscription


async def delete_subscription(
    session: AsyncSession, tenant_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    """The subscription and its deliveries (pending ones are not sent)."""
    await session.delete(await get_subscription(session, tenant_id, subscription_id))
    await session.flush()


async def delivery_counts(session: AsyncSession, tenant_id: uuid.UUID) -> dict[uuid.UUID, dict[str, int]]:
    """Per subscription: how many deliveries are pending, delivered and failed."""
    rows = await session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.tenant_id == tenant_id)
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for subscription_id, status, count in rows.tuples():
        counts.setdefault(subscription_id, {})[status] = count
    return counts


async def list_deliveries(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    subscription_id: uuid.UUID,
    status: str | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first."""
    await get_subscription(session, tenant_id, subscription_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.subscription_id == subscription_id
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(await session.scalars(query.order_by(WebhookDelivery.created_at.desc()).limit(limit)))


async def redeliver(
    session: AsyncSession, tenant_id: uuid.UUID, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """A failed delivery, pending again with a fresh count of tries."""
    delivery = await session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.id == delivery_id,
        )
        .with_for_update()
    )
    if delivery is None:
        raise NotFoundError(f"no delivery {delivery_id} for this subscription")
    if delivery.status == WebhookStatus.FAILED:
        delivery.status, delivery.attempts = WebhookStatus.PENDING, 0
        await session.flush()
    return delivery


async def queue_webhooks(services: CoreResources, tenant_id: uuid.UUID, event: InboxEvent) -> list[uuid.UUID]:
    """Store the event once per subscription that wants it; the ids to hand to the delivery job.

    The subscriber gets the event as the inbox hears it, under ``data`` (without its ``type``, which is
    beside it)."""
    type_ = event_type(event)
    if type_ not in EVENT_TYPES:
        return []
    async with services.database.sessionmaker.begin() as session:
        subscriptions = list(
            await session.scalars(
                select(WebhookSubscription.id).where(
                    WebhookSubscription.tenant_id == tenant_id,
                    WebhookSubscription.events.contains([type_]),
                )
            )
        )
        if not subscriptions:
            return []
        data = msgspec.to_builtins(event)
        del data["type"]
        payload = {
            "id": str(uuid.uuid4()),
            "type": type_,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "tenant_id": str(tenant_id),
            "data": data,
        }
        deliveries = [
            WebhookDelivery(
                tenant_id=tenant_id, subscription_id=sid, event_type=type_, payload=payload, attempts=0
            )
            for sid in subscriptions
        ]
        session.add_all(deliveries)
        await session.flush()
        return [d.id for d in deliveries]


@dataclass(frozen=True)
class _Try:
    status: str
    attempts: int


async def _try_once(services: CoreResources, client: httpx.AsyncClient, delivery_id: uuid.UUID) -> _Try:
    """One POST, under the row's lock; records what the subscriber answered."""
    settings = services.settings
    async with services.database.sessionmaker.begin() as session:
        delivery = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update(skip_locked=True)
        )
        if delivery is None or delivery.status != WebhookStatus.PENDING:
            return _Try(delivery.status if delivery else "locked", delivery.attempts if delivery else 0)
        subscription = await session.get_one(WebhookSubscription, delivery.subscription_id)
        body = msgspec.json.encode(delivery.payload)
        timestamp = str(int(time.time()))
        secret = decrypt_secret(settings.resolved_secret_key(), subscription.secret)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Atende-Webhooks/1",
            "X-Atende-Event": delivery.event_type,
            "X-Atende-Delivery": str(delivery.id),
            "X-Atende-Timestamp": timestamp,
            "X-Atende-Signature": sign(secret, timestamp, body),
        }
        code: int | None = None
        error: str | None = None
        try:
            await check_webhook_target(subscription.url, allow_private=settings.webhook_private_networks)
            response = await client.post(subscription.url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.reason_phrase}".strip()
        except InvalidInputError as exc:
            error = exc.reason[:MAX_ERROR_LENGTH]  # the name now resolves to a private address
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        now = datetime.datetime.now(datetime.UTC)
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = now, code, error
        if error is None:
            delivery.status, delivery.delivered_at = WebhookStatus.DELIVERED, now
        elif delivery.attempts >= max(1, settings.webhook_attempts):
            delivery.status = WebhookStatus.FAILED
        fields = {
            "delivery_id": str(delivery.id),
            "event_type": delivery.event_type,
            "attempt": delivery.attempts,
        }
        if error is None:
            log.info("webhook.delivered", status_code=code, **fields)
        else:
            log.warning(
                "webhook.attempt_failed", status_code=code, error=error, final=delivery.status, **fields
            )
        return _Try(delivery.status, delivery.attempts)


def _wait(first: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        """Doubling from ``first`` with each try the row has seen (tries before a restart count)."""
        tried = state.outcome.result() if state.outcome and not state.outcome.failed else None
        attempts = tried.attempts if isinstance(tried, _Try) else state.attempt_number
        return float(min(MAX_WAIT_SECONDS, first * 2 ** max(0, attempts - 1)))

    return wait


async def deliver_webhook(services: CoreResources, delivery_id: uuid.UUID) -> str:
    """Send one pending delivery, trying again with backoff; returns the status it ends in."""
    settings = services.settings
    tried = _Try("locked", 0)
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
        async for attempt in AsyncRetrying(
            stop=stop_never,  # the row counts the tries: a job picked up after a restart goes on counting
            wait=_wait(settings.webhook_backoff_seconds),
            retry=retry_if_result(lambda result: result.status == WebhookStatus.PENDING),
            reraise=True,
        ):
            with attempt:
                tried = await _try_once(services, client, delivery_id)
            outcome = attempt.retry_state.outcome
            if outcome is not None and not outcome.failed:
                attempt.retry_state.set_result(tried)
    return tried.status


async def pending_webhook_deliveries(services: CoreResources) -> list[uuid.UUID]:
    """Deliveries not yet sent nor given up on (the process stopped): a startup sweep."""
    async with services.database.sessionmaker() as session:
        rows = await session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == WebhookStatus.PENDING)
            .order_by(WebhookDelivery.created_at)
        )
        return list(rows)

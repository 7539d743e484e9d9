"""Outbound webhooks: a tenant's events POSTed, signed, to the URLs its admins subscribe.

Every event the inbox hears (``conversations.notify.notify_inbox``) is stored as one delivery row per
matching subscription, then sent by a job. The receiver gets the JSON event with
``X-Atende-Event``, ``X-Atende-Delivery`` (one id per event and subscription, the same on every
try), ``X-Atende-Timestamp`` and ``X-Atende-Signature: sha256=<hex HMAC-SHA256(secret,
"{timestamp}.{body}")>``. A 2xx answer delivers it; anything else is tried again, waiting twice as
long each time, and after the last try the delivery is marked failed with the last status code or
error, for the admin to see and send again.

Each delivery has its job in the outbox (``core.outbox``), written with it: the job is claimed for one
try, the POST goes out with no lock or transaction held, and the outcome moves the job and the
delivery together. Two workers never both deliver one event; one that dies mid-POST leaves the job to
be taken up again when its lease runs out.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import structlog
from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core import outbox
from core.errors import InvalidInputError, NotFoundError
from core.resources import CoreResources
from core.secrets import decrypt_secret, encrypt_secret
from core.url_guard import PrivateAddressError, check_webhook_target, outbound_client
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
    __table_args__ = (Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),)

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
    """The subscription and its deliveries (pending ones are not sent: their outbox jobs go too)."""
    subscription = await get_subscription(session, tenant_id, subscription_id)
    deliveries = await session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription.id)
    )
    await outbox.forget(session, outbox.JobKind.WEBHOOK, list(deliveries))
    await session.delete(subscription)
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


async def get_delivery(
    session: AsyncSession, tenant_id: uuid.UUID, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """One delivery of the subscription (sent again with ``conversations.outbox.retry_jobs``)."""
    delivery = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.id == delivery_id,
        )
    )
    if delivery is None:
        raise NotFoundError(f"no delivery {delivery_id} for this subscription")
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
        ids = [d.id for d in deliveries]
        await outbox.enqueue(session, tenant_id, outbox.JobKind.WEBHOOK, ids)
        return ids


@dataclass(frozen=True)
class _Request:
    """One POST as it will be sent, read before the send (no transaction stays open across it)."""

    url: str
    body: bytes
    headers: dict[str, str]
    event_type: str


async def _request(services: CoreResources, delivery_id: uuid.UUID) -> _Request | None:
    async with services.database.sessionmaker() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return None
        subscription = await session.get_one(WebhookSubscription, delivery.subscription_id)
        body = msgspec.json.encode(delivery.payload)
        timestamp = str(int(time.time()))
        secret = decrypt_secret(services.settings.resolved_secret_key(), subscription.secret)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Atende-Webhooks/1",
            "X-Atende-Event": delivery.event_type,
            "X-Atende-Delivery": str(delivery.id),
            "X-Atende-Timestamp": timestamp,
            "X-Atende-Signature": sign(secret, timestamp, body),
        }
        return _Request(subscription.url, body, headers, delivery.event_type)


async def _post(
    services: CoreResources, client: httpx.AsyncClient, request: _Request
) -> tuple[int | None, str | None]:
    """The subscriber's status code, and the error (None when it took the event)."""
    settings = services.settings
    code: int | None = None
    limit = outbox.send_limit(settings.outbox_lease_seconds)
    try:
        async with asyncio.timeout(limit):
            response = await client.post(request.url, content=request.body, headers=request.headers)
        code = response.status_code
        if not 200 <= code < 300:
            return code, f"HTTP {code}: {response.reason_phrase}".strip()
    except PrivateAddressError as exc:  # the name now resolves to a private address: nothing was sent
        return code, exc.detail[:MAX_ERROR_LENGTH]
    except httpx.HTTPError as exc:
        return code, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
    except TimeoutError:
        return code, f"no answer within {limit:g} s"
    return code, None


async def _attempt(
    services: CoreResources, client: httpx.AsyncClient, claim: outbox.Claim
) -> outbox.Finished | None:
    """One POST of a claimed delivery, with no lock or transaction held; then, in one short
    transaction, the outbox job and the delivery the admin sees move together."""
    settings = services.settings
    request = await _request(services, claim.ref_id)
    if request is None:  # the subscription was deleted with its deliveries
        async with services.database.sessionmaker.begin() as session:
            await outbox.forget(session, outbox.JobKind.WEBHOOK, [claim.ref_id])
        return outbox.Finished(outbox.JobStatus.DONE)
    code, error = await _post(services, client, request)
    backoff = outbox.Backoff(settings.webhook_attempts, settings.webhook_backoff_seconds, MAX_WAIT_SECONDS)
    async with services.database.sessionmaker.begin() as session:
        finished = await outbox.finish(
            session, claim, None if error is None else outbox.Failure(error), backoff
        )
        if finished is None:
            return None
        now = datetime.datetime.now(datetime.UTC)
        status = {
            outbox.JobStatus.DONE: WebhookStatus.DELIVERED,
            outbox.JobStatus.DEAD: WebhookStatus.FAILED,
        }.get(finished.status, WebhookStatus.PENDING)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claim.ref_id)
            .values(
                status=status,
                attempts=claim.attempts,
                last_attempt_at=now,
                last_status_code=code,
                last_error=error,
                delivered_at=now if status == WebhookStatus.DELIVERED else None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    fields = {"delivery_id": str(claim.ref_id), "event_type": request.event_type, "attempt": claim.attempts}
    if error is None:
        log.info("webhook.delivered", status_code=code, **fields)
    else:
        log.warning("webhook.attempt_failed", status_code=code, error=error, final=status, **fields)
    return finished


async def deliver_webhook(services: CoreResources, delivery_id: uuid.UUID) -> str:
    """Send a delivery whose outbox job is due, trying again after short waits (longer ones are left to
    the sweep); returns the job's status. A job already being sent, or done, is left alone."""
    settings = services.settings
    async with outbound_client(
        allow_private=settings.allow_private_networks,
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
    ) as client:
        return await outbox.work(
            services.database.sessionmaker,
            outbox.JobKind.WEBHOOK,
            delivery_id,
            settings.outbox_lease_seconds,
            lambda claim: _attempt(services, client, claim),
        )

"""Outbound messages on external channels: sent by a job, retried with backoff, failed visibly.

A message to deliver is stored as ``pending`` in the same transaction that writes it; the job sends
it and records ``sent`` (with the channel's id) or, after the last try, ``failed`` with the reason,
which the inbox shows with a resend button. A process that dies with jobs queued loses none: at
start the app queues every message still pending. The row stays locked while it is being sent, so
two jobs for one message never both send it. Channels that report what happened next (WhatsApp:
delivered, read, failed) move the status on with ``record_status``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from channels.base import (
    ChannelAccess,
    ChannelAdapter,
    DeliveryFailedError,
    OutgoingMessage,
    outgoing_message,
)
from channels.models import Channel, Contact, Conversation, DeliveryStatus, Message
from channels.stored import channel_access
from channels.views import message_view
from conversations.notify import notify_inbox
from conversations.services import Services
from core.errors import ConflictError, NotFoundError
from handoff.events import message_updated

log = structlog.get_logger(__name__)
MAX_WAIT_SECONDS = 60.0


class StatusBeforeMessageError(Exception):
    """No message carries this channel id (yet): its delivery job has not committed it."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryFailedError) and exc.retryable


def _wait(first: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        """Doubling from ``first``, or longer when the channel says when to come back."""
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, DeliveryFailedError) and exc.retry_after else 0.0
        return float(min(MAX_WAIT_SECONDS, max(asked, first * 2 ** (state.attempt_number - 1))))

    return wait


async def _deliver_once(
    adapter: ChannelAdapter, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
) -> str | None:
    try:
        return await adapter.deliver(channel, contact_external_id, message)
    except DeliveryFailedError:
        raise
    except Exception as exc:  # an error the adapter did not expect: worth another try, then failed
        log.warning("delivery.error", channel=channel.type, error=type(exc).__name__, exc_info=exc)
        raise DeliveryFailedError(f"{type(exc).__name__}: {exc}", retryable=True) from exc


async def deliver_message(services: Services, message_id: uuid.UUID) -> str:
    """Send one pending message through its channel; returns the status it ends in."""
    settings = services.settings
    async with services.database.sessionmaker.begin() as session:
        message = await session.scalar(
            select(Message).where(Message.id == message_id).with_for_update(skip_locked=True)
        )
        if message is None or message.delivery_status != DeliveryStatus.PENDING:
            return message.delivery_status or "" if message else "locked"
        channel = await session.get_one(Channel, message.channel_id)
        conversation = await session.get_one(Conversation, message.conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        adapter = services.adapters.get(channel.type)
        outgoing = outgoing_message(message_view(message))
        try:
            if adapter is None:
                raise DeliveryFailedError(f"no adapter for {channel.type} channels", retryable=False)
            access = channel_access(channel, settings.resolved_secret_key())
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(max(1, settings.delivery_attempts)),
                wait=_wait(settings.delivery_backoff_seconds),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    external_id = await _deliver_once(adapter, access, contact.external_id, outgoing)
        except DeliveryFailedError as exc:
            message.delivery_status, message.delivery_error = DeliveryStatus.FAILED, exc.reason
            log.warning(
                "delivery.failed", message_id=str(message.id), channel=channel.type, reason=exc.reason
            )
        else:
            message.delivery_status, message.delivery_error = DeliveryStatus.SENT, None
            message.delivered_as = external_id
            log.info("delivery.sent", message_id=str(message.id), channel=channel.type)
        await session.flush()
        event = message_updated(message)
        status, tenant_id = message.delivery_status, message.tenant_id
    await notify_inbox(services, tenant_id, event)
    return status


STATUS_AFTER: dict[DeliveryStatus, tuple[DeliveryStatus, ...]] = {
    DeliveryStatus.DELIVERED: (DeliveryStatus.SENT,),
    DeliveryStatus.READ: (DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
    DeliveryStatus.FAILED: (DeliveryStatus.SENT,),
}
"""Which statuses a channel's report may move a message from: never backwards (read > delivered >
sent), and a pending message belongs to its delivery job."""


async def record_status(
    services: Services,
    channel: Channel,
    delivered_as: str,
    status: DeliveryStatus,
    error: str | None = None,
) -> bool:
    """The channel's report on a message it took (named by the channel's id for it); says whether the
    message's status moved. The inbox hears of it once the change is committed.

    A report can outrun the delivery job that is still saving the channel's id for the message:
    ``StatusBeforeMessageError`` then says so, for the caller to try again shortly.
    """
    async with services.database.sessionmaker.begin() as session:
        message = await session.scalar(
            update(Message)
            .where(
                Message.tenant_id == channel.tenant_id,
                Message.channel_id == channel.id,
                Message.delivered_as == delivered_as,
                Message.delivery_status.in_(STATUS_AFTER.get(status, ())),
            )
            .values(delivery_status=status, delivery_error=error if status == DeliveryStatus.FAILED else None)
            .returning(Message)
        )
        if message is None:
            known = await session.scalar(
                select(Message.id).where(
                    Message.tenant_id == channel.tenant_id,
                    Message.channel_id == channel.id,
                    Message.delivered_as == delivered_as,
                )
            )
            if known is None:
                raise StatusBeforeMessageError(delivered_as)
            return False
        event = message_updated(message)
    log.info("delivery.status", message_id=str(message.id), channel=channel.type, status=str(status))
    await notify_inbox(services, channel.tenant_id, event)
    return True


async def report_status(
    services: Services, channel: Channel, delivered_as: str, status: DeliveryStatus, error: str | None = None
) -> None:
    """Record a channel's status report now or, when it came before the delivery job saved its
    message's id, again shortly (0.5 s, 1 s, 2 s… for about a minute) in the background."""
    try:
        await record_status(services, channel, delivered_as, status, error)
    except StatusBeforeMessageError:
        task = asyncio.create_task(_report_later(services, channel, delivered_as, status, error))
        _waiting_reports.add(task)
        task.add_done_callback(_waiting_reports.discard)


_waiting_reports: set[asyncio.Task[None]] = set()
"""Kept referenced while they wait (the event loop holds tasks only weakly)."""


async def stop_waiting_reports() -> None:
    """At shutdown: the reports still waiting are given up (a status is news, not data to keep)."""
    for task in list(_waiting_reports):
        task.cancel()
    await asyncio.gather(*_waiting_reports, return_exceptions=True)


async def _report_later(
    services: Services, channel: Channel, delivered_as: str, status: DeliveryStatus, error: str | None
) -> None:
    for pause in (0.5, 1, 2, 4, 8, 16, 32):
        await asyncio.sleep(pause)
        try:
            await record_status(services, channel, delivered_as, status, error)
            return
        except StatusBeforeMessageError:
            continue
    log.info("delivery.status_unmatched", channel=channel.type, status=str(status))


async def pending_deliveries(services: Services) -> list[uuid.UUID]:
    """Messages written but never handed to their channel (the process stopped): a startup sweep."""
    async with services.database.sessionmaker() as session:
        rows = await session.scalars(
            select(Message.id)
            .where(Message.delivery_status == DeliveryStatus.PENDING)
            .order_by(Message.created_at)
        )
        return list(rows)


async def mark_for_resend(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> Message:
    """A failed outbound message of the conversation, set pending again; anything else is refused."""
    message = await session.scalar(
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id == conversation_id,
            Message.id == message_id,
        )
        .with_for_update()
    )
    if message is None:
        raise NotFoundError(f"no message {message_id} in this ticket's conversation")
    if message.delivery_status != DeliveryStatus.FAILED:
        raise ConflictError(
            f"message {message_id} is {message.delivery_status or 'not sent through a channel'}: only failed"
            " messages are sent again"
        )
    message.delivery_status, message.delivery_error = DeliveryStatus.PENDING, None
    await session.flush()
    return message

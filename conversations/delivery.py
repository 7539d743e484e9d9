"""Outbound messages on external channels: sent by a job, retried with backoff, failed visibly.

A message to deliver is stored as ``pending`` with its outbox job (``core.outbox``) in the
transaction that writes it (``conversations.notify.Outgoing.of``). The job claims it for one try,
hands it to the channel's adapter with no lock or transaction held, then records, in one short
transaction with the job, ``sent`` (with the channel's id) or, after the last try or a refusal not
worth repeating, ``failed`` with the reason, which the inbox shows with a resend button
(``conversations.outbox.retry_jobs``). A process that dies with jobs queued or mid-send loses none:
the sweep hands due jobs, and those whose lease ran out, to workers again. Channels that report what
happened next (WhatsApp: delivered, read, failed) move the status on with ``record_status``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select, update

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
from conversations.session_delivery import hand_over
from core import outbox
from handoff.events import message_updated

log = structlog.get_logger(__name__)
MAX_WAIT_SECONDS = 60.0
HANDED_OVER = "handed over"
"""What ``deliver_message`` returns when the process holding the channel's session sends it."""


class StatusBeforeMessageError(Exception):
    """No message carries this channel id (yet): its delivery job has not committed it."""


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


@dataclass(frozen=True)
class _Send:
    """What one try needs, read before it (no transaction stays open across the send)."""

    adapter: ChannelAdapter | None
    channel: ChannelAccess
    contact_external_id: str
    message: OutgoingMessage


async def _what_to_send(services: Services, message_id: uuid.UUID) -> _Send | None:
    async with services.database.sessionmaker() as session:
        message = await session.get(Message, message_id)
        if message is None:
            return None
        channel = await session.get_one(Channel, message.channel_id)
        conversation = await session.get_one(Conversation, message.conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        access = channel_access(channel, services.settings.resolved_secret_key())
        outgoing = outgoing_message(message_view(message))
        return _Send(services.adapters.get(channel.type), access, contact.external_id, outgoing)


async def _send(services: Services, send: _Send) -> tuple[str | None, DeliveryFailedError | None]:
    """The channel's id for the message, or why it was not taken."""
    limit = outbox.send_limit(services.settings.outbox_lease_seconds)
    try:
        if send.adapter is None:
            raise DeliveryFailedError(f"no adapter for {send.channel.type} channels", retryable=False)
        async with asyncio.timeout(limit):
            return await _deliver_once(
                send.adapter, send.channel, send.contact_external_id, send.message
            ), None
    except DeliveryFailedError as exc:
        return None, exc
    except TimeoutError:
        return None, DeliveryFailedError(f"the channel did not answer within {limit:g} s", retryable=True)


async def _attempt(services: Services, claim: outbox.Claim) -> outbox.Finished | None:
    """One try of a claimed message; then the job and the message's status move in one transaction."""
    settings = services.settings
    send = await _what_to_send(services, claim.ref_id)
    if send is None:  # the message is gone (its tenant or conversation was deleted)
        async with services.database.sessionmaker.begin() as session:
            await outbox.forget(session, outbox.JobKind.MESSAGE, [claim.ref_id])
        return outbox.Finished(outbox.JobStatus.DONE)
    external_id, failed = await _send(services, send)
    failure = outbox.Failure(failed.reason, failed.retryable, failed.retry_after) if failed else None
    backoff = outbox.Backoff(settings.delivery_attempts, settings.delivery_backoff_seconds, MAX_WAIT_SECONDS)
    fields = {"message_id": str(claim.ref_id), "channel": send.channel.type, "attempt": claim.attempts}
    async with services.database.sessionmaker.begin() as session:
        finished = await outbox.finish(session, claim, failure, backoff)
        if finished is None or finished.status == outbox.JobStatus.PENDING:
            if failed is not None:
                log.info("delivery.retrying", reason=failed.reason, wait=finished and finished.wait, **fields)
            return finished
        if finished.status == outbox.JobStatus.DONE:
            values = {
                "delivery_status": DeliveryStatus.SENT,
                "delivery_error": None,
                "delivered_as": external_id,
            }
            log.info("delivery.sent", **fields)
        else:
            values = {
                "delivery_status": DeliveryStatus.FAILED,
                "delivery_error": failed.reason if failed else None,
            }
            log.warning("delivery.failed", reason=failed.reason if failed else None, **fields)
        message = await session.scalar(
            update(Message)
            .where(Message.id == claim.ref_id)
            .values(**values)
            .returning(Message)
            .execution_options(populate_existing=True)
        )
        event = message_updated(message) if message is not None else None
    if event is not None:
        await notify_inbox(services, claim.tenant_id, event)
    return finished


async def deliver_message(services: Services, message_id: uuid.UUID) -> str:
    """Send a message whose outbox job is due, trying again after short waits (longer ones are left to
    the sweep); returns the job's status. A job already being sent, or done, is left alone. A message
    on a channel whose session another process holds is handed to it (``conversations.session_delivery``)."""
    if await hand_over(services, message_id):
        return HANDED_OVER
    return await send_here(services, message_id)


async def send_here(services: Services, message_id: uuid.UUID) -> str:
    """``deliver_message`` from this process, whatever holds the channel's session."""
    return await outbox.work(
        services.database.sessionmaker,
        outbox.JobKind.MESSAGE,
        message_id,
        services.settings.outbox_lease_seconds,
        lambda claim: _attempt(services, claim),
    )


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
        if status == DeliveryStatus.FAILED:
            await outbox.mark_dead(
                session, outbox.JobKind.MESSAGE, message.id, error or "the channel reported it failed"
            )
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

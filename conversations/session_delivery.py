"""Outbound messages on a channel whose session one process of the cluster holds (WhatsApp by QR code),
sent by that process.

A worker that takes such a message's delivery job without holding the session claims nothing: it
hands the message's id to the holder (``core.handover``), named like the session's lease
(``channels.leading.lease_name``). The holder, while it leads the channel, follows those hand-overs
and sends each message through the outbox like any delivery (claimed in a short transaction, sent
with nothing held, finished in another; retried with backoff; dead after the last attempt), so a
message handed to two holders while the lease moves is still sent once. A hand-over is only a
wake-up: each time the holder starts following (it took the lease, Redis came back) it looks for its
channel's due jobs itself, and the periodic sweep hands a job nobody took to a worker again, who
hands it over again. On embedded defaults the one process holds every session: nothing is handed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import and_, select

from channels.base import SessionAdapter
from channels.leading import lease_name
from channels.models import Channel, Message
from conversations.services import Services
from core import outbox

log = structlog.get_logger(__name__)

Send = Callable[[Services, uuid.UUID], Awaitable[str]]
"""Claims and sends one message from this process (``conversations.delivery.send_here``)."""
DUE_AT_ONCE = 1000


async def hand_over(services: Services, message_id: uuid.UUID) -> bool:
    """Whether the message was left to the process that holds its channel's session (with Redis, for a
    session-bound channel whose session does not run here); False: send it here."""
    if services.handover is None:
        return False
    async with services.database.sessionmaker() as session:
        row = (
            await session.execute(
                select(Channel.id, Channel.type)
                .join(Message, and_(Message.channel_id == Channel.id, Message.tenant_id == Channel.tenant_id))
                .where(Message.id == message_id)
            )
        ).one_or_none()
    if row is None:  # the message is gone: the delivery forgets its job
        return False
    channel_id, channel_type = row.tuple()
    adapter = services.adapters.get(channel_type)
    if not isinstance(adapter, SessionAdapter) or adapter.holds_session(channel_id):
        return False
    fields = {"message_id": str(message_id), "channel_id": str(channel_id)}
    try:
        heard = await services.handover.hand_over(lease_name(channel_type, channel_id), message_id)
    except Exception as exc:  # Redis away: the job waits in the outbox for the sweep
        log.warning("delivery.hand_over_failed", error=type(exc).__name__, **fields)
        return True
    if heard:
        log.info("delivery.handed_over", **fields)
    else:  # nobody leads the session now: the sweep hands the job over again later
        log.info("delivery.no_session_holder", **fields)
    return True


async def due_messages(services: Services, channel: Channel) -> list[uuid.UUID]:
    """The channel's outbound messages whose jobs may be claimed now, the longest waiting first."""
    async with services.database.sessionmaker() as session:
        found = await session.scalars(
            select(outbox.OutboxJob.ref_id)
            .join(Message, Message.id == outbox.OutboxJob.ref_id)
            .where(
                outbox.OutboxJob.kind == outbox.JobKind.MESSAGE,
                outbox.OutboxJob.tenant_id == channel.tenant_id,
                Message.tenant_id == channel.tenant_id,
                Message.channel_id == channel.id,
                outbox.due_now(),
            )
            .order_by(outbox.OutboxJob.next_attempt_at)
            .limit(DUE_AT_ONCE)
        )
        return list(found)


async def deliver_here(services: Services, channel: Channel, send: Send) -> None:
    """Until cancelled, while this process holds the channel's session: send the messages handed over
    to it, and those its channel has due whenever it starts listening. Each is sent in a task of its
    own (a retry's short wait holds up no other); cancelled, the sends stop with it (a send cut short
    is claimed again once its lease runs out, as when a worker dies)."""
    if services.handover is None:
        return
    sending: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def send_one(message_id: uuid.UUID) -> None:
        try:
            await send(services, message_id)
        except Exception as exc:  # the database away: the job waits in the outbox for the sweep
            log.warning("delivery.holder_failed", message_id=str(message_id), error=type(exc).__name__)

    def start(message_id: uuid.UUID) -> None:
        running = sending.get(message_id)
        if running is not None and not running.done():
            return  # already being sent here (the claim would refuse a second one anyway)
        task = asyncio.create_task(send_one(message_id), name=f"deliver-{message_id}")
        sending[message_id] = task
        task.add_done_callback(lambda done: _forget(sending, message_id, done))

    async def send_what_is_due() -> None:
        for message_id in await due_messages(services, channel):
            start(message_id)

    try:
        await services.handover.follow(lease_name(channel.type, channel.id), start, send_what_is_due)
    finally:
        for task in sending.values():
            task.cancel()
        await asyncio.gather(*sending.values(), return_exceptions=True)


def _forget(
    sending: dict[uuid.UUID, asyncio.Task[None]], message_id: uuid.UUID, done: asyncio.Task[None]
) -> None:
    if sending.get(message_id) is done:
        del sending[message_id]

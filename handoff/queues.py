"""Queues as an admin sets them up: name, colour, greeting, business hours, routing, members."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.policy import BusinessHours, validation_field
from core.accounts import Presence, User
from core.database import unless_taken
from core.errors import InvalidInputError, NotFoundError
from core.tenancy import get_owned
from handoff.models import Queue, QueueMember, Ticket, TicketStatus
from handoff.sla import sla_of


class QueueSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    color: Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")] = "#4f6bed"
    greeting: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    business_hours: BusinessHours | None = None
    """None: always staffed."""
    routing: Literal["round_robin", "least_busy"] = "round_robin"
    max_open_per_agent: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    first_response_minutes: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    resolution_minutes: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None
    members: list[uuid.UUID] = msgspec.field(default_factory=list)
    """User ids of the agents who answer this queue."""


def check_queue_settings(raw: object) -> QueueSettings:
    try:
        settings = msgspec.convert(raw, QueueSettings)
    except msgspec.ValidationError as exc:
        field, reason = validation_field(exc, "queue")
        raise InvalidInputError(field, reason) from exc
    if settings.business_hours is not None:
        settings.business_hours.check("business_hours")
    return settings


async def _members_of_tenant(session: AsyncSession, tenant_id: uuid.UUID, members: list[uuid.UUID]) -> None:
    found = set(
        await session.scalars(select(User.id).where(User.tenant_id == tenant_id, User.id.in_(members)))
    )
    missing = [str(m) for m in members if m not in found]
    if missing:
        raise InvalidInputError("members", f"no user {missing[0]} in this tenant")


async def save_queue(
    session: AsyncSession, tenant_id: uuid.UUID, raw: object, queue_id: uuid.UUID | None = None
) -> Queue:
    """Create a queue (``queue_id`` None) or replace one's settings and members; all or nothing."""
    settings = check_queue_settings(raw)
    await _members_of_tenant(session, tenant_id, settings.members)
    queue = Queue(tenant_id=tenant_id) if queue_id is None else await get_queue(session, tenant_id, queue_id)
    queue.name, queue.color, queue.greeting = settings.name, settings.color, settings.greeting
    queue.business_hours = msgspec.to_builtins(settings.business_hours) if settings.business_hours else None
    queue.routing, queue.max_open_per_agent = settings.routing, settings.max_open_per_agent
    queue.first_response_minutes, queue.resolution_minutes = (
        settings.first_response_minutes,
        settings.resolution_minutes,
    )
    async with unless_taken(session, "name", f"the tenant already has a queue named {settings.name!r}"):
        session.add(queue)
        await session.flush()
        await session.execute(delete(QueueMember).where(QueueMember.queue_id == queue.id))
        session.add_all(
            [
                QueueMember(tenant_id=tenant_id, queue_id=queue.id, user_id=user)
                for user in dict.fromkeys(settings.members)
            ]
        )
    return queue


async def get_queue(session: AsyncSession, tenant_id: uuid.UUID, queue_id: uuid.UUID) -> Queue:
    return await get_owned(session, Queue, tenant_id, queue_id, NotFoundError(f"queue {queue_id} not found"))


async def list_queues(session: AsyncSession, tenant_id: uuid.UUID) -> list[tuple[Queue, list[uuid.UUID]]]:
    queues = list(
        await session.scalars(select(Queue).where(Queue.tenant_id == tenant_id).order_by(Queue.created_at))
    )
    members = (
        await session.execute(
            select(QueueMember.queue_id, QueueMember.user_id)
            .where(QueueMember.tenant_id == tenant_id)
            .order_by(QueueMember.created_at)
        )
    ).tuples()
    by_queue: dict[uuid.UUID, list[uuid.UUID]] = {}
    for queue_id, user_id in members:
        by_queue.setdefault(queue_id, []).append(user_id)
    return [(queue, by_queue.get(queue.id, [])) for queue in queues]


@dataclass(frozen=True)
class QueueLoad:
    queue: Queue
    pending: int
    open: int
    longest_wait_seconds: float | None
    """How long the oldest pending ticket has waited; None when nothing waits."""
    online_members: int
    breached: int = 0
    """Live tickets that missed (or are missing) a first-response or resolution target."""


async def queue_loads(session: AsyncSession, tenant_id: uuid.UUID, now: datetime.datetime) -> list[QueueLoad]:
    """Every queue of the tenant with what waits in it: the supervisor's view."""
    counts = (
        (
            await session.execute(
                select(Ticket.queue_id, Ticket.status, func.count(), func.min(Ticket.created_at))
                .where(Ticket.tenant_id == tenant_id, Ticket.status != TicketStatus.CLOSED)
                .group_by(Ticket.queue_id, Ticket.status)
            )
        )
        .tuples()
        .all()
    )
    online = dict(
        (
            await session.execute(
                select(QueueMember.queue_id, func.count())
                .join(User, User.id == QueueMember.user_id)
                .where(QueueMember.tenant_id == tenant_id, User.presence == Presence.ONLINE)
                .group_by(QueueMember.queue_id)
            )
        )
        .tuples()
        .all()
    )
    live = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.status != TicketStatus.CLOSED)
            .limit(5000)
        )
    )
    loads = []
    for queue, _ in await list_queues(session, tenant_id):
        breached = sum(1 for t in live if t.queue_id == queue.id and sla_of(t, queue, now).breached)
        mine = {status: (count, oldest) for queue_id, status, count, oldest in counts if queue_id == queue.id}
        pending, oldest = mine.get(TicketStatus.PENDING, (0, None))
        loads.append(
            QueueLoad(
                queue=queue,
                pending=pending,
                open=mine.get(TicketStatus.OPEN, (0, None))[0],
                longest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
                online_members=online.get(queue.id, 0),
                breached=breached,
            )
        )
    return loads

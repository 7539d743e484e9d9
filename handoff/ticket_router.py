"""Who gets a ticket: an online member of its queue, in turn or the least busy, within the queue's limit.

Routing happens when a ticket is opened, when an agent comes online and when an agent closes a
ticket (a free place). Outside the queue's business hours, with nobody online or everyone at their
limit, the ticket waits as ``pending`` for the queue's members. The queue's row is locked while
choosing, so concurrent escalations into one queue are handed out one at a time.
"""

from __future__ import annotations

import datetime
import uuid

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.policy import BusinessHours
from core.accounts import Presence, User
from handoff.history import record
from handoff.models import Queue, QueueMember, Routing, Ticket, TicketEventKind, TicketStatus


def is_staffed(queue: Queue, now: datetime.datetime) -> bool:
    if not queue.business_hours:
        return True
    return msgspec.convert(queue.business_hours, BusinessHours).is_open(now)


async def _online_members(session: AsyncSession, queue: Queue) -> list[uuid.UUID]:
    """In the order they joined the queue: round-robin's circle."""
    rows = await session.scalars(
        select(QueueMember.user_id)
        .join(User, User.id == QueueMember.user_id)
        .where(
            QueueMember.queue_id == queue.id,
            QueueMember.tenant_id == queue.tenant_id,
            User.tenant_id == queue.tenant_id,
            User.presence == Presence.ONLINE,
        )
        .order_by(QueueMember.created_at, QueueMember.user_id)
    )
    return list(rows)


async def open_tickets_by_agent(
    session: AsyncSession, tenant_id: uuid.UUID, agents: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Ticket.assignee_id, func.count())
        .where(
            Ticket.tenant_id == tenant_id, Ticket.status == TicketStatus.OPEN, Ticket.assignee_id.in_(agents)
        )
        .group_by(Ticket.assignee_id)
    )
    return {agent: int(count) for agent, count in rows.tuples() if agent is not None}


def _turn_order(members: list[uuid.UUID], last: uuid.UUID | None) -> list[uuid.UUID]:
    """The members starting after the one who got the last ticket."""
    if last not in members:
        return members
    after = members.index(last) + 1
    return members[after:] + members[:after]


def choose(queue: Queue, members: list[uuid.UUID], load: dict[uuid.UUID, int]) -> uuid.UUID | None:
    """The queue's rule applied to its online members and their open tickets; None: all are full."""
    order = [
        m
        for m in _turn_order(members, queue.last_assigned_user_id)
        if load.get(m, 0) < queue.max_open_per_agent
    ]
    if not order:
        return None
    if queue.routing == Routing.LEAST_BUSY:
        return min(order, key=lambda m: load.get(m, 0))  # ties go to whoever is next in turn
    return order[0]


async def _locked_queue(session: AsyncSession, tenant_id: uuid.UUID, queue_id: uuid.UUID) -> Queue:
    queue = await session.scalar(
        select(Queue).where(Queue.id == queue_id, Queue.tenant_id == tenant_id).with_for_update()
    )
    assert queue is not None, "a ticket's queue belongs to its tenant"
    return queue


async def assign_next(session: AsyncSession, ticket: Ticket, now: datetime.datetime) -> uuid.UUID | None:
    """Give a pending ticket to a member of its queue, if one can take it; returns who."""
    if ticket.status != TicketStatus.PENDING or ticket.assignee_id is not None:
        return ticket.assignee_id
    queue = await _locked_queue(session, ticket.tenant_id, ticket.queue_id)
    if not is_staffed(queue, now):
        return None
    members = await _online_members(session, queue)
    chosen = choose(queue, members, await open_tickets_by_agent(session, queue.tenant_id, members))
    if chosen is not None:
        ticket.assignee_id, ticket.status = chosen, TicketStatus.OPEN
        queue.last_assigned_user_id = chosen
        record(session, ticket, TicketEventKind.ASSIGNED, None, assignee_id=str(chosen), queue=queue.name)
        await session.flush()
    return chosen


async def assign_waiting(
    session: AsyncSession, tenant_id: uuid.UUID, queue_ids: list[uuid.UUID], now: datetime.datetime
) -> list[Ticket]:
    """Hand out the oldest pending tickets of these queues while someone can take them."""
    assigned: list[Ticket] = []
    for queue_id in queue_ids:
        waiting = await session.scalars(
            select(Ticket)
            .where(
                Ticket.tenant_id == tenant_id,
                Ticket.queue_id == queue_id,
                Ticket.status == TicketStatus.PENDING,
            )
            .order_by(Ticket.created_at)
            .with_for_update(skip_locked=True)
        )
        for ticket in list(waiting):
            if await assign_next(session, ticket, now) is None:
                break
            assigned.append(ticket)
    return assigned


async def queues_of(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(QueueMember.queue_id).where(
                QueueMember.tenant_id == tenant_id, QueueMember.user_id == user_id
            )
        )
    )

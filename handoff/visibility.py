"""Which tickets a person on the team may see: the one home of the rule.

Admins and supervisors see every ticket of their tenant. An agent sees the tickets assigned to them
and those of the queues they may work: their own queues, and queues nobody belongs to (so a tenant
that has set up no queues hides nothing). The ticket list, a ticket's page, the contact panel and
the inbox socket's filter and the media files all ask a ``Visibility``: as a filter on tickets in SQL,
or of one ticket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import Role
from handoff.models import Queue, QueueMember, Ticket

WHOLE_TENANT = frozenset({Role.ADMIN, Role.SUPERVISOR})
WORKS_TICKETS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
"""Who a ticket may be given to: a knowledge manager has no inbox, and a ticket given to one is stuck."""


@dataclass(frozen=True)
class Visibility:
    viewer_id: uuid.UUID
    queues: frozenset[uuid.UUID] | None
    """The queues whose tickets the viewer sees; None: every queue of the tenant."""

    def sees(self, queue_id: uuid.UUID, assignee_id: uuid.UUID | None) -> bool:
        return self.queues is None or assignee_id == self.viewer_id or queue_id in self.queues

    def where(self) -> ColumnElement[bool]:
        """The same rule as a filter on ``Ticket`` rows."""
        if self.queues is None:
            return true()
        return or_(Ticket.assignee_id == self.viewer_id, Ticket.queue_id.in_(self.queues))


async def visibility(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Visibility:
    """What this person sees now, from one query over the tenant's queues and their members."""
    if role in WHOLE_TENANT:
        return Visibility(user_id, None)
    rows = await session.execute(
        select(Queue.id, QueueMember.user_id)
        .outerjoin(QueueMember, QueueMember.queue_id == Queue.id)
        .where(Queue.tenant_id == tenant_id)
    )
    members: dict[uuid.UUID, set[uuid.UUID]] = {}
    for queue_id, member_id in rows.tuples():
        members.setdefault(queue_id, set()).update({member_id} if member_id else set())
    workable = {queue for queue, people in members.items() if user_id in people or not people}
    return Visibility(user_id, frozenset(workable))


async def can_see(session: AsyncSession, ticket: Ticket, user_id: uuid.UUID, role: str) -> bool:
    view = await visibility(session, ticket.tenant_id, user_id, role)
    return view.sees(ticket.queue_id, ticket.assignee_id)


async def sees_conversation(
    session: AsyncSession, view: Visibility, tenant_id: uuid.UUID, conversation_id: uuid.UUID
) -> bool:
    """Whether the viewer sees a ticket of the conversation: each ticket's page shows the whole
    conversation, so its messages (and their files) are theirs to see. One with no ticket yet is the
    bot's alone: only those who see the whole tenant see it."""
    if view.queues is None:
        return True
    visible_ticket = exists().where(
        Ticket.tenant_id == tenant_id, Ticket.conversation_id == conversation_id, view.where()
    )
    return bool(await session.scalar(select(visible_ticket)))


async def current_ticket_place(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """The queue and assignee of the conversation's current (latest) ticket; None: it never had one.
    Whom it is visible to is then ``Visibility.sees``."""
    latest = (
        await session.execute(
            select(Ticket.queue_id, Ticket.assignee_id)
            .where(Ticket.tenant_id == tenant_id, Ticket.conversation_id == conversation_id)
            .order_by(Ticket.created_at.desc())
            .limit(1)
        )
    ).first()
    return (latest.queue_id, latest.assignee_id) if latest else None

"""Ticket lifecycle: open on escalation, accept, reply, close. Callers commit, then notify."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Attachment, MessageContent
from channels.models import Author, Channel, Contact, Conversation, ConversationMode, Direction, Message
from core.accounts import Tenant, User
from core.errors import InvalidInputError
from core.tenancy import get_owned
from handoff.errors import InvalidReplyError, TicketConflictError, TicketNotFoundError
from handoff.history import record
from handoff.models import Queue, Ticket, TicketEventKind, TicketStatus, TicketTag
from handoff.ticket_router import assign_next, assign_waiting
from handoff.visibility import WORKS_TICKETS, Visibility

DEFAULT_QUEUE_NAME = "Atendimento"
MAX_REPLY_LENGTH = 4096


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def default_queue(session: AsyncSession, tenant_id: uuid.UUID) -> Queue:
    queue = await session.scalar(
        select(Queue).where(Queue.tenant_id == tenant_id, Queue.is_default.is_(True))
    )
    if queue is None:
        queue = Queue(tenant_id=tenant_id, name=DEFAULT_QUEUE_NAME, is_default=True)
        session.add(queue)
        await session.flush()
    return queue


async def active_ticket(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID
) -> Ticket | None:
    return await session.scalar(
        select(Ticket).where(
            Ticket.tenant_id == tenant_id,
            Ticket.conversation_id == conversation_id,
            Ticket.status != TicketStatus.CLOSED,
        )
    )


async def open_ticket(
    session: AsyncSession,
    conversation: Conversation,
    reason: str,
    next_number: Callable[[AsyncSession, uuid.UUID], Awaitable[int]],
) -> Ticket:
    """A ticket in the tenant's default queue, given to an online member when one can take it (else
    pending); the conversation goes to human mode.

    ``next_number`` hands out the tenant's next ticket number (kept with the tenant).
    """
    existing = await active_ticket(session, conversation.tenant_id, conversation.id)
    conversation.mode = ConversationMode.HUMAN
    if existing:
        return existing
    recent = await _recently_closed(session, conversation)
    if recent is not None:
        recent.status, recent.closed_at, recent.assignee_id = TicketStatus.PENDING, None, None
        recent.reason = reason
        record(session, recent, TicketEventKind.REOPENED, None, reason=reason)
        await session.flush()
        await assign_next(session, recent, _now())
        return recent
    queue = await default_queue(session, conversation.tenant_id)
    number = await next_number(session, conversation.tenant_id)
    ticket = Ticket(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        queue_id=queue.id,
        status=TicketStatus.PENDING,
        protocol=f"{_now():%Y%m%d}-{number:05d}",
        reason=reason,
    )
    session.add(ticket)
    await session.flush()
    record(session, ticket, TicketEventKind.CREATED, None, reason=reason, queue=queue.name)
    await assign_next(session, ticket, _now())
    return ticket


async def _recently_closed(session: AsyncSession, conversation: Conversation) -> Ticket | None:
    """The conversation's last ticket, if it closed within the tenant's reopen window."""
    tenant = await session.get_one(Tenant, conversation.tenant_id)
    since = _now() - datetime.timedelta(hours=tenant.reopen_window_hours)
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.tenant_id == conversation.tenant_id,
            Ticket.conversation_id == conversation.id,
            Ticket.status == TicketStatus.CLOSED,
            Ticket.closed_at >= since,
        )
        .order_by(Ticket.closed_at.desc())
        .limit(1)
        .with_for_update()
    )


async def get_ticket(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, *, lock: bool = False
) -> Ticket:
    missing = TicketNotFoundError(f"ticket {ticket_id} not found")
    return await get_owned(session, Ticket, tenant_id, ticket_id, missing, lock=lock)


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    queue_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tag_id: uuid.UUID | None = None
    channel: str | None = None
    """A channel type: webchat, telegram, whatsapp-cloud…"""
    text: str | None = None
    """In the contact's name or id, the protocol, or any message of the conversation."""
    visible: Visibility | None = None
    """Only what this viewer may see (``handoff.visibility``)."""


async def list_tickets(
    session: AsyncSession, tenant_id: uuid.UUID, filters: TicketFilters | None = None
) -> list[tuple[Ticket, Contact]]:
    """Tickets with their contact, newest first, in one query; every filter narrows the list."""
    filters = filters or TicketFilters()
    query = (
        select(Ticket, Contact)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Ticket.tenant_id == tenant_id)
    )
    if filters.visible:
        query = query.where(filters.visible.where())
    if filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.queue_id:
        query = query.where(Ticket.queue_id == filters.queue_id)
    if filters.assignee_id:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.tag_id:
        query = query.where(
            exists().where(
                TicketTag.ticket_id == Ticket.id,
                TicketTag.tag_id == filters.tag_id,
                TicketTag.tenant_id == tenant_id,
            )
        )
    if filters.channel:
        query = query.join(Channel, Channel.id == Conversation.channel_id).where(
            Channel.type == filters.channel
        )
    if filters.text and filters.text.strip():
        pattern = f"%{filters.text.strip()}%"
        query = query.where(
            or_(
                Contact.name.ilike(pattern),
                Contact.external_id.ilike(pattern),
                Ticket.protocol.ilike(pattern),
                exists().where(
                    Message.tenant_id == tenant_id,
                    Message.conversation_id == Conversation.id,
                    Message.text.ilike(pattern),
                ),
            )
        )
    rows = await session.execute(query.order_by(Ticket.created_at.desc()).limit(500))
    return [(ticket, contact) for ticket, contact in rows.tuples()]


async def _locked_unclosed(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, closed: str = "is closed"
) -> Ticket:
    """The ticket, its row locked so that two people acting on it at once act one after the other; a
    closed ticket is refused (``closed`` ends the message)."""
    ticket = await get_ticket(session, tenant_id, ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketConflictError(f"ticket {ticket.protocol} {closed}")
    return ticket


def _taken_by_another(ticket: Ticket, user_id: uuid.UUID) -> bool:
    """A pending ticket is no one's."""
    return ticket.assignee_id is not None and ticket.assignee_id != user_id


async def accept_ticket(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, user_id: uuid.UUID
) -> Ticket:
    """Take a pending ticket. The row lock makes two agents accepting at once end with one owner."""
    ticket = await _locked_unclosed(session, tenant_id, ticket_id)
    if _taken_by_another(ticket, user_id):
        owner = await session.scalar(
            select(User.name).where(User.tenant_id == tenant_id, User.id == ticket.assignee_id)
        )
        raise TicketConflictError(f"ticket {ticket.protocol} is already taken by {owner or 'another agent'}")
    if ticket.status != TicketStatus.OPEN or ticket.accepted_at is None:
        record(session, ticket, TicketEventKind.ACCEPTED, user_id)
    ticket.status = TicketStatus.OPEN
    ticket.assignee_id = user_id
    ticket.accepted_at = ticket.accepted_at or _now()
    await session.flush()
    return ticket


async def reply_to_ticket(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    text: str,
    attachments: tuple[Attachment, ...] = (),
) -> tuple[Ticket, Message]:
    """The agent's reply (text, files or both), stored as an outbound message; replying to a pending
    ticket accepts it."""
    if not text.strip() and not attachments:
        raise InvalidReplyError("text: must not be empty", field="text")
    if len(text) > MAX_REPLY_LENGTH:
        raise InvalidReplyError(f"text: must have at most {MAX_REPLY_LENGTH} characters", field="text")
    ticket = await accept_ticket(session, tenant_id, ticket_id, user_id)
    ticket.first_response_at = ticket.first_response_at or _now()
    ticket.seen_at = _now()
    conversation = await session.get_one(Conversation, ticket.conversation_id)
    message = Message(
        tenant_id=tenant_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction=Direction.OUTBOUND,
        author=Author.AGENT,
        author_user_id=user_id,
        text=text,
        citations=[],
        content=MessageContent(attachments=attachments).as_dict(),
        processed=True,
    )
    session.add(message)
    await session.flush()
    return ticket, message


async def close_ticket(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, user_id: uuid.UUID
) -> Ticket:
    """Close the ticket and give the conversation back to the bot."""
    ticket = await _locked_unclosed(session, tenant_id, ticket_id, closed="is already closed")
    if _taken_by_another(ticket, user_id):
        raise TicketConflictError(f"ticket {ticket.protocol} belongs to another agent")
    ticket.status = TicketStatus.CLOSED
    ticket.assignee_id = ticket.assignee_id or user_id
    ticket.closed_at = _now()
    record(session, ticket, TicketEventKind.CLOSED, user_id)
    return await _back_to_bot(session, tenant_id, ticket)


async def _back_to_bot(session: AsyncSession, tenant_id: uuid.UUID, ticket: Ticket) -> Ticket:
    """After a ticket closes: the bot answers its conversation again, and the agent's free place goes
    to a ticket waiting in the queue."""
    conversation = await session.get_one(Conversation, ticket.conversation_id)
    conversation.mode = ConversationMode.BOT
    await session.flush()
    await assign_waiting(session, tenant_id, [ticket.queue_id], _now())
    return ticket


MAX_NOTE_LENGTH = 4096


async def _locked_owned(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    is_admin: bool,
    action: str,
) -> Ticket:
    """Only the ticket's agent (or an admin) acts on a taken ticket; a pending one is anyone's."""
    ticket = await _locked_unclosed(session, tenant_id, ticket_id)
    if _taken_by_another(ticket, user_id) and not is_admin:
        raise TicketConflictError(f"ticket {ticket.protocol} belongs to another agent: only they {action} it")
    return ticket


async def add_note(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, user_id: uuid.UUID, text: str
) -> Ticket:
    """An internal note: in the ticket's history for the team, never sent to the customer."""
    text = text.strip()
    if not text:
        raise InvalidInputError("text", "must not be empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidInputError("text", f"must have at most {MAX_NOTE_LENGTH} characters")
    ticket = await get_ticket(session, tenant_id, ticket_id)
    record(session, ticket, TicketEventKind.NOTE, user_id, text=text)
    await session.flush()
    return ticket


async def transfer_ticket(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    is_admin: bool = False,
    queue_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    note: str = "",
) -> Ticket:
    """To another queue (routed there, or waiting as pending) and/or straight to an agent of the tenant."""
    if queue_id is None and assignee_id is None:
        raise InvalidInputError("queue_id", "give a queue, an agent, or both")
    ticket = await _locked_owned(session, tenant_id, ticket_id, user_id, is_admin, "transfer")
    before = {
        "queue_id": str(ticket.queue_id),
        "assignee_id": str(ticket.assignee_id) if ticket.assignee_id else None,
    }
    if queue_id is not None:
        queue = await session.scalar(select(Queue).where(Queue.tenant_id == tenant_id, Queue.id == queue_id))
        if queue is None:
            raise InvalidInputError("queue_id", f"no queue {queue_id} in this tenant")
        ticket.queue_id = queue.id
    if assignee_id is not None:
        agent = await session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == assignee_id))
        if agent is None:
            raise InvalidInputError("assignee_id", f"no user {assignee_id} in this tenant")
        if agent.role not in WORKS_TICKETS:
            raise InvalidInputError(
                "assignee_id",
                f"{agent.name} ({agent.role}) has no inbox: tickets go to agents, supervisors or admins",
            )
        ticket.assignee_id, ticket.status = agent.id, TicketStatus.OPEN
    else:
        ticket.assignee_id, ticket.status = None, TicketStatus.PENDING
    record(
        session,
        ticket,
        TicketEventKind.TRANSFERRED,
        user_id,
        note=note.strip()[:MAX_NOTE_LENGTH],
        before=before,
        queue_id=str(ticket.queue_id),
        assignee_id=str(ticket.assignee_id) if ticket.assignee_id else None,
    )
    await session.flush()
    if ticket.assignee_id is None:
        await assign_next(session, ticket, _now())
    return ticket


async def return_to_bot(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    is_admin: bool = False,
) -> Ticket:
    """The person is done: the ticket closes and the bot answers the conversation again."""
    ticket = await _locked_owned(session, tenant_id, ticket_id, user_id, is_admin, "hand back")
    record(session, ticket, TicketEventKind.RETURNED_TO_BOT, user_id)
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, _now()
    ticket.assignee_id = ticket.assignee_id or user_id
    return await _back_to_bot(session, tenant_id, ticket)

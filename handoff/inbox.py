"""What the inbox reads of tickets: the list a person may see, one ticket with its whole history, the
contact and quick replies beside it, and the ticket a person may act on.

Every read asks ``handoff.visibility``: an agent outside the ticket's queue gets the same 404 as for
another tenant's ticket, whether they read it or act on it.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Contact, Conversation, ConversationMode, Message
from channels.service import conversation_messages
from channels.views import message_view
from channels.webchat import visitor_name
from core.accounts import Actor, tenant_of, user_names
from handoff.contact_panel import ContactPanel, contact_panel
from handoff.errors import TicketNotFoundError
from handoff.history import conversation_history
from handoff.models import Queue, Ticket
from handoff.queues import list_queues
from handoff.quick_replies import Fill, find_quick_replies
from handoff.service import TicketFilters, get_ticket, list_tickets
from handoff.sla import sla_of
from handoff.tags import tags_of
from handoff.unread import unread_counts
from handoff.views import (
    QuickReplyView,
    TicketDetail,
    TicketView,
    history_view,
    tag_view,
    ticket_view,
)
from handoff.visibility import can_see, visibility


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def visible_ticket(session: AsyncSession, actor: Actor, ticket_id: uuid.UUID) -> Ticket:
    """The ticket, if this person may see it; else ``TicketNotFoundError``, as for another tenant's."""
    ticket = await get_ticket(session, actor.tenant_id, ticket_id)
    if not await can_see(session, ticket, actor.id, actor.role):
        raise TicketNotFoundError(f"ticket {ticket_id} not found")
    return ticket


async def ticket_contact(session: AsyncSession, ticket: Ticket) -> Contact:
    conversation = await session.get_one(Conversation, ticket.conversation_id)
    return await session.get_one(Contact, conversation.contact_id)


def contact_label(contact: Contact) -> str:
    """How the inbox names the customer: their name, else the channel's id for them."""
    return contact.name or contact.external_id


async def list_visible_tickets(
    session: AsyncSession, actor: Actor, filters: TicketFilters
) -> list[TicketView]:
    """The tickets this person may see, newest first, with tags, SLA and unread counts."""
    view = await visibility(session, actor.tenant_id, actor.id, actor.role)
    rows = await list_tickets(session, actor.tenant_id, dataclasses.replace(filters, visible=view))
    ids = [ticket.id for ticket, _ in rows]
    tags = await tags_of(session, actor.tenant_id, ids)
    unread = await unread_counts(session, actor.tenant_id, ids)
    queues = {q.id: q for q, _ in await list_queues(session, actor.tenant_id)}
    now = _now()
    return [
        ticket_view(
            ticket,
            contact_label(contact),
            [tag_view(t) for t in tags.get(ticket.id, [])],
            sla_of(ticket, queues[ticket.queue_id], now),
            unread.get(ticket.id, 0),
        )
        for ticket, contact in rows
    ]


async def ticket_detail(session: AsyncSession, actor: Actor, ticket_id: uuid.UUID) -> TicketDetail:
    """The ticket, its conversation's messages, and the history of every ticket the conversation had."""
    ticket = await visible_ticket(session, actor, ticket_id)
    contact = await ticket_contact(session, ticket)
    messages = await conversation_messages(session, actor.tenant_id, ticket.conversation_id)
    events = await conversation_history(session, actor.tenant_id, ticket.conversation_id)
    names = await user_names(session, actor.tenant_id, {e.actor_id for e in events if e.actor_id})
    queue = await session.get_one(Queue, ticket.queue_id)
    mode = await session.scalar(
        select(Conversation.mode).where(
            Conversation.tenant_id == actor.tenant_id, Conversation.id == ticket.conversation_id
        )
    )
    return TicketDetail(
        ticket_view(ticket, contact_label(contact), sla=sla_of(ticket, queue, _now())),
        [message_view(m) for m in messages],
        [history_view(e, names.get(e.actor_id) if e.actor_id else None) for e in events],
        bot_answering=mode == ConversationMode.BOT,
    )


async def ticket_messages(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID
) -> tuple[Ticket, list[Message]]:
    """The ticket and its conversation so far, oldest first (for the AI help beside it)."""
    ticket = await visible_ticket(session, actor, ticket_id)
    return ticket, await conversation_messages(session, actor.tenant_id, ticket.conversation_id)


async def fill_of(session: AsyncSession, actor: Actor, ticket: Ticket, contact: Contact) -> Fill:
    """The values of a reply's variables (``{{contact.name}}``…) on this ticket, written by this person."""
    tenant = await tenant_of(session, actor)
    # A web chat visitor's placeholder ("Visitante 1a2b3c") labels them in the inbox; it is no name to greet.
    placeholder = contact.name == visitor_name(contact.external_id)
    return Fill("" if placeholder else contact.name or "", ticket.protocol, actor.name, tenant.name)


async def quick_replies_for(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, query: str
) -> list[QuickReplyView]:
    """The quick replies matching ``query`` (``/entr``), filled in for this ticket, ready to edit and send."""
    ticket = await visible_ticket(session, actor, ticket_id)
    fill = await fill_of(session, actor, ticket, await ticket_contact(session, ticket))
    found = await find_quick_replies(session, actor.tenant_id, query)
    return [QuickReplyView(str(r.id), r.shortcut, fill.render(r.text)) for r in found]


async def ticket_contact_panel(session: AsyncSession, actor: Actor, ticket_id: uuid.UUID) -> ContactPanel:
    """The customer beside the ticket: their profile, channels and the past tickets this person may see."""
    contact = await ticket_contact(session, await visible_ticket(session, actor, ticket_id))
    return await contact_panel(
        session, contact, await visibility(session, actor.tenant_id, actor.id, actor.role)
    )

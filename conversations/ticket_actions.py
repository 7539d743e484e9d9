"""What a person on the team does to a ticket: each action checks that they may (the ticket is one
they see), writes in its own transaction, and only once that commits sends what it must (the
customer's message, the CSAT question) and tells the inbox and the webhooks.

In zulip's words: ``handoff.inbox.visible_ticket`` is the check, ``handoff.service`` does the write
(callers commit), and these ``do_*`` functions own the transaction and its aftermath.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Attachment
from channels.contacts import ContactProfileIn, update_profile
from channels.models import Channel, Contact, DeliveryStatus, Message
from channels.views import MessageView, message_view
from conversations.media import store_agent_file
from conversations.notify import Outgoing, notify_inbox, send_outgoing
from conversations.outbox import retry_job_of
from conversations.services import Services
from conversations.typing import agent_typing
from core.accounts import Actor, Presence, set_presence
from core.errors import ConflictError, NotFoundError
from core.outbox import JobKind
from handoff import service
from handoff.contact_panel import ContactPanel, contact_panel
from handoff.csat import ask_rating
from handoff.errors import TicketNotFoundError
from handoff.events import ticket_updated
from handoff.inbox import contact_label, fill_of, ticket_contact, visible_ticket
from handoff.models import Ticket
from handoff.tags import set_ticket_tags
from handoff.take_over import take_over
from handoff.ticket_router import assign_waiting, queues_of
from handoff.unread import mark_seen
from handoff.views import TagView, TicketView, tag_view, ticket_view
from handoff.visibility import visibility

Change = Callable[[AsyncSession, Ticket], Awaitable[Ticket]]


async def _change(services: Services, actor: Actor, ticket_id: uuid.UUID, change: Change) -> TicketView:
    """Apply a lifecycle change to a ticket the person sees, commit, then tell the inbox."""
    async with services.database.sessionmaker.begin() as session:
        ticket = await change(session, await visible_ticket(session, actor, ticket_id))
        view = ticket_view(ticket, contact_label(await ticket_contact(session, ticket)))
    await notify_inbox(services, actor.tenant_id, ticket_updated(view))
    return view


async def do_accept_ticket(services: Services, actor: Actor, ticket_id: uuid.UUID) -> TicketView:
    """Take the ticket; two people accepting at once end with one owner, the other gets a conflict."""
    return await _change(
        services, actor, ticket_id, lambda s, t: service.accept_ticket(s, t.tenant_id, t.id, actor.id)
    )


async def do_add_note(services: Services, actor: Actor, ticket_id: uuid.UUID, text: str) -> TicketView:
    """An internal note for the team; the customer never sees it."""
    return await _change(
        services, actor, ticket_id, lambda s, t: service.add_note(s, t.tenant_id, t.id, actor.id, text)
    )


async def do_transfer_ticket(
    services: Services,
    actor: Actor,
    ticket_id: uuid.UUID,
    *,
    queue_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    note: str = "",
) -> TicketView:
    """To another queue and/or agent, with a note; the ticket's agent, a supervisor or an admin may."""

    def transfer(session: AsyncSession, ticket: Ticket) -> Awaitable[Ticket]:
        return service.transfer_ticket(
            session,
            ticket.tenant_id,
            ticket.id,
            actor.id,
            is_admin=actor.supervises,
            queue_id=queue_id,
            assignee_id=assignee_id,
            note=note,
        )

    return await _change(services, actor, ticket_id, transfer)


async def do_return_to_bot(services: Services, actor: Actor, ticket_id: uuid.UUID) -> TicketView:
    """Close the ticket and let the bot answer the conversation again."""
    return await _change(
        services,
        actor,
        ticket_id,
        lambda s, t: service.return_to_bot(s, t.tenant_id, t.id, actor.id, is_admin=actor.supervises),
    )


async def do_take_over(services: Services, actor: Actor, conversation_id: uuid.UUID) -> TicketView:
    """Take a conversation from the bot: its ticket opens, accepted by the person."""
    async with services.database.sessionmaker.begin() as session:
        ticket = await take_over(session, actor.tenant_id, conversation_id, actor.id)
        view = ticket_view(ticket, contact_label(await ticket_contact(session, ticket)))
    await notify_inbox(services, actor.tenant_id, ticket_updated(view))
    return view


async def do_close_ticket(services: Services, actor: Actor, ticket_id: uuid.UUID) -> TicketView:
    """Close, and ask the customer on their channel to rate the service from 1 to 5."""
    async with services.database.sessionmaker.begin() as session:
        await visible_ticket(session, actor, ticket_id)
        ticket = await service.close_ticket(session, actor.tenant_id, ticket_id, actor.id)
        question = await ask_rating(session, ticket)
        contact = await ticket_contact(session, ticket)
        outgoing = await _outgoing(session, question, contact)
        view = ticket_view(ticket, contact_label(contact))
    await send_outgoing(services, outgoing)
    await notify_inbox(services, actor.tenant_id, ticket_updated(view))
    return view


async def do_reply(services: Services, actor: Actor, ticket_id: uuid.UUID, text: str) -> MessageView:
    """The agent's answer, its variables (``{{contact.name}}``…) filled in, sent to the customer;
    an unknown variable is an error naming it and nothing is sent. Replying accepts a pending ticket."""
    return await _send(services, actor, ticket_id, text, fill=True)


@dataclass(frozen=True)
class AgentFile:
    """A file an agent uploads to send."""

    name: str
    content_type: str | None
    data: bytes


async def do_send_file(
    services: Services, actor: Actor, ticket_id: uuid.UUID, file: AgentFile, caption: str = ""
) -> MessageView:
    """A file, kept in the media store, sent to the customer with ``caption`` (as it is) beside it."""
    attachment = await store_agent_file(services, actor.tenant_id, file.name, file.content_type, file.data)
    return await _send(services, actor, ticket_id, caption, (attachment,))


async def _send(
    services: Services,
    actor: Actor,
    ticket_id: uuid.UUID,
    text: str,
    attachments: tuple[Attachment, ...] = (),
    *,
    fill: bool = False,
) -> MessageView:
    async with services.database.sessionmaker.begin() as session:
        ticket = await visible_ticket(session, actor, ticket_id)
        contact = await ticket_contact(session, ticket)
        if fill:
            text = (await fill_of(session, actor, ticket, contact)).render(text)
        ticket, message = await service.reply_to_ticket(
            session, actor.tenant_id, ticket_id, actor.id, text, attachments
        )
        outgoing = await _outgoing(session, message, contact)
        event = ticket_updated(ticket, contact_label(contact))
    await send_outgoing(services, outgoing)
    await notify_inbox(services, actor.tenant_id, event)
    return outgoing.message


async def _outgoing(session: AsyncSession, message: Message, contact: Contact) -> Outgoing:
    channel = await session.get_one(Channel, message.channel_id)
    return Outgoing.of(message, channel.type, contact.external_id)


async def do_resend_message(
    services: Services, actor: Actor, ticket_id: uuid.UUID, message_id: uuid.UUID
) -> MessageView:
    """Try again to deliver a message its channel refused (shown failed in the conversation)."""
    async with services.database.sessionmaker.begin() as session:
        ticket = await visible_ticket(session, actor, ticket_id)
        message = await session.scalar(
            select(Message).where(
                Message.tenant_id == actor.tenant_id,
                Message.conversation_id == ticket.conversation_id,
                Message.id == message_id,
            )
        )
        if message is None:
            raise NotFoundError(f"no message {message_id} in this ticket's conversation")
        if message.delivery_status != DeliveryStatus.FAILED:
            raise ConflictError(
                f"message {message_id} is {message.delivery_status or 'not sent through a channel'}: only"
                " failed messages are sent again"
            )
        await retry_job_of(session, JobKind.MESSAGE, message.id)
        await session.refresh(message)
        view = message_view(message)
    await services.jobs.deliver_message(message.id)
    return view


async def do_set_ticket_tags(
    services: Services, actor: Actor, ticket_id: uuid.UUID, tag_ids: list[uuid.UUID]
) -> list[TagView]:
    """The ticket's tags become exactly these."""
    async with services.database.sessionmaker.begin() as session:
        await visible_ticket(session, actor, ticket_id)
        tags = await set_ticket_tags(session, actor.tenant_id, ticket_id, tag_ids)
        return [tag_view(t) for t in tags]


async def do_mark_seen(services: Services, actor: Actor, ticket_id: uuid.UUID) -> None:
    """The person read the conversation up to now: its unread count drops to zero."""
    async with services.database.sessionmaker.begin() as session:
        await visible_ticket(session, actor, ticket_id)
        await mark_seen(session, actor.tenant_id, ticket_id)


async def do_update_contact(
    services: Services, actor: Actor, ticket_id: uuid.UUID, profile: ContactProfileIn
) -> ContactPanel:
    """The ticket's customer's profile becomes exactly this; a bad field names itself, nothing is saved."""
    async with services.database.sessionmaker.begin() as session:
        contact = await ticket_contact(session, await visible_ticket(session, actor, ticket_id))
        update_profile(contact, profile)
        await session.flush()
        view = await visibility(session, actor.tenant_id, actor.id, actor.role)
        return await contact_panel(session, contact, view)


async def do_agent_typing(services: Services, actor: Actor, ticket_id: uuid.UUID) -> None:
    """The customer and the rest of the team see this person writing; a ticket they do not see is ignored."""
    async with services.database.sessionmaker() as session:
        try:
            ticket = await visible_ticket(session, actor, ticket_id)
        except TicketNotFoundError:
            return
        await agent_typing(services, session, actor.tenant_id, ticket.conversation_id, actor.id, actor.name)


async def do_set_presence(services: Services, actor: Actor, presence: str) -> list[TicketView]:
    """Only online agents are given tickets: going online hands them what waits in their queues (the
    tickets returned); the inbox hears of each."""
    async with services.database.sessionmaker.begin() as session:
        await set_presence(session, actor.id, presence)
        assigned: list[Ticket] = []
        if presence == Presence.ONLINE:
            queues = await queues_of(session, actor.tenant_id, actor.id)
            assigned = await assign_waiting(
                session, actor.tenant_id, queues, datetime.datetime.now(datetime.UTC)
            )
        events = [ticket_updated(ticket) for ticket in assigned]
    for event in events:
        await notify_inbox(services, actor.tenant_id, event)
    return [event.ticket for event in events]

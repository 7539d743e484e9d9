"""What the agent sees of the customer beside the conversation: who they are, where they write from,
and every ticket they had on any channel."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contacts import same_person
from channels.models import Channel, Contact, Conversation
from core.views import view_of
from handoff.models import Queue, Ticket
from handoff.visibility import Visibility

PAST_TICKETS = 20


class ContactChannelView(msgspec.Struct):
    contact_id: str
    channel_type: str
    channel_name: str
    external_id: str


class PastTicketView(msgspec.Struct):
    id: str
    protocol: str
    status: str
    channel_type: str
    queue: str
    reason: str
    created_at: str
    closed_at: str | None
    csat_rating: int | None


class ContactPanel(msgspec.Struct):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    custom_fields: dict[str, str]
    channels: list[ContactChannelView]
    """This contact and the same person (same phone or e-mail) on the tenant's other channels."""
    tickets: list[PastTicketView]
    """Their latest tickets on all those channels, newest first."""


async def contact_panel(session: AsyncSession, contact: Contact, view: Visibility) -> ContactPanel:
    """An agent sees only the tickets they may see, and the person's other contacts only where one
    of those is (a phone or e-mail typed in must not reveal someone else's)."""
    people = await same_person(session, contact)
    visible = view.where()
    if view.queues is not None:
        reachable = set(
            await session.scalars(
                select(Conversation.contact_id)
                .join(Ticket, Ticket.conversation_id == Conversation.id)
                .where(
                    Ticket.tenant_id == contact.tenant_id,
                    Conversation.contact_id.in_([p.id for p in people]),
                    visible,
                )
            )
        )
        people = [p for p in people if p.id == contact.id or p.id in reachable]
    channels = {
        c.id: c
        for c in await session.scalars(
            select(Channel).where(
                Channel.tenant_id == contact.tenant_id, Channel.id.in_({p.channel_id for p in people})
            )
        )
    }
    rows = await session.execute(
        select(Ticket, Conversation.channel_id, Queue.name)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .join(Queue, Queue.id == Ticket.queue_id)
        .where(
            Ticket.tenant_id == contact.tenant_id,
            Conversation.contact_id.in_([p.id for p in people]),
            visible,
        )
        .order_by(Ticket.created_at.desc())
        .limit(PAST_TICKETS)
    )
    return view_of(
        ContactPanel,
        contact,
        channels=[
            ContactChannelView(
                str(p.id), channels[p.channel_id].type, channels[p.channel_id].name, p.external_id
            )
            for p in people
        ],
        tickets=[
            view_of(PastTicketView, ticket, channel_type=channels[channel_id].type, queue=queue)
            for ticket, channel_id, queue in rows.tuples()
        ],
    )

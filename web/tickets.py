"""Tickets for the inbox: list, open one with its whole history, accept, reply, close; live events."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.security.jwt import Token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Channel, Contact, Conversation
from channels.service import conversation_messages
from channels.views import MessageView, message_view
from conversations.delivery import mark_for_resend
from conversations.media import store_agent_file
from conversations.notify import Outgoing, notify_inbox, send_outgoing
from conversations.services import Services
from core.accounts import Role, Tenant, User
from core.errors import InvalidInputError
from handoff import service
from handoff.csat import ask_rating
from handoff.errors import TicketNotFoundError
from handoff.history import ticket_history
from handoff.models import Queue, Ticket
from handoff.queues import list_queues
from handoff.quick_replies import Fill, find_quick_replies
from handoff.sla import sla_of
from handoff.tags import set_ticket_tags, tags_of
from handoff.unread import mark_seen, unread_counts
from handoff.views import TagView, TicketView, tag_view, ticket_event, ticket_view
from handoff.visibility import can_see, visibility
from web.auth import AuthUser, inbox_roles_only

TicketStatusFilter = Literal["pending", "open", "closed"]
AgentRequest = Request[AuthUser, Token, State]
TicketChange = Callable[[AsyncSession, uuid.UUID, uuid.UUID, uuid.UUID], Awaitable[Ticket]]


class ReplyIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=service.MAX_REPLY_LENGTH)]


class HistoryView(msgspec.Struct):
    id: str
    ticket_id: str
    kind: str
    actor: str | None
    """The person's name; None for the bot and the router."""
    data: dict[str, Any]
    created_at: str


class TicketDetail(msgspec.Struct):
    ticket: TicketView
    messages: list[MessageView]
    history: list[HistoryView] = []
    """Changes and internal notes of this conversation's tickets, oldest first."""


class TagsIn(msgspec.Struct, forbid_unknown_fields=True):
    tag_ids: list[uuid.UUID]


class QuickReplyView(msgspec.Struct):
    id: str
    shortcut: str
    text: str


class NoteIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=service.MAX_NOTE_LENGTH)]


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    queue_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    note: Annotated[str, msgspec.Meta(max_length=service.MAX_NOTE_LENGTH)] = ""


async def visible_ticket(request: AgentRequest, db_session: AsyncSession, ticket_id: uuid.UUID) -> Ticket:
    """An agent outside the ticket's queue gets the same 404 as for another tenant's ticket, whether
    they read it or act on it."""
    ticket = await service.get_ticket(db_session, request.user.tenant_id, ticket_id)
    if not await can_see(db_session, ticket, request.user.id, request.user.role):
        raise TicketNotFoundError(f"ticket {ticket_id} not found")
    return ticket


def _contact_label(contact: Contact) -> str:
    return contact.name or contact.external_id


class TicketController(Controller):
    path = "/api/v1/tickets"
    guards = [inbox_roles_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list_tickets(
        self,
        request: AgentRequest,
        db_session: AsyncSession,
        status: TicketStatusFilter | None = Parameter(default=None, description="pending, open or closed"),
        queue_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        tag_id: uuid.UUID | None = None,
        channel: str | None = Parameter(default=None, max_length=32, description="webchat, telegram…"),
        q: str | None = Parameter(
            default=None, max_length=200, description="contact, protocol or message text"
        ),
    ) -> list[TicketView]:
        view = await visibility(db_session, request.user.tenant_id, request.user.id, request.user.role)
        filters = service.TicketFilters(status, queue_id, assignee_id, tag_id, channel, q, view)
        rows = await service.list_tickets(db_session, request.user.tenant_id, filters)
        ids = [ticket.id for ticket, _ in rows]
        tags = await tags_of(db_session, request.user.tenant_id, ids)
        unread = await unread_counts(db_session, request.user.tenant_id, ids)
        queues = {q.id: q for q, _ in await list_queues(db_session, request.user.tenant_id)}
        now = datetime.datetime.now(datetime.UTC)
        return [
            ticket_view(
                ticket,
                _contact_label(contact),
                [tag_view(t) for t in tags.get(ticket.id, [])],
                sla_of(ticket, queues[ticket.queue_id], now),
                unread.get(ticket.id, 0),
            )
            for ticket, contact in rows
        ]

    @put("/{ticket_id:uuid}/tags")
    async def put_tags(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: TagsIn, db_session: AsyncSession
    ) -> list[TagView]:
        """The ticket's tags become exactly these."""
        async with db_session.begin():
            await visible_ticket(request, db_session, ticket_id)
            tags = await set_ticket_tags(db_session, request.user.tenant_id, ticket_id, data.tag_ids)
            return [tag_view(t) for t in tags]

    @get("/{ticket_id:uuid}")
    async def get_ticket(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession
    ) -> TicketDetail:
        ticket = await visible_ticket(request, db_session, ticket_id)
        conversation = await db_session.get_one(Conversation, ticket.conversation_id)
        contact = await db_session.get_one(Contact, conversation.contact_id)
        messages = await conversation_messages(db_session, request.user.tenant_id, conversation.id)
        tickets = list(
            await db_session.scalars(
                select(Ticket.id).where(
                    Ticket.tenant_id == request.user.tenant_id, Ticket.conversation_id == conversation.id
                )
            )
        )
        events = await ticket_history(db_session, request.user.tenant_id, tickets)
        actors = {e.actor_id for e in events if e.actor_id}
        rows = await db_session.execute(
            select(User.id, User.name).where(User.tenant_id == request.user.tenant_id, User.id.in_(actors))
        )
        names = dict(rows.tuples().all())
        queue = await db_session.get_one(Queue, ticket.queue_id)
        now = datetime.datetime.now(datetime.UTC)
        return TicketDetail(
            ticket_view(ticket, _contact_label(contact), sla=sla_of(ticket, queue, now)),
            [message_view(m) for m in messages],
            [
                HistoryView(
                    id=str(e.id),
                    ticket_id=str(e.ticket_id),
                    kind=e.kind,
                    actor=names.get(e.actor_id) if e.actor_id else None,
                    data=e.data,
                    created_at=e.created_at.isoformat(),
                )
                for e in events
            ],
        )

    @post("/{ticket_id:uuid}/seen", status_code=204)
    async def seen(self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession) -> None:
        """The agent read the conversation up to now: its unread count drops to zero."""
        async with db_session.begin():
            await visible_ticket(request, db_session, ticket_id)
            await mark_seen(db_session, request.user.tenant_id, ticket_id)

    @post("/{ticket_id:uuid}/notes", status_code=201)
    async def add_note(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        data: NoteIn,
        db_session: AsyncSession,
        services: Services,
    ) -> TicketView:
        """An internal note for the team; the customer never sees it."""
        return await self._change(
            lambda s, t, i, u: service.add_note(s, t, i, u, data.text),
            request,
            ticket_id,
            db_session,
            services,
        )

    @post("/{ticket_id:uuid}/transfer", status_code=200)
    async def transfer(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        data: TransferIn,
        db_session: AsyncSession,
        services: Services,
    ) -> TicketView:
        """To another queue and/or agent, with a note; the ticket's agent or an admin may."""
        is_admin = request.user.role in {Role.ADMIN, Role.SUPERVISOR}
        return await self._change(
            lambda s, t, i, u: service.transfer_ticket(
                s,
                t,
                i,
                u,
                is_admin=is_admin,
                queue_id=data.queue_id,
                assignee_id=data.assignee_id,
                note=data.note,
            ),
            request,
            ticket_id,
            db_session,
            services,
        )

    @post("/{ticket_id:uuid}/return-to-bot", status_code=200)
    async def hand_back(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession, services: Services
    ) -> TicketView:
        """Close the ticket and let the bot answer the conversation again."""
        is_admin = request.user.role in {Role.ADMIN, Role.SUPERVISOR}
        return await self._change(
            lambda s, t, i, u: service.return_to_bot(s, t, i, u, is_admin=is_admin),
            request,
            ticket_id,
            db_session,
            services,
        )

    @post("/{ticket_id:uuid}/accept", status_code=200)
    async def accept(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> TicketView:
        return await self._change(service.accept_ticket, request, ticket_id, db_session, services)

    @post("/{ticket_id:uuid}/messages", status_code=201)
    async def reply(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        data: ReplyIn,
        db_session: AsyncSession,
        services: Services,
    ) -> MessageView:
        """Variables (``{{contact.name}}``…) are filled in; an unknown one is a 422 and nothing is sent."""
        async with db_session.begin():
            fill = await self._fill(request, db_session, ticket_id)
            ticket, message = await service.reply_to_ticket(
                db_session, request.user.tenant_id, ticket_id, request.user.id, fill.render(data.text)
            )
            contact = await self._contact(db_session, ticket.conversation_id)
            channel = await db_session.get_one(Channel, message.channel_id)
            outgoing = Outgoing.of(message, channel.type, contact.external_id)
            event = ticket_event(ticket, _contact_label(contact))
        await send_outgoing(services, outgoing)
        await notify_inbox(services, request.user.tenant_id, event)
        return message_view(message)

    @post("/{ticket_id:uuid}/attachments", status_code=201)
    async def send_file(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: AsyncSession,
        services: Services,
    ) -> MessageView:
        """A file (multipart field ``file``) with an optional ``text`` as its caption, to the customer."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("file", "is required (multipart field 'file')")
        text = str(data.get("text") or "")
        if len(text) > service.MAX_REPLY_LENGTH:
            raise InvalidInputError("text", f"must have at most {service.MAX_REPLY_LENGTH} characters")
        attachment = await store_agent_file(
            services,
            request.user.tenant_id,
            upload.filename,
            upload.content_type,
            await upload.read(),
        )
        async with db_session.begin():
            await visible_ticket(request, db_session, ticket_id)
            ticket, message = await service.reply_to_ticket(
                db_session, request.user.tenant_id, ticket_id, request.user.id, text, (attachment,)
            )
            contact = await self._contact(db_session, ticket.conversation_id)
            channel = await db_session.get_one(Channel, message.channel_id)
            outgoing = Outgoing.of(message, channel.type, contact.external_id)
            event = ticket_event(ticket, _contact_label(contact))
        await send_outgoing(services, outgoing)
        await notify_inbox(services, request.user.tenant_id, event)
        return message_view(message)

    @post("/{ticket_id:uuid}/messages/{message_id:uuid}/resend", status_code=202)
    async def resend(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        message_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> MessageView:
        """Try again to deliver a message its channel refused (shown failed in the conversation)."""
        async with db_session.begin():
            ticket = await visible_ticket(request, db_session, ticket_id)
            message = await mark_for_resend(
                db_session, request.user.tenant_id, ticket.conversation_id, message_id
            )
            view = message_view(message)
        await services.jobs.deliver_message(message.id)
        return view

    @post("/{ticket_id:uuid}/close", status_code=200)
    async def close(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> TicketView:
        """Close, and ask the customer on their channel to rate the service from 1 to 5."""
        async with db_session.begin():
            await visible_ticket(request, db_session, ticket_id)
            ticket = await service.close_ticket(
                db_session, request.user.tenant_id, ticket_id, request.user.id
            )
            question = await ask_rating(db_session, ticket)
            contact = await self._contact(db_session, ticket.conversation_id)
            channel = await db_session.get_one(Channel, question.channel_id)
            outgoing = Outgoing.of(question, channel.type, contact.external_id)
            view = ticket_view(ticket, _contact_label(contact))
        await send_outgoing(services, outgoing)
        await notify_inbox(
            services, request.user.tenant_id, {"type": "ticket.updated", "ticket": msgspec.to_builtins(view)}
        )
        return view

    async def _change(
        self,
        change: TicketChange,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        db_session: AsyncSession,
        services: Services,
    ) -> TicketView:
        """Apply a lifecycle change, commit, then tell the inbox."""
        async with db_session.begin():
            await visible_ticket(request, db_session, ticket_id)
            ticket = await change(db_session, request.user.tenant_id, ticket_id, request.user.id)
            contact = await self._contact(db_session, ticket.conversation_id)
            view = ticket_view(ticket, _contact_label(contact))
        await notify_inbox(
            services, request.user.tenant_id, {"type": "ticket.updated", "ticket": msgspec.to_builtins(view)}
        )
        return view

    @get("/{ticket_id:uuid}/quick-replies")
    async def quick_replies_for(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession, q: str = ""
    ) -> list[QuickReplyView]:
        """The quick replies matching ``q`` (``/entr``), filled in for this ticket, ready to edit and send."""
        fill = await self._fill(request, db_session, ticket_id)
        found = await find_quick_replies(db_session, request.user.tenant_id, q)
        return [QuickReplyView(str(r.id), r.shortcut, fill.render(r.text)) for r in found]

    async def _fill(self, request: AgentRequest, db_session: AsyncSession, ticket_id: uuid.UUID) -> Fill:
        ticket = await visible_ticket(request, db_session, ticket_id)
        contact = await self._contact(db_session, ticket.conversation_id)
        tenant = await db_session.get_one(Tenant, request.user.tenant_id)
        return Fill(contact.name or "", ticket.protocol, request.user.name, tenant.name)

    @staticmethod
    async def _contact(db_session: AsyncSession, conversation_id: uuid.UUID) -> Contact:
        conversation = await db_session.get_one(Conversation, conversation_id)
        return await db_session.get_one(Contact, conversation.contact_id)

"""Tickets for the inbox: list, open one with its whole history, accept, reply, close.

Parse, call, shape: what is read comes from ``handoff.inbox``, what changes from
``conversations.ticket_actions`` (which commit, then send and tell the inbox).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from channels.views import MessageView
from conversations import ticket_actions as actions
from conversations.services import Services
from core.errors import InvalidInputError
from handoff import inbox
from handoff.service import MAX_NOTE_LENGTH, MAX_REPLY_LENGTH, TicketFilters
from handoff.views import QuickReplyView, TagView, TicketDetail, TicketView
from web.auth import AuthUser, InboxController

TicketStatusFilter = Literal["pending", "open", "closed"]
AgentRequest = Request[AuthUser, Token, State]


class ReplyIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REPLY_LENGTH)]


class TagsIn(msgspec.Struct, forbid_unknown_fields=True):
    tag_ids: list[uuid.UUID]


class NoteIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE_LENGTH)]


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    queue_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    note: Annotated[str, msgspec.Meta(max_length=MAX_NOTE_LENGTH)] = ""


async def _agent_file(data: dict[str, Any]) -> tuple[actions.AgentFile, str]:
    """The multipart form's ``file`` and its optional ``text`` caption."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInputError("file", "is required (multipart field 'file')")
    text = str(data.get("text") or "")
    if len(text) > MAX_REPLY_LENGTH:
        raise InvalidInputError("text", f"must have at most {MAX_REPLY_LENGTH} characters")
    return actions.AgentFile(upload.filename, upload.content_type, await upload.read()), text


class TicketController(InboxController):
    path = "/api/v1/tickets"

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
        filters = TicketFilters(status, queue_id, assignee_id, tag_id, channel, q)
        return await inbox.list_visible_tickets(db_session, request.user, filters)

    @get("/{ticket_id:uuid}")
    async def get_ticket(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession
    ) -> TicketDetail:
        return await inbox.ticket_detail(db_session, request.user, ticket_id)

    @get("/{ticket_id:uuid}/quick-replies")
    async def quick_replies_for(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession, q: str = ""
    ) -> list[QuickReplyView]:
        """The quick replies matching ``q`` (``/entr``), filled in for this ticket, ready to edit and send."""
        return await inbox.quick_replies_for(db_session, request.user, ticket_id, q)

    @put("/{ticket_id:uuid}/tags")
    async def put_tags(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: TagsIn, services: Services
    ) -> list[TagView]:
        """The ticket's tags become exactly these."""
        return await actions.do_set_ticket_tags(services, request.user, ticket_id, data.tag_ids)

    @post("/{ticket_id:uuid}/seen", status_code=204)
    async def seen(self, request: AgentRequest, ticket_id: uuid.UUID, services: Services) -> None:
        """The agent read the conversation up to now: its unread count drops to zero."""
        await actions.do_mark_seen(services, request.user, ticket_id)

    @post("/{ticket_id:uuid}/notes", status_code=201)
    async def add_note(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: NoteIn, services: Services
    ) -> TicketView:
        """An internal note for the team; the customer never sees it."""
        return await actions.do_add_note(services, request.user, ticket_id, data.text)

    @post("/{ticket_id:uuid}/transfer", status_code=200)
    async def transfer(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: TransferIn, services: Services
    ) -> TicketView:
        """To another queue and/or agent, with a note; the ticket's agent or an admin may."""
        return await actions.do_transfer_ticket(
            services,
            request.user,
            ticket_id,
            queue_id=data.queue_id,
            assignee_id=data.assignee_id,
            note=data.note,
        )

    @post("/{ticket_id:uuid}/return-to-bot", status_code=200)
    async def hand_back(self, request: AgentRequest, ticket_id: uuid.UUID, services: Services) -> TicketView:
        """Close the ticket and let the bot answer the conversation again."""
        return await actions.do_return_to_bot(services, request.user, ticket_id)

    @post("/{ticket_id:uuid}/accept", status_code=200)
    async def accept(self, request: AgentRequest, ticket_id: uuid.UUID, services: Services) -> TicketView:
        return await actions.do_accept_ticket(services, request.user, ticket_id)

    @post("/{ticket_id:uuid}/messages", status_code=201)
    async def reply(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: ReplyIn, services: Services
    ) -> MessageView:
        """Variables (``{{contact.name}}``…) are filled in; an unknown one is a 422 and nothing is sent."""
        return await actions.do_reply(services, request.user, ticket_id, data.text)

    @post("/{ticket_id:uuid}/attachments", status_code=201)
    async def send_file(
        self,
        request: AgentRequest,
        ticket_id: uuid.UUID,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        services: Services,
    ) -> MessageView:
        """A file (multipart field ``file``) with an optional ``text`` as its caption, to the customer."""
        file, text = await _agent_file(data)
        return await actions.do_send_file(services, request.user, ticket_id, file, text)

    @post("/{ticket_id:uuid}/messages/{message_id:uuid}/resend", status_code=202)
    async def resend(
        self, request: AgentRequest, ticket_id: uuid.UUID, message_id: uuid.UUID, services: Services
    ) -> MessageView:
        """Try again to deliver a message its channel refused (shown failed in the conversation)."""
        return await actions.do_resend_message(services, request.user, ticket_id, message_id)

    @post("/{ticket_id:uuid}/close", status_code=200)
    async def close(self, request: AgentRequest, ticket_id: uuid.UUID, services: Services) -> TicketView:
        """Close, and ask the customer on their channel to rate the service from 1 to 5."""
        return await actions.do_close_ticket(services, request.user, ticket_id)


class ConversationController(InboxController):
    path = "/api/v1/conversations"

    @post("/{conversation_id:uuid}/take-over", status_code=200)
    async def take_over(
        self, request: AgentRequest, conversation_id: uuid.UUID, services: Services
    ) -> TicketView:
        """The person takes the conversation from the bot; a reply the bot is still writing is never sent."""
        return await actions.do_take_over(services, request.user, conversation_id)

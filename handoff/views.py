"""Wire shapes of tickets: a ticket (shared by the API and the real-time events), its page, its history."""

from __future__ import annotations

from typing import Any

import msgspec

from channels.views import MessageView
from handoff.models import Tag, Ticket, TicketEvent
from handoff.sla import Sla


class TagView(msgspec.Struct):
    id: str
    name: str
    color: str


def tag_view(tag: Tag) -> TagView:
    return TagView(str(tag.id), tag.name, tag.color)


class SlaView(msgspec.Struct):
    first_response_due: str | None
    resolution_due: str | None
    breached: list[str]


def sla_view(sla: Sla) -> SlaView:
    return SlaView(
        sla.first_response_due.isoformat() if sla.first_response_due else None,
        sla.resolution_due.isoformat() if sla.resolution_due else None,
        list(sla.breached),
    )


class TicketView(msgspec.Struct):
    id: str
    protocol: str
    status: str
    conversation_id: str
    queue_id: str
    assignee_id: str | None
    reason: str
    created_at: str
    contact: str | None = None
    tags: list[TagView] = []
    csat_rating: int | None = None
    sla: SlaView | None = None
    """Due times by the queue's targets and what was missed (None: the view was made without it)."""
    unread: int | None = None
    """The customer's messages nobody on the team has read (None: the view was made without it)."""


def ticket_view(
    ticket: Ticket,
    contact: str | None = None,
    tags: list[TagView] | None = None,
    sla: Sla | None = None,
    unread: int | None = None,
) -> TicketView:
    return TicketView(
        id=str(ticket.id),
        protocol=ticket.protocol,
        status=ticket.status,
        conversation_id=str(ticket.conversation_id),
        queue_id=str(ticket.queue_id),
        assignee_id=str(ticket.assignee_id) if ticket.assignee_id else None,
        reason=ticket.reason,
        created_at=ticket.created_at.isoformat(),
        contact=contact,
        tags=tags or [],
        csat_rating=ticket.csat_rating,
        sla=sla_view(sla) if sla else None,
        unread=unread,
    )


class HistoryView(msgspec.Struct):
    id: str
    ticket_id: str
    kind: str
    actor: str | None
    """The person's name; None for the bot and the router."""
    data: dict[str, Any]
    created_at: str


def history_view(event: TicketEvent, actor: str | None) -> HistoryView:
    return HistoryView(
        id=str(event.id),
        ticket_id=str(event.ticket_id),
        kind=event.kind,
        actor=actor,
        data=event.data,
        created_at=event.created_at.isoformat(),
    )


class TicketDetail(msgspec.Struct):
    ticket: TicketView
    messages: list[MessageView]
    history: list[HistoryView] = []
    """Changes and internal notes of this conversation's tickets, oldest first."""
    bot_answering: bool = False
    """The bot answers the conversation now (its tickets are closed): a person may take it over."""


class QuickReplyView(msgspec.Struct):
    id: str
    shortcut: str
    text: str

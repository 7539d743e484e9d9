"""Wire shape of a ticket, shared by the API and the real-time events."""

from __future__ import annotations

from typing import Any

import msgspec

from handoff.models import Tag, Ticket


class TagView(msgspec.Struct):
    id: str
    name: str
    color: str


def tag_view(tag: Tag) -> TagView:
    return TagView(str(tag.id), tag.name, tag.color)


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


def ticket_view(ticket: Ticket, contact: str | None = None, tags: list[TagView] | None = None) -> TicketView:
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
    )


def ticket_event(ticket: Ticket, contact: str | None = None) -> dict[str, Any]:
    return {"type": "ticket.updated", "ticket": msgspec.to_builtins(ticket_view(ticket, contact))}

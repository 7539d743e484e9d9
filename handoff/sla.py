"""SLA per ticket: when a first answer and a resolution are due by its queue's targets, and whether
either was missed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from handoff.models import Queue, Ticket, TicketStatus


@dataclass(frozen=True)
class Sla:
    first_response_due: datetime.datetime | None
    resolution_due: datetime.datetime | None
    breached: tuple[str, ...]
    """``first_response`` and/or ``resolution``, when missed (or running late now)."""


def sla_of(ticket: Ticket, queue: Queue, now: datetime.datetime) -> Sla:
    start = ticket.created_at
    response_due = (
        start + datetime.timedelta(minutes=queue.first_response_minutes)
        if queue.first_response_minutes
        else None
    )
    resolution_due = (
        start + datetime.timedelta(minutes=queue.resolution_minutes) if queue.resolution_minutes else None
    )
    breached = []
    if response_due and (ticket.first_response_at or now) > response_due:
        breached.append("first_response")
    closed = ticket.closed_at if ticket.status == TicketStatus.CLOSED else None
    if resolution_due and (closed or now) > resolution_due:
        breached.append("resolution")
    return Sla(response_due, resolution_due, tuple(breached))

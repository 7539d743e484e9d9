"""The inbox's WebSocket: the tenant's tickets and messages as they happen, and the agent's typing.

Only agents, supervisors and admins connect. Supervisors and admins hear everything in their
tenant. An agent hears only conversations whose current ticket they may see (their queues',
unstaffed queues', their own): the same rule as the ticket list, so no message of another queue
reaches their browser. An agent's verdict on a conversation is kept a few seconds; ticket events
always look again, so a transfer takes effect at once. The socket closes (4401) when the person's
sessions end (``web.socket_sessions``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
from litestar import Controller, WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketException

from conversations.services import Services
from conversations.ticket_actions import do_agent_typing
from conversations.typing import Throttle
from core.accounts import Role
from core.realtime import inbox_stream
from handoff.events import InboxEvent, TicketCreated, TicketUpdated, decode
from handoff.models import TicketStatus
from handoff.views import TicketView
from handoff.visibility import WHOLE_TENANT, Visibility, current_ticket_place, visibility
from web.auth import AuthUser
from web.socket_sessions import open_session, while_signed_in
from web.sockets import relay

VERDICT_SECONDS = 3.0
INBOX_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})


class InboxSays(msgspec.Struct, tag_field="type", tag="typing"):
    """What the inbox page sends: ``{"type": "typing", "ticket_id": …}`` while the agent writes."""

    ticket_id: uuid.UUID


class AgentView:
    """Which events of the tenant's stream one person may receive, by ``handoff.visibility``.

    A ticket event is judged by that ticket, against the person's visibility (looked up at most
    every few seconds); a message or typing event by its conversation's current ticket, remembered
    a few seconds.
    """

    def __init__(self, services: Services, user: AuthUser) -> None:
        self._services = services
        self._user = user
        self._verdicts: dict[str, tuple[bool, float]] = {}
        self._visibility: tuple[Visibility | None, float] = (None, 0.0)

    async def allows(self, event: InboxEvent) -> bool:
        if self._user.role in WHOLE_TENANT:
            return True
        if isinstance(event, TicketCreated | TicketUpdated):
            return await self._sees_ticket(event.ticket)
        conversation_id = event.conversation_id
        known = self._verdicts.get(conversation_id)
        now = time.monotonic()
        if known and known[1] > now:
            return known[0]
        async with self._services.database.sessionmaker() as session:
            place = await current_ticket_place(session, self._user.tenant_id, uuid.UUID(conversation_id))
        # No ticket yet: not visible, and the person's visibility is not looked up (nor kept) before one.
        visible = place is not None and (await self._view()).sees(*place)
        self._verdicts[conversation_id] = (visible, now + VERDICT_SECONDS)
        return visible

    async def _sees_ticket(self, ticket: TicketView) -> bool:
        known = self._verdicts.get(ticket.conversation_id)
        assignee = uuid.UUID(ticket.assignee_id) if ticket.assignee_id else None
        visible = (await self._view()).sees(uuid.UUID(ticket.queue_id), assignee)
        if ticket.status != TicketStatus.CLOSED:
            self._verdicts[ticket.conversation_id] = (visible, time.monotonic() + VERDICT_SECONDS)
        # A ticket leaving the agent's view is news to them once: their list drops it.
        return visible or (known is not None and known[0])

    async def _view(self) -> Visibility:
        view, fresh_until = self._visibility
        if view is None or fresh_until <= time.monotonic():
            async with self._services.database.sessionmaker() as session:
                view = await visibility(session, self._user.tenant_id, self._user.id, self._user.role)
            self._visibility = (view, time.monotonic() + VERDICT_SECONDS)
        return view


class InboxEventsController(Controller):
    path = "/api/v1/inbox"

    @websocket("/events", exclude_from_auth=True)
    async def events(
        self, socket: WebSocket[Any, Any, Any], services: Services, channels: ChannelsPlugin
    ) -> None:
        """Tickets and messages as they happen (token as a query parameter); the page sends typing.
        Closes with 4401 when the token is not current, or once the person's sessions end."""
        opened = await open_session(socket, services, socket.app.state.secret_key)
        if opened is None:
            return
        user = opened.user
        if user.role not in INBOX_ROLES:
            raise WebSocketException(detail="only agents, supervisors and admins have an inbox", code=4403)
        view = AgentView(services, user)

        async def forward(data: bytes) -> None:
            if user.role in WHOLE_TENANT:
                await socket.send_data(data)
                return
            try:
                event = decode(data)
            except msgspec.DecodeError:  # only inbox events are published on the stream
                return
            if await view.allows(event):
                await socket.send_data(data)

        throttle = Throttle()

        async def typing(says: InboxSays) -> None:
            if throttle.allows(str(says.ticket_id)):
                await do_agent_typing(services, user, says.ticket_id)

        await while_signed_in(
            socket,
            services,
            channels,
            opened,
            relay(socket, channels, inbox_stream(user.tenant_id), forward, InboxSays, typing),
        )

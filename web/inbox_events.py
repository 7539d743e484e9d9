"""The inbox's WebSocket: the tenant's tickets and messages as they happen, and the agent's typing.

Only agents, supervisors and admins connect. Supervisors and admins hear everything in their
tenant. An agent hears only conversations whose current ticket they may see (their queues',
unstaffed queues', their own): the same rule as the ticket list, so no message of another queue
reaches their browser. An agent's verdict on a conversation is kept a few seconds; ticket events
always look again, so a transfer takes effect at once.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
from litestar import Controller, WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from sqlalchemy import select

from conversations.services import Services
from conversations.typing import Throttle, agent_typing
from core.accounts import Role
from core.realtime import inbox_stream
from handoff import service
from handoff.errors import TicketNotFoundError
from handoff.models import Ticket
from handoff.visibility import WHOLE_TENANT, Visibility, can_see, visibility
from web.auth import AuthUser, user_from_raw_token

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

    async def allows(self, event: dict[str, Any]) -> bool:
        if self._user.role in WHOLE_TENANT:
            return True
        ticket = event.get("ticket")
        conversation_id = (
            ticket["conversation_id"] if isinstance(ticket, dict) else event.get("conversation_id")
        )
        if not isinstance(conversation_id, str):
            return False
        known = self._verdicts.get(conversation_id)
        now = time.monotonic()
        if isinstance(ticket, dict):
            assignee = ticket.get("assignee_id")
            view = await self._view()
            visible = view.sees(uuid.UUID(ticket["queue_id"]), uuid.UUID(assignee) if assignee else None)
            if ticket.get("status") != "closed":
                self._verdicts[conversation_id] = (visible, now + VERDICT_SECONDS)
            # A ticket leaving the agent's view is news to them once: their list drops it.
            return visible or (known is not None and known[0])
        if known and known[1] > now:
            return known[0]
        visible = await self._sees_conversation(uuid.UUID(conversation_id))
        self._verdicts[conversation_id] = (visible, now + VERDICT_SECONDS)
        return visible

    async def _view(self) -> Visibility:
        view, fresh_until = self._visibility
        if view is None or fresh_until <= time.monotonic():
            async with self._services.database.sessionmaker() as session:
                view = await visibility(session, self._user.tenant_id, self._user.id, self._user.role)
            self._visibility = (view, time.monotonic() + VERDICT_SECONDS)
        return view

    async def _sees_conversation(self, conversation_id: uuid.UUID) -> bool:
        """Whether the conversation's current (latest) ticket is one the agent may see."""
        async with self._services.database.sessionmaker() as session:
            latest = (
                await session.execute(
                    select(Ticket.queue_id, Ticket.assignee_id)
                    .where(
                        Ticket.tenant_id == self._user.tenant_id, Ticket.conversation_id == conversation_id
                    )
                    .order_by(Ticket.created_at.desc())
                    .limit(1)
                )
            ).first()
        return latest is not None and (await self._view()).sees(latest.queue_id, latest.assignee_id)


class InboxEventsController(Controller):
    path = "/api/v1/inbox"

    @websocket("/events", exclude_from_auth=True)
    async def events(
        self, socket: WebSocket[Any, Any, Any], services: Services, channels: ChannelsPlugin, token: str
    ) -> None:
        """Tickets and messages as they happen (token as a query parameter); the page sends typing."""
        user = await user_from_raw_token(services, socket.app.state.secret_key, token)
        if user.role not in INBOX_ROLES:
            raise WebSocketException(detail="only agents, supervisors and admins have an inbox", code=4403)
        await socket.accept()
        view = AgentView(services, user)

        async def forward(data: bytes) -> None:
            if await view.allows(msgspec.json.decode(data)):
                await socket.send_data(data)

        throttle = Throttle()
        async with (
            channels.start_subscription([inbox_stream(user.tenant_id)]) as subscriber,
            subscriber.run_in_background(forward),
        ):
            while True:
                try:
                    said = await socket.receive_text()
                except WebSocketDisconnect:
                    break
                try:
                    typing = msgspec.json.decode(said, type=InboxSays)
                except msgspec.DecodeError:  # also what fails validation
                    continue  # nothing else is said on this socket
                if throttle.allows(str(typing.ticket_id)):
                    await _agent_typing(services, user, typing.ticket_id)


async def _agent_typing(services: Services, user: AuthUser, ticket_id: uuid.UUID) -> None:
    async with services.database.sessionmaker() as session:
        try:
            ticket = await service.get_ticket(session, user.tenant_id, ticket_id)
        except TicketNotFoundError:
            return
        if not await can_see(session, ticket, user.id, user.role):
            return
        await agent_typing(services, session, user.tenant_id, ticket.conversation_id, user.id, user.name)

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
from handoff.models import QueueMember, Ticket
from web.auth import AuthUser, user_from_raw_token

VERDICT_SECONDS = 3.0
INBOX_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
SEE_ALL = frozenset({Role.ADMIN, Role.SUPERVISOR})


class InboxSays(msgspec.Struct, tag_field="type", tag="typing"):
    """What the inbox page sends: ``{"type": "typing", "ticket_id": …}`` while the agent writes."""

    ticket_id: uuid.UUID


class AgentView:
    """Which events of the tenant's stream one agent may receive.

    A ticket event is judged by that ticket (its queue and assignee against the agent's queues,
    looked up at most every few seconds); a message or typing event by its conversation's current
    ticket, remembered a few seconds.
    """

    def __init__(self, services: Services, user: AuthUser) -> None:
        self._services = services
        self._user = user
        self._verdicts: dict[str, tuple[bool, float]] = {}
        self._queues: tuple[set[str], set[str], float] = (set(), set(), 0.0)

    async def allows(self, event: dict[str, Any]) -> bool:
        if self._user.role in SEE_ALL:
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
            visible = await self._sees_ticket(ticket)
            if ticket.get("status") != "closed":
                self._verdicts[conversation_id] = (visible, now + VERDICT_SECONDS)
            # A ticket leaving the agent's view is news to them once: their list drops it.
            return visible or (known is not None and known[0])
        if known and known[1] > now:
            return known[0]
        visible = await self._sees_conversation(uuid.UUID(conversation_id))
        self._verdicts[conversation_id] = (visible, now + VERDICT_SECONDS)
        return visible

    async def _sees_ticket(self, ticket: dict[str, Any]) -> bool:
        """The rule of ``handoff.service.visible_to``, on the ticket the event carries."""
        mine, staffed, fresh_until = self._queues
        if fresh_until <= time.monotonic():
            tenant_id, agent_id = self._user.tenant_id, self._user.id
            async with self._services.database.sessionmaker() as session:
                rows = await session.execute(
                    select(QueueMember.queue_id, QueueMember.user_id).where(
                        QueueMember.tenant_id == tenant_id
                    )
                )
                members = rows.tuples().all()
            mine = {str(queue) for queue, user in members if user == agent_id}
            staffed = {str(queue) for queue, _ in members}
            self._queues = (mine, staffed, time.monotonic() + VERDICT_SECONDS)
        queue = ticket.get("queue_id")
        return ticket.get("assignee_id") == str(self._user.id) or queue in mine or queue not in staffed

    async def _sees_conversation(self, conversation_id: uuid.UUID) -> bool:
        """Whether the conversation's current (latest) ticket is one the agent may see."""
        tenant_id, agent_id = self._user.tenant_id, self._user.id
        async with self._services.database.sessionmaker() as session:
            latest = (
                select(Ticket.id)
                .where(Ticket.tenant_id == tenant_id, Ticket.conversation_id == conversation_id)
                .order_by(Ticket.created_at.desc())
                .limit(1)
                .scalar_subquery()
            )
            found = await session.scalar(
                select(Ticket.id).where(Ticket.id == latest, service.visible_to(tenant_id, agent_id))
            )
        return found is not None


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
        if user.role not in SEE_ALL and not await service.can_see(session, ticket, user.id):
            return
        await agent_typing(services, session, user.tenant_id, ticket.conversation_id, user.id, user.name)

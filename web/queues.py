"""Queues for admins (settings and members) and agents' presence (who gets new tickets)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from conversations.ticket_actions import do_set_presence
from core.accounts import Role, list_users, presence_of
from core.views import view_of
from handoff.models import Queue
from handoff.queues import get_queue, list_queues, queue_loads, save_queue
from handoff.service import default_queue
from web.auth import AdminController, AuthUser, InboxController, supervisors_only

UserRequest = Request[AuthUser, Token, State]


class QueueView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    is_default: bool
    color: str
    greeting: str
    business_hours: dict[str, Any] | None
    routing: str
    max_open_per_agent: int
    members: list[str]
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None


def _view(queue: Queue, members: list[uuid.UUID]) -> QueueView:
    return view_of(QueueView, queue, members=[str(m) for m in members])


class QueueAdminController(AdminController):
    path = "/api/v1/admin/queues"

    @get("/")
    async def list_queues(self, request: UserRequest, db_session: AsyncSession) -> list[QueueView]:
        """Every tenant has its default queue (where escalations go), even before its first ticket."""
        async with db_session.begin():
            await default_queue(db_session, request.user.tenant_id)
            return [_view(q, members) for q, members in await list_queues(db_session, request.user.tenant_id)]

    @post("/", status_code=201)
    async def create(self, request: UserRequest, data: dict[str, Any], db_session: AsyncSession) -> QueueView:
        """A bad field is a 422 naming it (``business_hours.weekly.sat[0].opens``), a taken name a 409."""
        async with db_session.begin():
            queue = await save_queue(db_session, request.user.tenant_id, data)
            return _view(queue, [uuid.UUID(str(m)) for m in data.get("members", [])])

    @put("/{queue_id:uuid}")
    async def replace(
        self, request: UserRequest, queue_id: uuid.UUID, data: dict[str, Any], db_session: AsyncSession
    ) -> QueueView:
        async with db_session.begin():
            await get_queue(db_session, request.user.tenant_id, queue_id)
            queue = await save_queue(db_session, request.user.tenant_id, data, queue_id)
            return _view(queue, [uuid.UUID(str(m)) for m in data.get("members", [])])


class PresenceIn(msgspec.Struct, forbid_unknown_fields=True):
    presence: Literal["online", "away", "offline"]


class PresenceView(msgspec.Struct):
    presence: str
    assigned: list[str]
    """Tickets that were waiting and are now the agent's (going online frees the queue)."""


class PresenceController(InboxController):
    path = "/api/v1/me/presence"

    @put("/")
    async def set_presence(self, request: UserRequest, data: PresenceIn, services: Services) -> PresenceView:
        """Only online agents are given tickets; going online hands them what waits in their queues."""
        assigned = await do_set_presence(services, request.user, data.presence)
        return PresenceView(data.presence, [ticket.id for ticket in assigned])

    @get("/")
    async def get_presence(self, request: UserRequest, db_session: AsyncSession) -> PresenceView:
        return PresenceView(await presence_of(db_session, request.user.id), [])


class TeamQueueView(msgspec.Struct):
    id: str
    name: str
    color: str


class TeamAgentView(msgspec.Struct):
    id: str
    name: str
    role: str
    presence: str


class TeamController(InboxController):
    """Who and where a ticket can be transferred to, for anyone working the inbox."""

    path = "/api/v1/team"

    @get("/queues")
    async def queues(self, request: UserRequest, db_session: AsyncSession) -> list[TeamQueueView]:
        return [
            TeamQueueView(str(q.id), q.name, q.color)
            for q, _ in await list_queues(db_session, request.user.tenant_id)
        ]

    @get("/agents")
    async def agents(self, request: UserRequest, db_session: AsyncSession) -> list[TeamAgentView]:
        people = await list_users(db_session, request.user.tenant_id, (Role.AGENT, Role.ADMIN))
        return [TeamAgentView(str(u.id), u.name, u.role, u.presence) for u in people]


class QueueLoadView(msgspec.Struct):
    id: str
    name: str
    color: str
    pending: int
    open: int
    longest_wait_seconds: float | None
    online_members: int
    breached: int


class SupervisorController(Controller):
    path = "/api/v1/supervisor"
    guards = [supervisors_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/queues")
    async def queues(self, request: UserRequest, db_session: AsyncSession) -> list[QueueLoadView]:
        """Every queue with its waiting and open tickets, the longest wait and who is online."""
        now = datetime.datetime.now(datetime.UTC)
        return [
            QueueLoadView(
                str(load.queue.id),
                load.queue.name,
                load.queue.color,
                load.pending,
                load.open,
                round(load.longest_wait_seconds, 1) if load.longest_wait_seconds is not None else None,
                load.online_members,
                load.breached,
            )
            for load in await queue_loads(db_session, request.user.tenant_id, now)
        ]

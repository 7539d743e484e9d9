"""The tenant's people for its admins: who they are, and whether they may sign in."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Request, get, patch
from litestar.datastructures import State
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from core.accounts import Role, User, list_users, set_active
from core.errors import InvalidInputError
from web.auth import AdminController, AuthUser, tell_sessions_ended

AdminRequest = Request[AuthUser, Token, State]


class UserView(msgspec.Struct):
    id: str
    email: str
    name: str
    role: str
    active: bool


class UserChange(msgspec.Struct, forbid_unknown_fields=True):
    active: bool
    """False: the person cannot log in, and their open sessions and sockets end at once."""


def _view(user: User) -> UserView:
    return UserView(str(user.id), user.email, user.name, user.role, user.active)


class UserAdminController(AdminController):
    path = "/api/v1/admin/users"

    @get("/")
    async def list_people(self, request: AdminRequest, db_session: AsyncSession) -> list[UserView]:
        return [
            _view(u) for u in await list_users(db_session, request.user.tenant_id, [r.value for r in Role])
        ]

    @patch("/{user_id:uuid}")
    async def change(
        self, request: AdminRequest, user_id: uuid.UUID, data: UserChange, services: Services
    ) -> UserView:
        """Deactivate (or activate again) one of the tenant's people; an admin cannot lock themselves out."""
        if user_id == request.user.id and not data.active:
            raise InvalidInputError("active", "you cannot deactivate yourself")
        async with services.database.sessionmaker.begin() as session:
            user = await set_active(session, request.user.tenant_id, user_id, data.active)
        if not user.active:
            await tell_sessions_ended(services, user.id)
        return _view(user)

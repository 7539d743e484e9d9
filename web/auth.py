"""Login with e-mail and password; a Bearer token (JWT) for the API, the inbox and its WebSocket."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from core.accounts import Actor, Role, User, authenticate, get_user
from web.second_step import SecondStepOut, second_step_for

TOKEN_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class AuthUser(Actor):
    """The person a request's token names: an ``Actor`` for the actions, with their e-mail."""

    email: str


def _auth_user(user: User) -> AuthUser:
    return AuthUser(id=user.id, tenant_id=user.tenant_id, email=user.email, name=user.name, role=user.role)


async def user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthUser | None:
    services: Services = connection.app.state.services
    async with services.database.sessionmaker() as session:
        user = await get_user(session, uuid.UUID(token.sub))
    return _auth_user(user) if user else None


def build_jwt_auth(secret: str) -> JWTAuth[AuthUser, Token]:
    return JWTAuth[AuthUser, Token](
        retrieve_user_handler=user_from_token,
        token_secret=secret,
        default_token_expiration=TOKEN_LIFETIME,
        exclude=["^/schema"],
        # OPTIONS too needs the token: the roles' guards read the user (no CORS preflight reaches these).
        exclude_http_methods=["HEAD"],
    )


async def user_from_raw_token(services: Services, secret: str, raw: str) -> AuthUser:
    """For the WebSocket, where browsers cannot send an Authorization header."""
    try:
        token = Token.decode(raw, secret, "HS256")
    except Exception as exc:
        raise NotAuthorizedException("invalid token") from exc
    async with services.database.sessionmaker() as session:
        user = await get_user(session, uuid.UUID(token.sub))
    if user is None:
        raise NotAuthorizedException("unknown user")
    return _auth_user(user)


def inbox_roles_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: tickets are for agents, supervisors and admins."""
    if connection.user.role not in {Role.ADMIN, Role.SUPERVISOR, Role.AGENT}:
        raise PermissionDeniedException("only agents, supervisors and admins work on tickets")


def supervisors_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the view of every queue is for supervisors and admins."""
    if connection.user.role not in {Role.ADMIN, Role.SUPERVISOR}:
        raise PermissionDeniedException("only supervisors and admins see every queue")


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the tenant's settings (escalation policy, LLM provider, usage) are for its admins."""
    if connection.user.role != Role.ADMIN:
        raise PermissionDeniedException("only admins change the tenant's settings")


def eval_runs_admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: the tenant's eval runs (its settings, suites and how the bot scored) are for its admins."""
    if connection.user.role != Role.ADMIN:
        raise PermissionDeniedException("only admins see the tenant's eval runs")


class InboxController(Controller):
    """A controller whose routes are for the people who work the inbox (``inbox_roles_only``)."""

    guards = [inbox_roles_only]  # noqa: RUF012 - Litestar reads this class attribute


class AdminController(Controller):
    """A controller whose routes are for the tenant's admins (``admin_only``)."""

    guards = [admin_only]  # noqa: RUF012 - Litestar reads this class attribute


class LoginIn(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LoginOut(msgspec.Struct):
    token: str
    user: dict[str, str]


class AuthController(Controller):
    path = "/api/v1/auth"

    @post("/login", exclude_from_auth=True, status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], data: LoginIn, db_session: AsyncSession
    ) -> LoginOut | SecondStepOut:
        user = await authenticate(db_session, data.email, data.password)
        if user is None:
            raise NotAuthorizedException("wrong e-mail or password")
        # Two-factor authentication (web.two_factor): no token yet, a ticket for the code's step.
        second_step = await second_step_for(db_session, request.app.state.secret_key, user)
        if second_step is not None:
            return second_step
        return await issue_login(request, db_session, user)


async def issue_login(request: Request[Any, Any, Any], db_session: AsyncSession, user: User) -> LoginOut:
    """What a finished login answers: the access token and who it is for. Also the end of the second
    step (``web.two_factor``), so both give the same."""
    jwt_auth: JWTAuth[AuthUser, Token] = request.app.state.jwt_auth
    token = jwt_auth.create_token(identifier=str(user.id), token_extras={"tenant_id": str(user.tenant_id)})
    return LoginOut(
        token=token, user={"id": str(user.id), "email": user.email, "name": user.name, "role": user.role}
    )

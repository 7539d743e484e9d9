"""Login with e-mail and password: a short-lived Bearer token (JWT) for the API, the inbox and its
WebSocket, and a refresh token for the next ones; logout, a new password and deactivation end them.

Failed logins are counted per account and per client address (``web.rate_limits``); unknown e-mails
are counted and checked like known ones, so neither the answer nor its time says which exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from conversations.services import Services
from core.accounts import (
    Actor,
    Role,
    User,
    authenticate,
    check_new_password,
    end_sessions,
    get_user,
    login_key,
    set_password,
)
from core.errors import InvalidInputError
from core.passwords import hash_password
from core.realtime import sessions_stream
from core.sessions import renew_session, start_session
from web.rate_limits import Allowance, RateLimits
from web.second_step import SecondStepOut, second_step_for

ACCESS_LIFETIME = timedelta(minutes=15)
"""An access token's life; the pages renew it with their refresh token (``core.sessions``)."""
VERSION_CLAIM = "ver"
"""The person's token version when the access token was issued (``User.token_version``)."""

FAILED_LOGINS_PER_ACCOUNT = Allowance(
    "login-account", "5/5 minutes", "too many failed logins for this account"
)
FAILED_LOGINS_PER_CLIENT = Allowance(
    "login-client", "20/5 minutes", "too many failed logins from this address"
)


@dataclass(frozen=True)
class AuthUser(Actor):
    """The person a request's token names: an ``Actor`` for the actions, with their e-mail."""

    email: str


def auth_user(user: User) -> AuthUser:
    return AuthUser(id=user.id, tenant_id=user.tenant_id, email=user.email, name=user.name, role=user.role)


def token_is_current(token: Token, user: User | None) -> bool:
    """Whether the token's person is still active and nothing ended their sessions since it was issued."""
    return user is not None and user.active and token.extras.get(VERSION_CLAIM) == user.token_version


async def user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthUser | None:
    services: Services = connection.app.state.services
    async with services.database.sessionmaker() as session:
        user = await get_user(session, uuid.UUID(token.sub))
    return auth_user(user) if user and token_is_current(token, user) else None


def build_jwt_auth(secret: str) -> JWTAuth[AuthUser, Token]:
    return JWTAuth[AuthUser, Token](
        retrieve_user_handler=user_from_token,
        token_secret=secret,
        default_token_expiration=ACCESS_LIFETIME,
        exclude=["^/schema"],
        # OPTIONS too needs the token: the roles' guards read the user (no CORS preflight reaches these).
        exclude_http_methods=["HEAD"],
    )


def access_token(jwt_auth: JWTAuth[AuthUser, Token], user: User) -> str:
    """A signed access token for ``user`` at their current token version."""
    return jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=ACCESS_LIFETIME,
        token_extras={"tenant_id": str(user.tenant_id), VERSION_CLAIM: user.token_version},
    )


async def tell_sessions_ended(services: Services, user_id: uuid.UUID) -> None:
    """After the commit that ended someone's sessions: their open sockets close (``web.socket_sessions``)."""
    await services.publisher.publish(sessions_stream(user_id), {"type": "sessions_ended"})


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


class RefreshIn(msgspec.Struct):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PasswordIn(msgspec.Struct):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SessionOut(msgspec.Struct):
    token: str
    """The access token (a JWT), for ``Authorization: Bearer``; it lives ``expires_in`` seconds."""
    refresh_token: str
    """For ``POST /api/v1/auth/refresh``, once: each use returns a new one."""
    expires_in: int
    user: dict[str, str]


class FailedLogins:
    """The failed-login allowances of one attempt: its account (known or not) and its client address."""

    def __init__(self, request: Request[Any, Any, Any], email: str) -> None:
        self._limits: RateLimits = request.app.state.rate_limits
        self._account = login_key(email)
        self._client = request.client.host if request.client else "unknown"

    async def check(self) -> None:
        """Refuse (429 with Retry-After) before any password is checked, if either is used up."""
        await self._limits.check(FAILED_LOGINS_PER_CLIENT, self._client)
        await self._limits.check(FAILED_LOGINS_PER_ACCOUNT, self._account)

    async def failed(self) -> None:
        await self._limits.count(FAILED_LOGINS_PER_CLIENT, self._client)
        await self._limits.count(FAILED_LOGINS_PER_ACCOUNT, self._account)

    async def succeeded(self) -> None:
        await self._limits.forget(FAILED_LOGINS_PER_ACCOUNT, self._account)


def _session_out(request: Request[Any, Any, Any], user: User, refresh_token: str) -> SessionOut:
    return SessionOut(
        token=access_token(request.app.state.jwt_auth, user),
        refresh_token=refresh_token,
        expires_in=int(ACCESS_LIFETIME.total_seconds()),
        user={"id": str(user.id), "email": user.email, "name": user.name, "role": user.role},
    )


async def issue_login(request: Request[Any, Any, Any], services: Services, user: User) -> SessionOut:
    """What a finished login answers: the tokens and who they are for. Also the end of the second step
    (``web.two_factor``), so both give the same."""
    if not user.active:
        raise PermissionDeniedException("this account was deactivated by an admin")
    async with services.database.sessionmaker.begin() as session:
        refresh_token = await start_session(session, user)
    return _session_out(request, user, refresh_token)


class AuthController(Controller):
    path = "/api/v1/auth"

    @post("/login", exclude_from_auth=True, status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], data: LoginIn, services: Services
    ) -> SessionOut | SecondStepOut:
        """An access token and a refresh token for the right e-mail and password, or, for a person with
        two-factor authentication, a ticket for the code's step (``web.two_factor``). Too many failures
        for the account or from the address are refused for a while (429 with Retry-After)."""
        failures = FailedLogins(request, data.email)
        await failures.check()
        user = await authenticate(services.database, data.email, data.password)
        if user is None:
            await failures.failed()
            raise NotAuthorizedException("wrong e-mail or password")
        await failures.succeeded()
        if not user.active:
            raise PermissionDeniedException("this account was deactivated by an admin")
        async with services.database.reads() as session:
            second_step = await second_step_for(session, request.app.state.secret_key, user)
        return second_step or await issue_login(request, services, user)

    @post("/refresh", exclude_from_auth=True, status_code=200)
    async def refresh(
        self, request: Request[Any, Any, Any], data: RefreshIn, services: Services
    ) -> SessionOut:
        """A new access token and a new refresh token for a refresh token, which is then used up."""
        async with services.database.sessionmaker.begin() as session:
            renewed = await renew_session(session, data.refresh_token)
        if renewed is None:
            raise NotAuthorizedException("the session has ended: log in again")
        return _session_out(request, renewed.user, renewed.refresh_token)

    @post("/logout", status_code=204)
    async def logout(self, request: Request[AuthUser, Token, State], services: Services) -> None:
        """End the person's sessions: their access and refresh tokens stop working, their sockets close."""
        me = request.user
        async with services.database.sessionmaker.begin() as session:
            await end_sessions(session, me.tenant_id, me.id)
        await tell_sessions_ended(services, me.id)

    @post("/password", status_code=200)
    async def change_password(
        self, request: Request[AuthUser, Token, State], data: PasswordIn, services: Services
    ) -> SessionOut:
        """A new password: every other session ends; this one goes on with the new tokens returned."""
        check_new_password("new_password", data.new_password)
        failures = FailedLogins(request, request.user.email)
        await failures.check()
        user = await authenticate(services.database, request.user.email, data.current_password)
        if user is None:
            await failures.failed()
            raise InvalidInputError("current_password", "is not your password")
        new_hash = await hash_password(data.new_password)
        async with services.database.sessionmaker.begin() as session:
            user.token_version = await set_password(session, user, new_hash)
            refresh_token = await start_session(session, user)
        await tell_sessions_ended(services, user.id)
        return _session_out(request, user, refresh_token)

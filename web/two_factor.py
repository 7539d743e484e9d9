"""Two-factor authentication over HTTP: set up and confirm (signed in, or with an ``enrol`` ticket when the
tenant requires it), turn off, and the login's second step that trades a ticket and a code for the token.

Wrong codes count against the person (five per five minutes, then a 429 with ``Retry-After``), whichever
endpoint they reach; the secret is never logged, and shown only by the set-up that made it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
import segno
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from core.accounts import User, authenticate, get_user
from core.errors import InvalidInputError, UnauthenticatedError
from core.two_factor import (
    WRONG_CODE,
    check_code,
    confirm_setup,
    disable,
    is_enabled,
    recovery_codes_left,
    start_setup,
    tenant_requires,
)
from web.auth import AuthUser, SessionOut, issue_login
from web.rate_limits import Allowance, RateLimits
from web.second_step import read_ticket

AuthRequest = Request[AuthUser, Token, State]
WRONG_CODES = Allowance("two-factor-codes", "5/5 minutes", "too many wrong codes for this account")
Code = Annotated[str, msgspec.Meta(min_length=6, max_length=20)]
Result = TypeVar("Result")


class SetupOut(msgspec.Struct):
    """For the authenticator app: scan ``qr_svg`` (the ``otpauth_uri``) or type ``secret``."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class StatusOut(msgspec.Struct):
    enabled: bool
    required: bool
    """The tenant's admin requires it: it cannot be turned off."""
    recovery_codes_left: int


class TicketIn(msgspec.Struct):
    ticket: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class CodeIn(msgspec.Struct):
    code: Code


class TicketCodeIn(msgspec.Struct):
    ticket: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    code: Code


class DisableIn(msgspec.Struct):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    code: Code


class ConfirmOut(msgspec.Struct):
    """The recovery codes, shown this once; after an enrolment at login, the login's answer too."""

    recovery_codes: list[str]
    login: SessionOut | None = None


def _setup_out(secret: str, uri: str) -> SetupOut:
    return SetupOut(secret, uri, segno.make_qr(uri).svg_inline(scale=5, border=2, light="#fff"))


async def _counting_wrong_codes(
    request: Request[Any, Any, Any], user_id: uuid.UUID, attempt: Callable[[], Awaitable[Result]]
) -> Result:
    """Run ``attempt`` unless the person has used up their wrong codes; a wrong code (or password, when
    turning 2FA off) counts. The counts are kept outside the attempt's transaction (they may be in Redis)."""
    limits: RateLimits = request.app.state.rate_limits
    await limits.check(WRONG_CODES, str(user_id))
    try:
        return await attempt()
    except InvalidInputError as exc:
        if exc.field in {"code", "password"}:
            await limits.count(WRONG_CODES, str(user_id))
        raise


async def _user(db_session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await get_user(db_session, user_id)
    if user is None:
        raise UnauthenticatedError("unknown user; log in again")
    return user


class TwoFactorController(Controller):
    path = "/api/v1/auth/2fa"

    @get("/")
    async def status(self, request: AuthRequest, db_session: AsyncSession) -> StatusOut:
        user = await _user(db_session, request.user.id)
        return StatusOut(
            enabled=await is_enabled(db_session, user),
            required=await tenant_requires(db_session, user.tenant_id),
            recovery_codes_left=await recovery_codes_left(db_session, user),
        )

    @post("/setup", status_code=200)
    async def setup(self, request: AuthRequest, db_session: AsyncSession) -> SetupOut:
        """A new pending secret for the signed-in person; login asks for codes only once it is confirmed."""
        async with db_session.begin():
            setup = await start_setup(
                db_session, await _user(db_session, request.user.id), request.app.state.secret_key
            )
        return _setup_out(setup.secret, setup.uri)

    @post("/confirm", status_code=200)
    async def confirm(self, request: AuthRequest, data: CodeIn, db_session: AsyncSession) -> ConfirmOut:
        """Turn 2FA on with the app's current code; answers the recovery codes, this once."""

        async def attempt() -> list[str]:
            async with db_session.begin():
                user = await _user(db_session, request.user.id)
                return await confirm_setup(db_session, user, data.code, request.app.state.secret_key)

        return ConfirmOut(await _counting_wrong_codes(request, request.user.id, attempt))

    @post("/disable", status_code=200)
    async def turn_off(
        self, request: AuthRequest, data: DisableIn, db_session: AsyncSession, services: Services
    ) -> StatusOut:
        """With the password and a code (the app's or a recovery code), so a left-open session cannot."""

        async def attempt() -> None:
            # The password is checked first, holding no transaction (Argon2 takes a while).
            if await authenticate(services.database, request.user.email, data.password) is None:
                raise InvalidInputError("password", "wrong password")
            async with db_session.begin():
                user = await _user(db_session, request.user.id)
                if not await check_code(db_session, user, data.code, request.app.state.secret_key):
                    raise InvalidInputError("code", WRONG_CODE)
                await disable(db_session, user)

        await _counting_wrong_codes(request, request.user.id, attempt)
        return StatusOut(enabled=False, required=False, recovery_codes_left=0)

    @post("/verify", exclude_from_auth=True, status_code=200)
    async def verify(
        self,
        request: Request[Any, Any, Any],
        data: TicketCodeIn,
        db_session: AsyncSession,
        services: Services,
    ) -> SessionOut:
        """The login's second step: the ticket and the app's code (or a recovery code) give the token."""
        ticket = read_ticket(request.app.state.secret_key, data.ticket, "verify")

        async def attempt() -> User:
            async with db_session.begin():
                user = await _user(db_session, ticket.user_id)
                if not await check_code(db_session, user, data.code, request.app.state.secret_key):
                    raise InvalidInputError("code", WRONG_CODE)
                return user

        user = await _counting_wrong_codes(request, ticket.user_id, attempt)
        await request.app.state.rate_limits.forget(WRONG_CODES, str(user.id))
        return await issue_login(request, services, user)

    @post("/enrol/setup", exclude_from_auth=True, status_code=200)
    async def enrol_setup(
        self, request: Request[Any, Any, Any], data: TicketIn, db_session: AsyncSession
    ) -> SetupOut:
        """As ``setup``, for a person whose tenant requires 2FA, with the ``enrol`` ticket of their login."""
        async with db_session.begin():
            ticket = read_ticket(request.app.state.secret_key, data.ticket, "enrol")
            user = await _user(db_session, ticket.user_id)
            setup = await start_setup(db_session, user, request.app.state.secret_key)
        return _setup_out(setup.secret, setup.uri)

    @post("/enrol/confirm", exclude_from_auth=True, status_code=200)
    async def enrol_confirm(
        self,
        request: Request[Any, Any, Any],
        data: TicketCodeIn,
        db_session: AsyncSession,
        services: Services,
    ) -> ConfirmOut:
        """As ``confirm``, with the ``enrol`` ticket; also answers what the login would have (the token)."""
        ticket = read_ticket(request.app.state.secret_key, data.ticket, "enrol")

        async def attempt() -> tuple[User, list[str]]:
            async with db_session.begin():
                user = await _user(db_session, ticket.user_id)
                return user, await confirm_setup(db_session, user, data.code, request.app.state.secret_key)

        user, codes = await _counting_wrong_codes(request, ticket.user_id, attempt)
        return ConfirmOut(codes, await issue_login(request, services, user))

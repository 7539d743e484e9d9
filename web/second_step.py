"""The second step of a login with two-factor authentication: instead of a token, a signed ticket good for
five minutes, which ``web.two_factor`` trades for the token once a code is given.

A ``verify`` ticket is for a person with 2FA on; an ``enrol`` ticket, for a person whose tenant requires
2FA and who has none yet, allows only setting it up. Tickets are signed with a key of their own (derived
from the secret key) and an audience, so a ticket is never taken for an access token, nor the reverse.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import User
from core.errors import UnauthenticatedError
from core.two_factor import is_enabled, tenant_requires

TICKET_LIFETIME = timedelta(minutes=5)
AUDIENCE = "atende-second-step"
Purpose = Literal["verify", "enrol"]


class SecondStepOut(msgspec.Struct):
    """The login's answer when a code is still needed: ``second_step`` says which (``verify``: type the
    app's code; ``enrol``: set 2FA up first), and ``ticket`` goes with it."""

    second_step: Purpose
    ticket: str


@dataclass(frozen=True)
class Ticket:
    user_id: uuid.UUID
    purpose: Purpose


def _ticket_key(secret_key: str) -> str:
    return hashlib.sha256(b"atende-second-step:" + secret_key.encode()).hexdigest()


def issue_ticket(secret_key: str, user: User, purpose: Purpose) -> str:
    token = Token(
        exp=datetime.now(UTC) + TICKET_LIFETIME,
        sub=str(user.id),
        aud=AUDIENCE,
        extras={"purpose": purpose, "tenant_id": str(user.tenant_id)},
    )
    return token.encode(_ticket_key(secret_key), "HS256")


def read_ticket(secret_key: str, raw: str, purpose: Purpose) -> Ticket:
    """The ticket's person, if it is genuine, unexpired and for ``purpose``; else a 401."""
    try:
        token = Token.decode(raw, _ticket_key(secret_key), "HS256", audience=AUDIENCE)
    except Exception as exc:
        raise UnauthenticatedError("the login ticket is invalid or has expired; log in again") from exc
    if token.extras.get("purpose") != purpose:
        raise UnauthenticatedError(f"this login ticket is not for {purpose}", field="ticket")
    return Ticket(uuid.UUID(token.sub), purpose)


async def second_step_for(session: AsyncSession, secret_key: str, user: User) -> SecondStepOut | None:
    """What a person whose password was right still has to do before getting a token, if anything."""
    if await is_enabled(session, user):
        return SecondStepOut("verify", issue_ticket(secret_key, user, "verify"))
    if await tenant_requires(session, user.tenant_id):
        return SecondStepOut("enrol", issue_ticket(secret_key, user, "enrol"))
    return None

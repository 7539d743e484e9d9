"""Refresh tokens: how a signed-in person gets new short-lived access tokens without logging in again.

A refresh token is an opaque random string; only its SHA-256 is stored. Each use rotates it: the token
is marked used and a new one of the same family (one login) is issued. A used token presented again
means it was copied: the whole family is revoked, and whoever holds either copy logs in again. A
token carries the person's token version; raising it (``core.accounts.end_sessions``) voids them all.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import DateTime, ForeignKey, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.accounts import User
from core.tenancy import TenantOwned

REFRESH_LIFETIME = datetime.timedelta(days=14)
"""A session unused this long ends; each use starts the period again."""


class RefreshToken(TenantOwned):
    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """One login's chain of rotated tokens."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_version: Mapped[int]
    """The person's token version when issued: a token of an older version is void."""
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Renewed:
    user: User
    refresh_token: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _issue(session: AsyncSession, user: User, family_id: uuid.UUID) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            family_id=family_id,
            token_hash=_digest(raw),
            token_version=user.token_version,
            expires_at=_now() + REFRESH_LIFETIME,
        )
    )
    return raw


async def _forget_expired(session: AsyncSession, user: User) -> None:
    await session.execute(
        delete(RefreshToken).where(
            RefreshToken.tenant_id == user.tenant_id,
            RefreshToken.user_id == user.id,
            RefreshToken.expires_at < func.now(),
        )
    )


async def start_session(session: AsyncSession, user: User) -> str:
    """A refresh token for a new login of ``user`` (at their current token version)."""
    await _forget_expired(session, user)
    raw = _issue(session, user, uuid.uuid4())
    await session.flush()
    return raw


async def renew_session(session: AsyncSession, raw: str) -> Renewed | None:
    """Rotate the refresh token ``raw``: the person and their new refresh token, else None (unknown,
    expired, revoked, of an older token version, of a deactivated person, or already used, which also
    revokes its family: commit the transaction even when this returns None)."""
    token = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)).with_for_update()
    )
    if token is None or token.revoked_at is not None or token.expires_at <= _now():
        return None
    if token.used_at is not None:
        await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.tenant_id == token.tenant_id,
                RefreshToken.family_id == token.family_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        )
        return None
    user = await session.scalar(
        select(User).where(User.tenant_id == token.tenant_id, User.id == token.user_id)
    )
    if user is None or not user.active or user.token_version != token.token_version:
        return None
    token.used_at = _now()
    await _forget_expired(session, user)
    raw = _issue(session, user, token.family_id)
    await session.flush()
    return Renewed(user, raw)

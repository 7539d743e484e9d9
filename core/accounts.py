"""Tenants and the people who work in them (admins, agents, knowledge managers)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from advanced_alchemy.base import UUIDv7AuditBase
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.tenancy import TenantOwned

_password_hasher = PasswordHasher()
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    """Sees and reassigns every queue's tickets; does not configure."""
    AGENT = "agent"
    """Sees the tickets of the queues they belong to (and of queues nobody belongs to)."""
    KNOWLEDGE_MANAGER = "knowledge_manager"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Actor:
    """A signed-in person acting in their tenant: who an action checks, records and names."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    role: str

    @property
    def supervises(self) -> bool:
        """Admins and supervisors act on any ticket of the tenant, not only their own."""
        return self.role in {Role.ADMIN, Role.SUPERVISOR}


class Tenant(UUIDv7AuditBase):
    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ticket_seq: Mapped[int] = mapped_column(default=0)
    reopen_window_hours: Mapped[int] = mapped_column(default=24)
    """A hand-off this soon after the conversation's last ticket closed reopens it (same protocol)."""
    require_two_factor: Mapped[bool] = mapped_column(default=False)
    """Set by an admin: everyone must sign in with a TOTP code too (core.two_factor), enrolling first."""


class User(TenantOwned):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)

    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    """online, away or offline (see Presence): only online agents are given new tickets."""


async def create_tenant(session: AsyncSession, slug: str, name: str | None = None) -> Tenant:
    if not _SLUG.match(slug):
        raise InvalidInputError("slug", "use 2-63 lowercase letters, digits or hyphens")
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise ConflictError(f"tenant {slug!r} already exists")
    tenant = Tenant(slug=slug, name=name or slug)
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFoundError(f"tenant {slug!r} not found")
    return tenant


async def next_ticket_number(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Per-tenant counter for human-readable ticket protocols; the row lock keeps it gap-free."""
    number = await session.scalar(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(ticket_seq=Tenant.ticket_seq + 1)
        .returning(Tenant.ticket_seq)
    )
    assert number is not None
    return int(number)


async def create_user(
    session: AsyncSession, tenant: Tenant, email: str, password: str, role: str, name: str | None = None
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInputError("email", "not an e-mail address")
    if len(password) < 8:
        raise InvalidInputError("password", "must have at least 8 characters")
    if role not in {r.value for r in Role}:
        raise InvalidInputError("role", f"must be one of {', '.join(r.value for r in Role)}")
    if await session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError(f"a user with e-mail {email} already exists")
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=name or email.split("@")[0],
        password_hash=_password_hasher.hash(password),
        role=role,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return None
    try:
        _password_hasher.verify(user.password_hash, password)
    except VerificationError:
        return None
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def user_names(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of these people of the tenant, by id."""
    rows = await session.execute(
        select(User.id, User.name).where(User.tenant_id == tenant_id, User.id.in_(set(ids)))
    )
    return dict(rows.tuples().all())


async def list_users(session: AsyncSession, tenant_id: uuid.UUID, roles: Iterable[str]) -> list[User]:
    """The tenant's people with one of these roles, by name."""
    return list(
        await session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.role.in_(list(roles))).order_by(User.name)
        )
    )


async def presence_of(session: AsyncSession, user_id: uuid.UUID) -> str:
    user = await session.get_one(User, user_id)
    return user.presence


async def set_presence(session: AsyncSession, user_id: uuid.UUID, presence: str) -> None:
    user = await session.get_one(User, user_id)
    user.presence = presence
    await session.flush()


async def tenant_of(session: AsyncSession, actor: Actor) -> Tenant:
    """The tenant the person works in."""
    return await session.get_one(Tenant, actor.tenant_id)

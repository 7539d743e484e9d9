"""Tenants and the people who work in them (admins, agents, knowledge managers)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import String, UniqueConstraint, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Database
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.passwords import hash_password, needs_rehash, verify_nobody, verify_password
from core.tenancy import TenantOwned

MIN_PASSWORD_LENGTH = 8
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
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    """An admin may deactivate a person: they cannot log in, and their sessions end."""
    token_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Carried in every access token and refresh token; raised to end all of the person's sessions
    (logout, a new password, deactivation)."""


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
    check_new_password("password", password)
    if role not in {r.value for r in Role}:
        raise InvalidInputError("role", f"must be one of {', '.join(r.value for r in Role)}")
    if await session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError(f"a user with e-mail {email} already exists")
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=name or email.split("@")[0],
        password_hash=await hash_password(password),
        role=role,
    )
    session.add(user)
    await session.flush()
    return user


def check_new_password(field: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(field, f"must have at least {MIN_PASSWORD_LENGTH} characters")


def login_key(email: str) -> str:
    """The e-mail as accounts store it: what a login names, whether or not such an account exists."""
    return email.strip().lower()


async def authenticate(database: Database, email: str, password: str) -> User | None:
    """The user with this e-mail and password, else None (active or not: the caller decides).

    An unknown e-mail is checked against a stand-in hash, so it takes as long to refuse as a wrong
    password. No database connection is held while the hash is checked.
    """
    async with database.reads() as session:
        user = await session.scalar(select(User).where(User.email == login_key(email)))
    if user is None:
        await verify_nobody(password)
        return None
    if not await verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        stronger = await hash_password(password)
        async with database.sessionmaker.begin() as session:
            await session.execute(
                update(User)
                .where(User.tenant_id == user.tenant_id, User.id == user.id)
                .values(password_hash=stronger)
            )
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


async def end_sessions(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """Raise the person's token version: every access and refresh token issued before stops working.
    Returns the new version (tell the open sockets after the commit: ``core.realtime.sessions_stream``)."""
    version = await session.scalar(
        update(User)
        .where(User.tenant_id == tenant_id, User.id == user_id)
        .values(token_version=User.token_version + 1)
        .returning(User.token_version)
    )
    if version is None:
        raise NotFoundError("user not found")
    return int(version)


async def set_password(session: AsyncSession, user: User, password_hash: str) -> int:
    """Store a new password hash (made with ``core.passwords.hash_password`` before the transaction)
    and end every session signed in with the old one. Returns the new token version."""
    await session.execute(
        update(User)
        .where(User.tenant_id == user.tenant_id, User.id == user.id)
        .values(password_hash=password_hash)
    )
    return await end_sessions(session, user.tenant_id, user.id)


async def set_active(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, active: bool) -> User:
    """Activate or deactivate one of the tenant's people. Deactivating ends their sessions and takes
    them offline, so no new ticket is routed to them."""
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant_id, User.id == user_id).with_for_update()
    )
    if user is None:
        raise NotFoundError("user not found")
    if user.active and not active:
        user.presence = Presence.OFFLINE
        user.token_version += 1
    user.active = active
    await session.flush()
    return user


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

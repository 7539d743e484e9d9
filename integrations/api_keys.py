"""API keys: how another system calls a tenant's public API.

A key (``atd_`` and 43 random characters) is shown once, when it is made; only its SHA-256 is kept,
with its first characters so an admin can tell keys apart. A revoked key stops working at once.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.accounts import User
from core.errors import InvalidInputError, NotFoundError
from core.tenancy import TenantOwned, get_owned

KEY_PREFIX = "atd_"
VISIBLE_CHARS = 12
"""How much of a key stays readable: ``atd_`` and 8 characters."""
MAX_NAME_LENGTH = 100


class ApiKey(TenantOwned):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, name: str, created_by_id: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is never stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise InvalidInputError("name", "give the key a name (what will use it)")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError("name", f"at most {MAX_NAME_LENGTH} characters")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=plain[:VISIBLE_CHARS],
        key_hash=hash_key(plain),
        created_by_id=created_by_id,
    )
    session.add(key)
    await session.flush()
    return key, plain


async def list_api_keys(session: AsyncSession, tenant_id: uuid.UUID) -> list[tuple[ApiKey, User | None]]:
    """The tenant's keys, newest first, with who made each."""
    rows = await session.execute(
        select(ApiKey, User)
        .outerjoin(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.tenant_id == tenant_id)
        .order_by(ApiKey.created_at.desc())
    )
    return [(key, user) for key, user in rows.tuples()]


async def revoke_api_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await get_owned(session, ApiKey, tenant_id, key_id, NotFoundError(f"no API key {key_id}"))
    if key.revoked_at is None:
        key.revoked_at = datetime.datetime.now(datetime.UTC)
        await session.flush()
    return key


async def use_api_key(session: AsyncSession, plain: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The (key id, tenant id) of a live key, noting when it was used; None for unknown or revoked keys."""
    if not plain.startswith(KEY_PREFIX) or len(plain) > 200:
        return None
    row = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == hash_key(plain), ApiKey.revoked_at.is_(None))
        .values(last_used_at=func.now())
        .returning(ApiKey.id, ApiKey.tenant_id)
    )
    found = row.first()
    return (found[0], found[1]) if found else None

"""What every table of a tenant's data shares: the tenant its rows belong to, and how one is looked up."""

from __future__ import annotations

import uuid
from typing import TypeVar

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.errors import NotFoundError


class TenantOwned(UUIDv7AuditBase):
    """A table whose rows belong to one tenant and are deleted with it."""

    __abstract__ = True

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, sort_order=-1
    )
    """Right after ``id``, where each table declared it before it came from here."""


Owned = TypeVar("Owned", bound=TenantOwned)


async def get_owned(
    session: AsyncSession,
    model: type[Owned],
    tenant_id: uuid.UUID,
    row_id: uuid.UUID,
    missing: NotFoundError,
    *,
    lock: bool = False,
) -> Owned:
    """The tenant's row of that id, else ``missing`` is raised: another tenant's row is as unknown as
    one that does not exist. ``lock`` holds the row until the transaction ends."""
    query = select(model).where(model.tenant_id == tenant_id, model.id == row_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise missing
    return row

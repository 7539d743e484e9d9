"""Tags: made by admins, put on tickets by the team, used to filter the inbox."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import unless_taken
from core.errors import InvalidInputError
from handoff.models import Tag, TicketTag

COLOR = "#0123456789abcdefABCDEF"


async def save_tag(session: AsyncSession, tenant_id: uuid.UUID, name: str, color: str = "#888888") -> Tag:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 50:
        raise InvalidInputError("name", "use 1 to 50 characters")
    if len(color) != 7 or color[0] != "#" or any(c not in COLOR for c in color[1:]):
        raise InvalidInputError("color", "use #rrggbb")
    tag = Tag(tenant_id=tenant_id, name=name, color=color.lower())
    async with unless_taken(session, "name", f"the tag {name!r} already exists"):
        session.add(tag)
    return tag


async def list_tags(session: AsyncSession, tenant_id: uuid.UUID) -> list[Tag]:
    return list(await session.scalars(select(Tag).where(Tag.tenant_id == tenant_id).order_by(Tag.name)))


async def set_ticket_tags(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_id: uuid.UUID, tag_ids: list[uuid.UUID]
) -> list[Tag]:
    """The ticket's tags become exactly these (all of the tenant, or nothing changes)."""
    tags = list(await session.scalars(select(Tag).where(Tag.tenant_id == tenant_id, Tag.id.in_(tag_ids))))
    missing = [str(t) for t in tag_ids if t not in {tag.id for tag in tags}]
    if missing:
        raise InvalidInputError("tag_ids", f"no tag {missing[0]} in this tenant")
    await session.execute(
        delete(TicketTag).where(TicketTag.tenant_id == tenant_id, TicketTag.ticket_id == ticket_id)
    )
    session.add_all([TicketTag(tenant_id=tenant_id, ticket_id=ticket_id, tag_id=tag.id) for tag in tags])
    await session.flush()
    return sorted(tags, key=lambda tag: tag.name)


async def tags_of(
    session: AsyncSession, tenant_id: uuid.UUID, ticket_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Tag]]:
    rows = await session.execute(
        select(TicketTag.ticket_id, Tag)
        .join(Tag, Tag.id == TicketTag.tag_id)
        .where(TicketTag.tenant_id == tenant_id, TicketTag.ticket_id.in_(ticket_ids))
        .order_by(Tag.name)
    )
    found: dict[uuid.UUID, list[Tag]] = defaultdict(list)
    for ticket_id, tag in rows.tuples():
        found[ticket_id].append(tag)
    return found

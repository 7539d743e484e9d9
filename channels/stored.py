"""The channels tenants set up, read back: by id for a webhook or an admin, by type for a poller, and
with their credentials decrypted for an adapter. ``channels.registry`` writes them."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ChannelAccess
from channels.models import Channel
from core.errors import NotFoundError
from core.secrets import decrypt_secret, mask_secret
from core.tenancy import get_owned


def channel_access(channel: Channel, secret_key: str) -> ChannelAccess:
    credentials = json.loads(decrypt_secret(secret_key, channel.credentials)) if channel.credentials else {}
    return ChannelAccess(channel.id, channel.tenant_id, channel.type, dict(channel.config), credentials)


def masked_credentials(access: ChannelAccess) -> dict[str, str]:
    """What an admin sees of the channel's secrets."""
    return {name: mask_secret(value) for name, value in access.credentials.items()}


async def get_channel(session: AsyncSession, tenant_id: uuid.UUID, channel_id: uuid.UUID) -> Channel:
    """The tenant's channel of that id, whatever its type."""
    missing = NotFoundError(f"no channel {channel_id}", field="channel_id")
    return await get_owned(session, Channel, tenant_id, channel_id, missing)


async def list_channels(session: AsyncSession, tenant_id: uuid.UUID) -> list[Channel]:
    return list(
        await session.scalars(
            select(Channel).where(Channel.tenant_id == tenant_id).order_by(Channel.created_at, Channel.id)
        )
    )


async def channel_of_type(session: AsyncSession, channel_id: uuid.UUID, type_: str) -> Channel | None:
    """Any tenant's channel of that id and type: what a webhook URL or a poller names."""
    return await session.scalar(select(Channel).where(Channel.id == channel_id, Channel.type == type_))


async def channel_for_webhook(session: AsyncSession, channel_id: uuid.UUID, type_: str) -> Channel:
    """The channel a webhook URL names; unknown ids and other types are the same 404."""
    channel = await channel_of_type(session, channel_id, type_)
    if channel is None:
        raise NotFoundError(f"no {type_} channel {channel_id}")
    return channel


async def tenant_channel(
    session: AsyncSession, tenant_id: uuid.UUID, channel_id: uuid.UUID, type_: str
) -> Channel:
    """The tenant's channel of that type; another tenant's channel, or another type, is the same 404."""
    channel = await session.scalar(
        select(Channel).where(Channel.id == channel_id, Channel.tenant_id == tenant_id, Channel.type == type_)
    )
    if channel is None:
        raise NotFoundError(f"no {type_} channel {channel_id}")
    return channel


async def channels_of_type(session: AsyncSession, type_: str) -> list[Channel]:
    """Every tenant's channels of one type: what the app starts (pollers) when it starts."""
    return list(await session.scalars(select(Channel).where(Channel.type == type_).order_by(Channel.id)))

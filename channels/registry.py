"""The channels a tenant configures: checked, stored with their credentials encrypted, read back.

``atende channel add`` and the admin API both go through ``add_channel``; webhooks find their channel
by id with ``channel_for_webhook`` (the id in the URL is what ties a request to a tenant).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ChannelAccess
from channels.models import Channel
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.secrets import decrypt_secret, encrypt_secret, mask_secret

ChannelType = Literal["telegram", "whatsapp-cloud", "whatsapp-neonize"]
CHANNEL_TYPES: tuple[str, ...] = ("telegram", "whatsapp-cloud", "whatsapp-neonize")
SECRET_FIELDS = ("token", "webhook_secret", "app_secret", "verify_token")
REQUIRED: dict[str, tuple[str, ...]] = {
    "telegram": ("token",),
    "whatsapp-cloud": ("token", "app_secret", "verify_token", "phone_number_id"),
    "whatsapp-neonize": (),
}
BOT_TOKEN_PATTERN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{10,200}$")


class ChannelOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A channel as an admin sets it up; which fields a type needs is in REQUIRED."""

    type: ChannelType
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")] = "default"
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    """Telegram: the bot token from @BotFather. WhatsApp Cloud: the Graph API access token."""
    webhook_secret: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,256}$")] | None = None
    """Telegram: sent back in X-Telegram-Bot-Api-Secret-Token on every update (generated if not given)."""
    app_secret: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    """WhatsApp Cloud: the Meta app secret that signs each webhook (X-Hub-Signature-256)."""
    verify_token: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    """WhatsApp Cloud: the token Meta echoes when it verifies the webhook."""
    phone_number_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,30}$")] | None = None
    api_base: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+$")] | None = None
    """Another API server (a local Bot API server, or a fake in tests)."""
    mode: Literal["webhook", "polling"] = "webhook"
    """Telegram: updates pushed to /webhooks/telegram/{id}, or fetched by long polling."""


def check_options(raw: dict[str, Any]) -> ChannelOptions:
    """InvalidInputError naming the field, before anything is stored."""
    try:
        options = msgspec.convert(raw, ChannelOptions)
    except msgspec.ValidationError as exc:
        field, reason = _field_of(str(exc))
        raise InvalidInputError(field, reason) from exc
    for name in REQUIRED[options.type]:
        if not getattr(options, name):
            raise InvalidInputError(name, f"is required for a {options.type} channel")
    if options.type == "telegram" and options.token and not BOT_TOKEN_PATTERN.match(options.token):
        raise InvalidInputError("token", "is not a Telegram bot token (digits, a colon, then the secret)")
    return options


def _field_of(message: str) -> tuple[str, str]:
    """msgspec says "Expected `str`, got `int` - at `$.token`": the field, then the reason."""
    reason, _, where = message.partition(" - at `$.")
    if where:
        return where.rstrip("`").split(".")[0].split("[")[0], reason
    if "Object missing required field" in message:
        return message.split("`")[1], "is required"
    if "Object contains unknown field" in message:
        return message.split("`")[1], "is not a channel setting"
    return "channel", message


def _config(options: ChannelOptions) -> dict[str, Any]:
    """The settings kept in the clear (secrets are encrypted apart)."""
    settings = {
        "api_base": options.api_base,
        "mode": options.mode,
        "phone_number_id": options.phone_number_id,
    }
    return {key: value for key, value in settings.items() if value is not None}


def _secrets(options: ChannelOptions) -> dict[str, str]:
    return {name: getattr(options, name) for name in SECRET_FIELDS if getattr(options, name)}


async def add_channel(
    session: AsyncSession, tenant_id: uuid.UUID, raw: dict[str, Any], secret_key: str
) -> Channel:
    """Store a new channel for the tenant; its secrets are encrypted, a Telegram webhook secret made up."""
    options = check_options(raw)
    secret_values = _secrets(options)
    if options.type == "telegram" and "webhook_secret" not in secret_values:
        secret_values["webhook_secret"] = secrets.token_urlsafe(32)
    config = _config(options)
    channel = Channel(
        tenant_id=tenant_id,
        type=options.type,
        name=options.name,
        config=config,
        credentials=encrypt_secret(secret_key, json.dumps(secret_values)),
    )
    try:
        async with session.begin_nested():
            session.add(channel)
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"name: the tenant already has a {options.type} channel named {options.name!r}", field="name"
        ) from exc
    return channel


async def update_channel(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    changes: dict[str, Any],
    secret_key: str,
) -> Channel:
    """Change a channel's name, settings or secrets (rotating a token): what ``changes`` leaves out,
    or sends empty, is kept. The result is checked as a whole, like a new channel, before it is saved."""
    channel = await session.scalar(
        select(Channel).where(Channel.tenant_id == tenant_id, Channel.id == channel_id)
    )
    if channel is None:
        raise NotFoundError(f"no channel {channel_id}", field="channel_id")
    if changes.get("type", channel.type) != channel.type:
        raise InvalidInputError("type", "cannot change: add a new channel of the other type")
    current = channel_access(channel, secret_key)
    merged: dict[str, Any] = {
        "type": channel.type,
        "name": channel.name,
        **channel.config,
        **current.credentials,
    }
    merged.update({key: value for key, value in changes.items() if value not in (None, "")})
    options = check_options(merged)
    channel.name = options.name
    channel.config = _config(options)
    channel.credentials = encrypt_secret(secret_key, json.dumps(_secrets(options)))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"name: the tenant already has a {channel.type} channel named {options.name!r}", field="name"
        ) from exc
    return channel


def channel_access(channel: Channel, secret_key: str) -> ChannelAccess:
    credentials = json.loads(decrypt_secret(secret_key, channel.credentials)) if channel.credentials else {}
    return ChannelAccess(channel.id, channel.tenant_id, channel.type, dict(channel.config), credentials)


def masked_credentials(access: ChannelAccess) -> dict[str, str]:
    """What an admin sees of the channel's secrets."""
    return {name: mask_secret(value) for name, value in access.credentials.items()}


async def list_channels(session: AsyncSession, tenant_id: uuid.UUID) -> list[Channel]:
    return list(
        await session.scalars(
            select(Channel).where(Channel.tenant_id == tenant_id).order_by(Channel.created_at, Channel.id)
        )
    )


async def channel_for_webhook(session: AsyncSession, channel_id: uuid.UUID, type_: str) -> Channel:
    """The channel a webhook URL names; unknown ids and other types are the same 404."""
    channel = await session.scalar(select(Channel).where(Channel.id == channel_id, Channel.type == type_))
    if channel is None:
        raise NotFoundError(f"no {type_} channel {channel_id}")
    return channel


async def channels_of_type(session: AsyncSession, type_: str) -> list[Channel]:
    """Every tenant's channels of one type: what the app starts (pollers) when it starts."""
    return list(await session.scalars(select(Channel).where(Channel.type == type_).order_by(Channel.id)))

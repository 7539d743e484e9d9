"""The channels a tenant configures: checked against their channel's settings, stored with their
credentials encrypted.

``atende channel add`` and the admin API both go through ``add_channel``; each channel type's settings
are its plugin's (``channels/plugins.py``). Reading them back is ``channels.stored``. Before either
opens its transaction, ``check_server_addresses`` resolves the servers a channel names (its
``api_base``): a private one is refused there, naming the field.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Channel
from channels.plugin import ChannelSettings
from channels.plugins import PLUGINS, plugin_for
from channels.setting_fields import SettingField, server_fields
from channels.stored import channel_access, get_channel, masked_credentials
from core.database import unless_taken
from core.errors import InvalidInputError
from core.secrets import encrypt_secret
from core.url_guard import check_url

SETTINGS: dict[str, ChannelSettings] = {p.type: p.settings for p in PLUGINS if p.settings is not None}
"""The channel types an admin sets up, and how."""
CHANNEL_TYPES: tuple[str, ...] = tuple(SETTINGS)


def fields_by_name() -> dict[str, list[tuple[str, SettingField]]]:
    """Every setting any type has, with each type that has it (``token``: telegram's, whatsapp-cloud's):
    one flag of ``atende channel add`` each."""
    named: dict[str, list[tuple[str, SettingField]]] = {}
    for channel_type, settings in SETTINGS.items():
        for field in settings.fields:
            named.setdefault(field.name, []).append((channel_type, field))
    return named


SERVER_FIELDS: tuple[str, ...] = tuple(
    sorted({name for settings in SETTINGS.values() for name in server_fields(settings.schema)})
)
"""The settings, of any type, that name a server Atende will call (``api_base``)."""


async def check_server_addresses(raw: dict[str, Any], *, allow_private: bool) -> None:
    """InvalidInputError naming the field when a server the settings name is, or resolves to, an
    address that is not public (ATENDE_ALLOW_PRIVATE_NETWORKS lifts it). It resolves names, so it runs
    before the caller's transaction; the adapters' clients check again at each connection."""
    for name in SERVER_FIELDS:
        value = raw.get(name)
        if isinstance(value, str) and value:
            await check_url(value, field=name, allow_private=allow_private)


Schema = TypeVar("Schema", bound=msgspec.Struct)


class _Common(msgspec.Struct, kw_only=True):
    """What every channel has; the rest is its type's settings."""

    type: str
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")] = "default"


@dataclass(frozen=True)
class ChannelOptions:
    """A channel as an admin sets it up, checked: its settings in the clear and its secrets."""

    type: str
    name: str
    config: dict[str, Any]
    secrets: dict[str, str]


def check_options(raw: dict[str, Any]) -> ChannelOptions:
    """InvalidInputError naming the field, before anything is stored."""
    common = _convert({key: raw[key] for key in ("type", "name") if key in raw}, _Common, "")
    settings = SETTINGS.get(common.type)
    if settings is None:
        raise InvalidInputError("type", f"Invalid enum value {common.type!r}")
    given = {key: value for key, value in raw.items() if key not in ("type", "name") and value is not None}
    options = msgspec.to_builtins(_convert(given, settings.schema, common.type))
    return ChannelOptions(
        type=common.type,
        name=common.name,
        config={k: v for k, v in options.items() if k not in settings.secrets and v is not None},
        secrets={k: v for k, v in options.items() if k in settings.secrets and v},
    )


def _convert(raw: dict[str, Any], schema: type[Schema], channel_type: str) -> Schema:
    try:
        return msgspec.convert(raw, schema)
    except msgspec.ValidationError as exc:
        field, reason = _field_of(str(exc), channel_type)
        raise InvalidInputError(field, reason) from exc


def _field_of(message: str, channel_type: str) -> tuple[str, str]:
    """msgspec says "Expected `str`, got `int` - at `$.token`": the field, then the reason."""
    reason, _, where = message.partition(" - at `$.")
    if where:
        return where.rstrip("`").split(".")[0].split("[")[0], reason
    if "Object missing required field" in message:
        required = f"is required for a {channel_type} channel" if channel_type else "is required"
        return message.split("`")[1], required
    if "Object contains unknown field" in message:
        return message.split("`")[1], "is not a channel setting"
    return "channel", message


async def add_channel(
    session: AsyncSession, tenant_id: uuid.UUID, raw: dict[str, Any], secret_key: str
) -> Channel:
    """Store a new channel for the tenant; its secrets are encrypted (those its settings make up too,
    like a Telegram webhook secret)."""
    options = check_options(raw)
    channel = Channel(
        tenant_id=tenant_id,
        type=options.type,
        name=options.name,
        config=options.config,
        credentials=encrypt_secret(secret_key, json.dumps(options.secrets)),
    )
    async with unless_taken(session, "name", _name_taken(options)):
        session.add(channel)
    return channel


def _name_taken(options: ChannelOptions) -> str:
    return f"the tenant already has a {options.type} channel named {options.name!r}"


async def update_channel(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    changes: dict[str, Any],
    secret_key: str,
) -> Channel:
    """Change a channel's name, settings or secrets (rotating a token): what ``changes`` leaves out,
    or sends empty, is kept. The result is checked as a whole, like a new channel, before it is saved."""
    channel = await get_channel(session, tenant_id, channel_id)
    if changes.get("type", channel.type) != channel.type:
        raise InvalidInputError("type", "cannot change: add a new channel of the other type")
    current = channel_access(channel, secret_key)
    merged: dict[str, Any] = {
        "type": channel.type,
        "name": channel.name,
        **_known(channel.type, {**channel.config, **current.credentials}),
    }
    merged.update({key: value for key, value in changes.items() if value not in (None, "")})
    options = check_options(merged)
    async with unless_taken(session, "name", _name_taken(options)):
        channel.name = options.name
        channel.config = options.config
        channel.credentials = encrypt_secret(secret_key, json.dumps(options.secrets))
    return channel


def _known(channel_type: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored settings and secrets its type has: one kept from before the type had its own
    settings (a ``mode`` on a WhatsApp channel) is left behind, not refused."""
    settings = SETTINGS.get(channel_type)
    fields = set(settings.schema.__struct_fields__) if settings else set()
    return {key: value for key, value in stored.items() if key in fields}


class ChannelView(msgspec.Struct, kw_only=True):
    id: str
    type: str
    name: str
    config: dict[str, Any]
    credentials: dict[str, str]
    """Masked ("…abcd"): stored secrets are never sent back."""
    webhook_path: str | None
    """Where the provider must send updates (None: the channel polls, or has no webhook)."""
    polls: bool
    """It fetches its updates (long polling)."""
    created_at: str


def channel_view(channel: Channel, secret_key: str) -> ChannelView:
    """A channel as an admin sees it (the admin API, ``atende channel list``): its secrets masked."""
    plugin = plugin_for(channel.type)
    return ChannelView(
        id=str(channel.id),
        type=channel.type,
        name=channel.name,
        config=dict(channel.config),
        credentials=masked_credentials(channel_access(channel, secret_key)),
        webhook_path=plugin.webhook_for(channel) if plugin else None,
        polls=plugin.polls(channel.config) if plugin else False,
        created_at=channel.created_at.isoformat(),
    )

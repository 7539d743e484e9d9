"""Adding and listing a tenant's channels."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
import msgspec
from click.decorators import FC
from rich.console import Console
from rich.table import Table

from channels.plugins import webhook_for
from channels.registry import CHANNEL_TYPES, add_channel, channel_view, check_server_addresses, fields_by_name
from channels.setting_fields import SettingField
from channels.stored import list_channels
from core.accounts import get_tenant
from core.migrate import migrated_database
from core.settings import get_settings
from runtime.cli._run import run_async


@click.group()
def channel() -> None:
    """Channels customers write on (Telegram, WhatsApp); credentials are stored encrypted."""


def _setting_option(fields: list[tuple[str, SettingField]]) -> Callable[[FC], FC]:
    """One flag for a setting, from the schemas of the types that have it: ``--api-base``; a switch is
    the flag of the value it turns on (``--polling``), a choice takes one of its values."""
    first = fields[0][1]
    helps: dict[str, list[str]] = {}
    for channel_type, field in fields:
        helps.setdefault((field.help or field.label).rstrip("."), []).append(channel_type)
    help_ = "; ".join(f"{', '.join(types)}: {text}" for text, types in helps.items())
    if first.kind == "switch":
        return click.option(f"--{first.choices[1]}", first.name, flag_value=first.choices[1], help=help_)
    choices = sorted({choice for _, field in fields for choice in field.choices})
    return click.option(
        f"--{first.name.replace('_', '-')}",
        first.name,
        type=click.Choice(choices) if first.kind == "choice" else None,
        help=help_ + (" (stored encrypted)" if first.kind == "secret" else ""),
    )


def _setting_options(command: FC) -> FC:
    """The settings of every channel type as flags: a new channel's appear without editing this file."""
    for fields in reversed(fields_by_name().values()):
        command = _setting_option(fields)(command)
    return command


@channel.command("add")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--type", "type_", type=click.Choice(CHANNEL_TYPES), required=True)
@click.option("--name", default="default", show_default=True)
@_setting_options
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …} only.')
@run_async
async def channel_add(tenant_slug: str, type_: str, name: str, as_json: bool, **settings: str | None) -> None:
    """Add a channel; prints its id and, for webhooks, the URL to give the provider. A setting the
    type does not have, or a bad one, is an error naming it and nothing is stored."""
    raw: dict[str, object] = {key: value for key, value in settings.items() if value is not None}
    raw |= {"type": type_, "name": name}
    config = get_settings()
    await check_server_addresses(raw, allow_private=config.allow_private_networks)
    async with migrated_database(config) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        added = await add_channel(session, owner.id, raw, config.resolved_secret_key())
        channel_id, webhook = str(added.id), webhook_for(added)
    if as_json:
        click.echo(json.dumps({"id": channel_id}))
        return
    Console().print(f"{type_} channel {channel_id} added to {owner.slug}")
    if webhook:
        Console().print(f"webhook: {webhook}")


@channel.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@run_async
async def channel_list(tenant_slug: str, as_json: bool) -> None:
    """The tenant's channels, with their secrets masked."""
    settings = get_settings()
    async with migrated_database(settings) as database, database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        secret_key = settings.resolved_secret_key()
        rows = [channel_view(c, secret_key) for c in await list_channels(session, owner.id)]
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
        return
    table = Table("id", "type", "name", "settings", title=f"{owner.slug}: channels")
    for row in rows:
        table.add_row(row.id, row.type, row.name, json.dumps(row.config))
    Console().print(table)

"""Adding and listing a tenant's channels."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from channels.registry import CHANNEL_TYPES, add_channel
from channels.stored import channel_access, list_channels, masked_credentials
from core.accounts import get_tenant
from core.migrate import migrated_database
from core.settings import get_settings
from runtime.cli._run import run_async


@click.group()
def channel() -> None:
    """Channels customers write on (Telegram, WhatsApp); credentials are stored encrypted."""


@channel.command("add")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--type", "type_", type=click.Choice(CHANNEL_TYPES), required=True)
@click.option("--name", default="default", show_default=True)
@click.option("--token", help="Telegram bot token, or the WhatsApp Cloud API access token.")
@click.option("--webhook-secret", help="Telegram: the secret Telegram sends back (made up if not given).")
@click.option("--app-secret", help="WhatsApp Cloud: the Meta app secret that signs webhooks.")
@click.option("--verify-token", help="WhatsApp Cloud: the token of the webhook verification challenge.")
@click.option("--phone-number-id", help="WhatsApp Cloud: the business phone number's id.")
@click.option("--api-base", help="Another API server (a local Bot API server, a test fake).")
@click.option("--polling", is_flag=True, help="Telegram: fetch updates by long polling instead of a webhook.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …} only.')
@run_async
async def channel_add(
    tenant_slug: str, type_: str, as_json: bool, polling: bool, **options: str | None
) -> None:
    """Add a channel; prints its id and, for webhooks, the URL to give the provider."""
    raw = {key: value for key, value in options.items() if value is not None}
    raw |= {"type": type_, **({"mode": "polling"} if polling else {})}
    settings = get_settings()
    async with migrated_database(settings) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        added = await add_channel(session, owner.id, raw, settings.resolved_secret_key())
        channel_id = str(added.id)
    if as_json:
        click.echo(json.dumps({"id": channel_id}))
        return
    Console().print(f"{type_} channel {channel_id} added to {owner.slug}")
    if type_ == "telegram" and not polling:
        Console().print(
            f"webhook: POST /webhooks/telegram/{channel_id} (restart the server for polling channels)"
        )
    elif type_ == "whatsapp-cloud":
        Console().print(f"webhook: GET|POST /webhooks/whatsapp-cloud/{channel_id}")


@channel.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@run_async
async def channel_list(tenant_slug: str, as_json: bool) -> None:
    """The tenant's channels, with their secrets masked."""
    settings = get_settings()
    async with migrated_database(settings) as database, database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        rows: list[dict[str, Any]] = [
            {
                "id": str(c.id),
                "type": c.type,
                "name": c.name,
                "config": c.config,
                "credentials": masked_credentials(channel_access(c, settings.resolved_secret_key())),
            }
            for c in await list_channels(session, owner.id)
        ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("id", "type", "name", "settings", title=f"{owner.slug}: channels")
    for row in rows:
        table.add_row(row["id"], row["type"], row["name"], json.dumps(row["config"]))
    Console().print(table)

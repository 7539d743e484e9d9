"""Tenants, their users and their API keys."""

from __future__ import annotations

import json

import click
from rich.console import Console

from core.accounts import Role, create_tenant, create_user, get_tenant
from core.migrate import migrated_database
from core.settings import get_settings
from integrations.api_keys import create_api_key
from runtime.cli._run import run_async


@click.group()
def tenant() -> None:
    """Tenants (companies served by this Atende)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (defaults to the slug).")
@run_async
async def tenant_create(slug: str, name: str | None) -> None:
    async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
        created = await create_tenant(session, slug, name)
        Console().print(f"tenant {created.slug} created ({created.id})")


@click.group()
def user() -> None:
    """People who work in a tenant."""


@user.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None)
@run_async
async def user_create(tenant_slug: str, email: str, password: str, role: str, name: str | None) -> None:
    async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        created = await create_user(session, owner, email, password, role, name)
        Console().print(f"user {created.email} ({created.role}) created in {owner.slug}")


@click.group()
def apikey() -> None:
    """API keys for the public API (/api/v1/public)."""


@apikey.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--name", required=True, help="What will use the key (shown to admins).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …, "key": …} only.')
@run_async
async def apikey_create(tenant_slug: str, name: str, as_json: bool) -> None:
    """Make a key; it is printed this once (only its hash is kept)."""
    async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        key, plain = await create_api_key(session, owner.id, name, None)
        key_id = str(key.id)
    if as_json:
        click.echo(json.dumps({"id": key_id, "key": plain}))
        return
    Console().print(f"API key {key_id} for {owner.slug} (shown once, store it now):")
    click.echo(plain)

"""The demo tenant: Jardim Nuvem, a fictional garden shop, with its help-centre articles."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from knowledge.ingest import collect_files, ingest_files
from runtime.accounts import Role, Tenant, create_tenant, create_user
from runtime.services import Services

DEMO_SLUG = "demo"
DEMO_KB = Path(__file__).parent / "kb"


async def seed_demo(services: Services, console: Console) -> dict[str, str]:
    """Create the tenant and its two users once; (re)ingest the articles; print the logins."""
    credentials_file = services.settings.data_dir / "demo-credentials.json"
    async with services.database.sessionmaker.begin() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
        if tenant is None:
            tenant = await create_tenant(session, DEMO_SLUG, "Jardim Nuvem")
            credentials = {
                "admin@demo.atende.dev": secrets.token_urlsafe(9),
                "agent@demo.atende.dev": secrets.token_urlsafe(9),
            }
            await create_user(
                session,
                tenant,
                "admin@demo.atende.dev",
                credentials["admin@demo.atende.dev"],
                Role.ADMIN,
                "Ana Admin",
            )
            await create_user(
                session,
                tenant,
                "agent@demo.atende.dev",
                credentials["agent@demo.atende.dev"],
                Role.AGENT,
                "Beto Agente",
            )
            credentials_file.write_text(json.dumps(credentials))
            credentials_file.chmod(0o600)
    await ingest_files(services.database.sessionmaker, services.embedder, tenant.id, collect_files([DEMO_KB]))
    credentials = json.loads(credentials_file.read_text())
    console.print("[bold]Demo tenant 'demo' (Jardim Nuvem) is ready.[/bold] Logins for the inbox:")
    for email, password in credentials.items():
        console.print(f"  {email}  password: {password}")
    return dict(credentials)

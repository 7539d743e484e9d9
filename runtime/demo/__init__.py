"""The demo tenant: Jardim Nuvem, a fictional garden shop, with its help-centre articles."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.services import Services
from core.accounts import Role, Tenant, create_tenant, create_user
from core.private_files import write_private
from handoff.quick_replies import save_quick_reply
from handoff.tags import save_tag
from knowledge.ingest import collect_files, ingest_files

DEMO_SLUG = "demo"
DEMO_KB = Path(__file__).parent / "kb"


QUICK_REPLIES = {
    "ola": "Olá, {{contact.first_name}}! Aqui é {{agent.name}}, da {{company.name}}. Como posso ajudar?",
    "protocolo": "O protocolo do seu atendimento é {{ticket.protocol}}.",
    "troca": "Sinto muito pelo problema! Vou abrir a troca agora: você recebe o código de postagem por e-mail.",
    "tchau": "Obrigado pelo contato, {{contact.first_name}}! Qualquer coisa, é só chamar.",
}
TAGS = {"VIP": "#d97706", "Reclamação": "#dc2626", "Troca": "#2563eb", "Entrega": "#059669"}


async def _seed_inbox_tools(session: AsyncSession, tenant: Tenant) -> None:
    """Quick replies and tags, so the inbox shows its tools from the first login."""
    for shortcut, text in QUICK_REPLIES.items():
        await save_quick_reply(session, tenant.id, shortcut, text)
    for name, color in TAGS.items():
        await save_tag(session, tenant.id, name, color)


async def seed_demo(services: Services, console: Console) -> dict[str, str]:
    """Create the tenant, its admin, agent and supervisor, quick replies and tags once; (re)ingest
    the articles; print the logins."""
    credentials_file = services.settings.data_dir / "demo-credentials.json"
    async with services.database.sessionmaker.begin() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
        if tenant is None:
            tenant = await create_tenant(session, DEMO_SLUG, "Jardim Nuvem")
            credentials = {
                "admin@demo.atende.dev": secrets.token_urlsafe(9),
                "agent@demo.atende.dev": secrets.token_urlsafe(9),
                "supervisor@demo.atende.dev": secrets.token_urlsafe(9),
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
            await create_user(
                session,
                tenant,
                "supervisor@demo.atende.dev",
                credentials["supervisor@demo.atende.dev"],
                Role.SUPERVISOR,
                "Carla Supervisora",
            )
            await _seed_inbox_tools(session, tenant)
            write_private(credentials_file, json.dumps(credentials).encode())
    await ingest_files(services.database.sessionmaker, services.embedder, tenant.id, collect_files([DEMO_KB]))
    credentials = json.loads(credentials_file.read_text())
    console.print("[bold]Demo tenant 'demo' (Jardim Nuvem) is ready.[/bold] Logins for the inbox:")
    for email, password in credentials.items():
        console.print(f"  {email}  password: {password}")
    return dict(credentials)

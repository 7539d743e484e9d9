"""Serving the app, the demo, the schema and one chat turn from the shell."""

from __future__ import annotations

import json
import uuid

import click
from rich.console import Console

from channels.base import InboundMessage
from core.accounts import get_tenant
from core.migrate import migrated_database
from core.settings import get_settings
from runtime.cli._run import run_async
from runtime.redis_check import require_redis


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app: chat page, inbox and API (with ATENDE_REDIS_URL, jobs go to ``atende worker``)."""
    import uvicorn

    from runtime.app import create_app

    redis_url = get_settings().redis_url
    if redis_url:
        run_async(require_redis)(redis_url)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Seed the demo tenant (once), print its logins, and serve."""
    from conversations.services import open_services
    from runtime.demo import seed_demo

    @run_async
    async def _seed() -> None:
        async with open_services(get_settings()) as services:
            await seed_demo(services, Console())

    _seed()
    Console().print(f"Chat:  http://{host}:{port}/chat/demo\nInbox: http://{host}:{port}/inbox")
    ctx.invoke(serve, host=host, port=port)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """Apply migrations up to the newest schema."""
    async with migrated_database(get_settings()):
        pass
    Console().print("database is up to date")


@click.command()
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--session", "session_id", required=True, help="Conversation id: the same id continues it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("text")
@run_async
async def chat(tenant_slug: str, session_id: str, as_json: bool, text: str) -> None:
    """Send one customer message through the same pipeline as the channels."""
    from conversations.receive import accept_on_default_channel
    from conversations.services import open_services
    from conversations.turn import run_turn
    from runtime.broker import BrokerJobs

    async with open_services(get_settings(), jobs=BrokerJobs()) as services:
        async with services.database.sessionmaker() as session:
            owner = await get_tenant(session, tenant_slug)
        inbound = InboundMessage(
            contact_external_id=session_id, text=text, channel_message_id=str(uuid.uuid4())
        )
        # The turn runs here rather than as a job: this command waits for its answer.
        received = await accept_on_default_channel(services, owner, "webchat", inbound)
        result = (await run_turn(services, received.message_id)).as_dict()
    if as_json:
        keys = ("reply", "escalated", "ticket_id", "citations", "classification")
        click.echo(json.dumps({k: result[k] for k in keys}, ensure_ascii=False))
        return
    console = Console()
    console.print(result["reply"] or "[dim](a human agent will answer)[/dim]")
    for citation in result["citations"]:
        console.print(f"  [dim]source: {citation['document']} ({citation['score']:.2f})[/dim]")

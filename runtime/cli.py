"""The ``atende`` command line, for people and for scripts.

Commands that only read and write rows open the migrated database alone; those that embed, search
or run the agent import and open ``conversations.services`` (the models, the graph, the channels) inside,
so ``atende --help`` and ``atende tenant create`` start in about a second.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from channels.base import InboundMessage
from channels.registry import CHANNEL_TYPES, add_channel, channel_access, list_channels, masked_credentials
from core.accounts import Role, create_tenant, create_user, get_tenant
from core.errors import AtendeError
from core.migrate import migrated_database
from core.settings import get_settings
from evals.cli import eval_group
from integrations.api_keys import create_api_key
from knowledge.ingest import IngestResult, IngestStatus, collect_files, ingest_files
from knowledge.models import DEFAULT_COLLECTION
from knowledge.reindex import check_dimension, reindex
from knowledge.search import SearchMode, search
from knowledge.service import delete_documents, find_collection, list_documents

if TYPE_CHECKING:
    from conversations.services import Services

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True)


def run_async(command: Callable[P, Awaitable[R]]) -> Callable[P, R]:
    """Run an async command; domain errors become a one-line message and exit code 1."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return asyncio.run(command(*args, **kwargs))  # type: ignore[arg-type]
        except AtendeError as exc:
            err.print(f"[red]error:[/red] {exc.detail}")
            sys.exit(1)

    return wrapper


@click.group()
def main() -> None:
    """Atende: an AI agent on every channel, grounded in your knowledge base, with human handoff."""


main.add_command(eval_group)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app: chat page, inbox and API."""
    import uvicorn

    from runtime.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@main.command()
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


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """Apply migrations up to the newest schema."""
    async with migrated_database(get_settings()):
        pass
    Console().print("database is up to date")


@main.group()
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


@main.group()
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


@main.group()
def kb() -> None:
    """Knowledge base."""


@kb.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=DEFAULT_COLLECTION, show_default=True)
@run_async
async def kb_ingest(paths: tuple[Path, ...], tenant_slug: str, collection: str) -> None:
    """Ingest files and folders: Markdown, text, PDF, DOCX, HTML, CSV/XLSX FAQs. Unchanged files are skipped."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services:
        failed = await ingest_into(services, tenant_slug, list(paths), Console(), collection)
    if failed:
        sys.exit(1)


async def ingest_into(
    services: Services,
    tenant_slug: str,
    paths: list[Path],
    console: Console,
    collection: str = DEFAULT_COLLECTION,
) -> int:
    """Ingest with a progress bar; returns how many files failed."""
    async with services.database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        await check_dimension(session, services.embedder)
    files = collect_files(paths)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("ingesting", total=len(files))

        def advance(result: IngestResult) -> None:
            bar.advance(task)
            if result.status == IngestStatus.FAILED:
                bar.console.print(f"[red]failed[/red] {result.source}: {result.error}")

        results = await ingest_files(
            services.database.sessionmaker,
            services.embedder,
            owner.id,
            files,
            advance,
            collection=collection,
            max_bytes=services.settings.max_upload_bytes,
        )
    counts = {status: sum(1 for r in results if r.status == status) for status in IngestStatus}
    console.print(", ".join(f"{n} {status.value}" for status, n in counts.items()))
    return counts[IngestStatus.FAILED]


@kb.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=None)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def kb_list(tenant_slug: str, collection: str | None, as_json: bool) -> None:
    """Documents of a tenant, newest first."""
    async with migrated_database(get_settings()) as database, database.sessionmaker() as session:
        owner = await get_tenant(session, tenant_slug)
        rows = await list_documents(session, owner.id, collection)
    listing = [
        {
            "collection": name,
            "source": d.source,
            "title": d.title,
            "format": d.format,
            "language": d.language,
            "chunks": chunks,
            "status": d.status,
            "updated_at": d.updated_at.isoformat(timespec="seconds"),
        }
        for d, name, chunks in rows
    ]
    if as_json:
        click.echo(json.dumps(listing, ensure_ascii=False))
        return
    table = Table("collection", "document", "title", "format", "lang", "chunks", "status", "updated")
    for row in listing:
        table.add_row(
            *(
                str(row[k])
                for k in (
                    "collection",
                    "source",
                    "title",
                    "format",
                    "language",
                    "chunks",
                    "status",
                    "updated_at",
                )
            )
        )
    Console().print(table)


@kb.command("delete")
@click.argument("sources", nargs=-1, required=True)
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--collection", default=None)
@run_async
async def kb_delete(sources: tuple[str, ...], tenant_slug: str, collection: str | None) -> None:
    """Delete documents (by the name `kb list` shows) and their chunks."""
    async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        deleted = await delete_documents(session, owner.id, list(sources), collection)
    missing = sorted(set(sources) - set(deleted))
    Console().print(
        f"deleted {len(deleted)} document(s)" + (f"; not found: {', '.join(missing)}" if missing else "")
    )
    if missing:
        sys.exit(1)


@kb.command("reindex")
@run_async
async def kb_reindex() -> None:
    """Re-embed every chunk made by another embedding model (after ATENDE_EMBEDDING_MODEL changes)."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services:
        with Progress(TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
            task = bar.add_task("reindex", total=None)
            done = await reindex(
                services.database.engine,
                services.database.sessionmaker,
                services.embedder,
                lambda current, total: bar.update(task, completed=current, total=total),
            )
    Console().print(f"re-embedded {done} chunk(s) with {services.embedder.model_name}")


@kb.command("search")
@click.argument("query")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--collection", default=None)
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def kb_search(
    query: str, tenant_slug: str, k: int, collection: str | None, mode: SearchMode, as_json: bool
) -> None:
    """Ranked chunks with their document, heading path, page and each retriever's score and rank."""
    from conversations.services import open_services

    async with open_services(get_settings()) as services, services.database.sessionmaker.begin() as session:
        owner = await get_tenant(session, tenant_slug)
        await check_dimension(session, services.embedder)
        collection_id = None
        if collection:
            found = await find_collection(session, owner.id, collection)
            if found is None:
                raise click.ClickException(f"collection {collection!r} not found")
            collection_id = found.id
        passages = await search(
            session,
            services.embedder,
            owner.id,
            query,
            k,
            mode=mode,
            collection_id=collection_id,
            reranker=services.reranker,
        )
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in passages], ensure_ascii=False))
        return
    table = Table("#", "document", "where", "fused", "dense (rank)", "lexical (rank)", "text")
    for rank, p in enumerate(passages, start=1):
        where = p.heading_path + (f" (p. {p.page})" if p.page else "")
        table.add_row(
            str(rank),
            p.document,
            where,
            f"{p.fused_score:.4f}",
            f"{p.dense_score:.3f} ({p.dense_rank or '-'})",
            f"{p.lexical_score:.3f} ({p.lexical_rank or '-'})",
            p.text[:80].replace("\n", " ") + ("…" if len(p.text) > 80 else ""),
        )
    Console().print(table)


@main.group()
def classify() -> None:
    """Intent and sentiment classifiers."""


@classify.command("train")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--tenant", "tenant_slug", required=True)
@click.option(
    "--without-builtin-intents",
    is_flag=True,
    help="Learn the file's intents only, not the built-in support intents (the file needs two or more).",
)
@click.option(
    "--without-builtin-sentiments",
    is_flag=True,
    help="Learn sentiment from the file's labels only, not the built-in examples.",
)
@click.option(
    "--out-of-scope-below",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="Top intent probability below which a message is out of scope (default 0.25).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@run_async
async def classify_train(
    file: Path,
    tenant_slug: str,
    without_builtin_intents: bool,
    without_builtin_sentiments: bool,
    out_of_scope_below: float | None,
    as_json: bool,
) -> None:
    """Replace a tenant's labelled examples with FILE (CSV text,intent[,sentiment] or JSONL) and train.

    The file and the options together define the tenant's classifier: training again replaces both.
    Prints the examples per label and a 5-fold cross-validated accuracy on the tenant's intents.
    """
    from agents.classifiers import (
        ClassifierOptions,
        Examples,
        builtin_classifier,
        cross_validate,
        parse_labelled_file,
        replace_tenant_examples,
        tenant_classifier,
    )
    from agents.tenant_settings import save_classifier_options
    from conversations.services import open_services

    options = ClassifierOptions(
        builtin_intents=not without_builtin_intents,
        builtin_sentiments=not without_builtin_sentiments,
        out_of_scope_below=out_of_scope_below,
    )
    rows = parse_labelled_file(file, options)
    async with open_services(get_settings()) as services:
        async with services.database.sessionmaker.begin() as session:
            owner = await get_tenant(session, tenant_slug)
            counts = await replace_tenant_examples(session, owner.id, rows)
            await save_classifier_options(session, owner.id, options)
        with err.status("training…"):
            async with services.database.sessionmaker() as session:
                await tenant_classifier(session, owner.id, services.embedder, options)
            texts = [r.text for r in rows]
            examples = Examples(texts, [r.intent for r in rows], await services.embedder.aencode(texts))
            base = await asyncio.to_thread(builtin_classifier, services.embedder)
            scores = await asyncio.to_thread(cross_validate, base, examples, 5, options)
    intents, sentiments = dict(sorted(counts.intents.items())), dict(sorted(counts.sentiments.items()))
    per_intent = scores.per_label if scores else {}
    if as_json:
        report = {
            "tenant": owner.slug,
            "examples": len(rows),
            "intents": intents,
            "sentiments": sentiments,
            "cv_folds": scores.folds if scores else 0,
            "cv_accuracy": scores.accuracy if scores else None,
            "cv_accuracy_per_intent": per_intent,
        }
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    table = Table(
        "intent", "examples", "cross-validated accuracy", title=f"{owner.slug}: {len(rows)} examples"
    )
    for label, count in intents.items():
        accuracy = per_intent.get(label)
        table.add_row(label, str(count), f"{accuracy:.0%}" if accuracy is not None else "-")
    console = Console()
    console.print(table)
    if sentiments:
        console.print("sentiment examples: " + ", ".join(f"{k} {n}" for k, n in sentiments.items()))
    if scores:
        console.print(f"{scores.folds}-fold cross-validated intent accuracy: {scores.accuracy:.1%}")


@main.group()
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


@main.group()
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


@main.command()
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

"""Jobs given up on (outbound messages and webhook events in the outbox; turns, ingests and malformed
jobs in the dead letters): listed, and tried again."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from conversations.dead_letters import failed_jobs, replay
from core.accounts import Tenant, get_tenant
from core.errors import ConflictError, NotFoundError
from core.migrate import migrated_database
from core.settings import get_settings
from runtime.cli._run import run_async


@click.group()
def jobs() -> None:
    """Jobs that failed for good (messages, webhook events, turns, ingests, malformed ones), and
    trying them again."""


def _age(since: datetime.datetime, now: datetime.datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@jobs.command("failed")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant's jobs.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@run_async
async def jobs_failed(tenant_slug: str | None, limit: int, as_json: bool) -> None:
    """The dead jobs, the latest first: their kind, what they are for, their tenant, attempts and last
    error (a malformed job, which no try can run, is listed but cannot be tried again)."""
    async with migrated_database(get_settings()) as database, database.sessionmaker() as session:
        tenant_id = (await get_tenant(session, tenant_slug)).id if tenant_slug else None
        dead = await failed_jobs(session, tenant_id, limit)
        slugs = dict(
            (
                await session.execute(
                    select(Tenant.id, Tenant.slug).where(
                        Tenant.id.in_({job.tenant_id for job in dead if job.tenant_id})
                    )
                )
            )
            .tuples()
            .all()
        )
    now = datetime.datetime.now(datetime.UTC)
    rows: list[dict[str, Any]] = [
        {
            "id": str(job.id),
            "kind": job.kind,
            "ref_id": str(job.ref_id) if job.ref_id else None,
            "tenant": slugs.get(job.tenant_id, str(job.tenant_id)) if job.tenant_id else None,
            "attempts": job.attempts,
            "error": job.error,
            "replayable": job.replayable,
            "replaying": job.replaying,
            "created_at": job.created_at.isoformat(),
            "failed_at": job.failed_at.isoformat(),
            "age_seconds": round((now - job.created_at).total_seconds()),
        }
        for job in dead
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        Console().print("no failed jobs")
        return
    table = Table("id", "kind", "tenant", "attempts", "error", "age", title="failed jobs")
    for row, job in zip(rows, dead, strict=True):
        table.add_row(
            row["id"],
            row["kind"],
            row["tenant"] or "",
            str(row["attempts"]),
            row["error"] or "",
            _age(job.created_at, now),
        )
    Console().print(table)


def _job_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise click.BadParameter(
            f"{raw!r} is not a job id (a UUID, as `atende jobs failed` lists)", param_hint="ID"
        ) from None


@jobs.command("retry")
@click.argument("job_id", metavar="ID", required=False)
@click.option("--all", "every", is_flag=True, help="Every failed job.")
@click.option("--json", "as_json", is_flag=True, help='Print {"retried": [ids]} only.')
@run_async
async def jobs_retry(job_id: str | None, every: bool, as_json: bool) -> None:
    """Try a failed job again (or --all, malformed ones excepted): a message or webhook event pending
    with a fresh count of attempts, a turn or ingest to be run again. The running server (or a worker)
    takes it within ATENDE_OUTBOX_SWEEP_SECONDS (or once it starts)."""
    if (job_id is None) == (not every):
        raise click.UsageError("give one job ID, or --all")
    ids = None if every else [_job_id(job_id or "")]
    try:
        async with migrated_database(get_settings()) as database, database.sessionmaker.begin() as session:
            retried = [str(job_id) for job_id in (await replay(session, ids)).ids]
    except (NotFoundError, ConflictError) as exc:
        raise click.BadParameter(exc.detail, param_hint="ID") from None
    if as_json:
        click.echo(json.dumps({"retried": retried}))
        return
    Console().print(f"{len(retried)} job{'s' if len(retried) != 1 else ''} pending again")

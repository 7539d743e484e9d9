"""Work nobody asked for: customer messages whose turn was lost (its process died, Redis lost the job),
and outbox jobs due again (a retry's wait was too long for its worker to sleep through, an admin
tried a dead one again, a dead process left its claim), dead letters an admin replays, and uploads
whose ingest was never enqueued or whose worker died are handed to workers. On embedded defaults the
one process sweeps; with Redis, the worker that leads the sweep (``core.leader``), so the cluster sweeps
once per period however many workers run, and another worker takes over when that one stops."""

from __future__ import annotations

import asyncio
import datetime

import structlog

from conversations.dead_letters import give_up_ingest, hand_out_replays
from conversations.jobs import Jobs
from conversations.outbox import sweep as outbox_sweep
from conversations.services import Services
from conversations.unanswered import unanswered_messages
from knowledge.uploads import forgotten_uploads, stalled_uploads
from runtime.broker import INGEST_UPLOAD

log = structlog.get_logger(__name__)

LEASE = "sweep"


async def sweep_once(services: Services, jobs: Jobs, every: float) -> None:
    """Enqueue the turns of forgotten messages, the outbox jobs nobody works on, the replays asked
    for and the uploads not ingested (a repeated job is harmless: each checks it is still to do)."""
    forgotten_after = datetime.timedelta(seconds=services.settings.turn_forgotten_seconds)
    forgotten = await unanswered_messages(services, older_than=forgotten_after)
    for message_id in forgotten:
        await jobs.run_turn(message_id)
    sent = await outbox_sweep(services.database.sessionmaker, jobs, overdue_seconds=every)
    replayed = await hand_out_replays(services.database.sessionmaker, jobs)
    ingests = await sweep_uploads(
        services,
        jobs,
        forgotten_after=datetime.timedelta(seconds=services.settings.ingest_forgotten_seconds),
        stalled_after=datetime.timedelta(seconds=services.settings.ingest_stalled_seconds),
    )
    if forgotten or sent or replayed or ingests:
        log.info("sweep.done", turns=len(forgotten), outbox_jobs=sent, replayed=replayed, ingests=ingests)


async def sweep_uploads(
    services: Services, jobs: Jobs, forgotten_after: datetime.timedelta, stalled_after: datetime.timedelta
) -> int:
    """Enqueue the ingests of uploads queued ``forgotten_after`` ago that no worker took, and of those
    left ``parsing`` for ``stalled_after`` while tries are left; give up on the others (a dead letter,
    the upload shown failed with why). How many were enqueued or given up on."""
    sessionmaker = services.database.sessionmaker
    forgotten = await forgotten_uploads(sessionmaker, forgotten_after)
    requeued, exhausted = await stalled_uploads(sessionmaker, stalled_after)
    for upload in [*forgotten, *requeued]:
        await jobs.ingest_upload(upload.tenant_id, upload.document_id)
    for upload in exhausted:
        error = f"the ingest was taken {upload.tries} times and never finished (its worker stopped)"
        await give_up_ingest(
            services, INGEST_UPLOAD, upload.tenant_id, upload.document_id, error, upload.tries
        )
    return len(forgotten) + len(requeued) + len(exhausted)


async def sweep_periodically(services: Services, jobs: Jobs) -> None:
    """Every ATENDE_OUTBOX_SWEEP_SECONDS until cancelled, while this process leads the sweep."""
    await services.leadership.lead(LEASE, lambda: _sweep_every_period(services, jobs))


async def _sweep_every_period(services: Services, jobs: Jobs) -> None:
    every = services.settings.outbox_sweep_seconds
    while True:
        await asyncio.sleep(every)
        try:
            await sweep_once(services, jobs, every)
        except Exception as exc:  # the database or Redis is away: try again next period
            log.warning("sweep.failed", error=type(exc).__name__)

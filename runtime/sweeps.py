"""Work nobody asked for: customer messages whose turn was lost (its process died, Redis lost the job),
and outbox jobs due again (a retry's wait was too long for its worker to sleep through, an admin
tried a dead one again, a dead process left its claim) and dead letters an admin replays are handed to
workers. On embedded defaults the one process sweeps; with Redis, the worker that leads the sweep
(``core.leader``), so the cluster sweeps once per period however many workers run, and another
worker takes over when that one stops."""

from __future__ import annotations

import asyncio
import datetime

import structlog

from conversations.dead_letters import hand_out_replays
from conversations.jobs import Jobs
from conversations.outbox import sweep as outbox_sweep
from conversations.services import Services
from conversations.unanswered import unanswered_messages

log = structlog.get_logger(__name__)

LEASE = "sweep"


async def sweep_once(services: Services, jobs: Jobs, every: float) -> None:
    """Enqueue the turns of forgotten messages, the outbox jobs nobody works on and the replays asked
    for (a repeated job is harmless: each checks it is still to do)."""
    forgotten_after = datetime.timedelta(seconds=services.settings.turn_forgotten_seconds)
    forgotten = await unanswered_messages(services, older_than=forgotten_after)
    for message_id in forgotten:
        await jobs.run_turn(message_id)
    sent = await outbox_sweep(services.database.sessionmaker, jobs, overdue_seconds=every)
    replayed = await hand_out_replays(services.database.sessionmaker, jobs)
    if forgotten or sent or replayed:
        log.info("sweep.done", turns=len(forgotten), outbox_jobs=sent, replayed=replayed)


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

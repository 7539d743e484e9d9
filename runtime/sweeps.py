"""Work nobody asked for: customer messages whose turn was lost (its process died, Redis lost the job),
and outbox jobs due again (a retry's wait was too long for its worker to sleep through, an admin
tried a dead one again, a dead process left its claim) and dead letters an admin replays are handed to
workers. On embedded defaults
the one process sweeps; with Redis, the workers take turns under a Redis lock, so the cluster sweeps
once per period however many workers run."""

from __future__ import annotations

import asyncio
import datetime

import structlog
from redis.asyncio import Redis

from conversations.dead_letters import hand_out_replays
from conversations.jobs import Jobs
from conversations.outbox import sweep as outbox_sweep
from conversations.services import Services
from conversations.unanswered import unanswered_messages

log = structlog.get_logger(__name__)

FORGOTTEN_AFTER = datetime.timedelta(seconds=60)
"""A message unanswered this long, its conversation held by no turn, has lost its job."""
LOCK = "atende:sweep"


async def sweep_once(services: Services, jobs: Jobs, every: float) -> None:
    """Enqueue the turns of forgotten messages, the outbox jobs nobody works on and the replays asked
    for (a repeated job is harmless: each checks it is still to do)."""
    forgotten = await unanswered_messages(services, older_than=FORGOTTEN_AFTER)
    for message_id in forgotten:
        await jobs.run_turn(message_id)
    sent = await outbox_sweep(services.database.sessionmaker, jobs, overdue_seconds=every)
    replayed = await hand_out_replays(services.database.sessionmaker, jobs)
    if forgotten or sent or replayed:
        log.info("sweep.done", turns=len(forgotten), outbox_jobs=sent, replayed=replayed)


async def sweep_periodically(services: Services, jobs: Jobs, redis_url: str | None) -> None:
    """Every ATENDE_OUTBOX_SWEEP_SECONDS until cancelled; with Redis, only the worker that takes the lock."""
    every = services.settings.outbox_sweep_seconds
    redis = Redis.from_url(redis_url) if redis_url else None
    try:
        while True:
            await asyncio.sleep(every)
            try:
                if redis is None:
                    await sweep_once(services, jobs, every)
                    continue
                lock = redis.lock(LOCK, timeout=every, blocking=False)
                if await lock.acquire():
                    # Held until it expires: the other workers skip this period.
                    await sweep_once(services, jobs, every)
            except Exception as exc:  # the database or Redis is away: try again next period
                log.warning("sweep.failed", error=type(exc).__name__)
    finally:
        if redis is not None:
            await redis.aclose()

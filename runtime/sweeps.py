"""Work nobody asked for: customer messages whose turn was lost (its process died, Redis lost the job)
are enqueued again. On embedded defaults the one process sweeps; with Redis, the workers take turns
under a Redis lock, so the cluster sweeps once per period however many workers run."""

from __future__ import annotations

import asyncio
import datetime

import structlog
from redis.asyncio import Redis

from conversations.jobs import Jobs
from conversations.services import Services
from conversations.turn import unanswered_messages

log = structlog.get_logger(__name__)

SWEEP_EVERY_SECONDS = 30.0
FORGOTTEN_AFTER = datetime.timedelta(seconds=60)
"""A message unanswered this long, its conversation held by no turn, has lost its job."""
LOCK = "atende:sweep"


async def sweep_once(services: Services, jobs: Jobs) -> int:
    """Enqueue the turns of forgotten messages; returns how many (a repeated job is harmless)."""
    forgotten = await unanswered_messages(services, older_than=FORGOTTEN_AFTER)
    for message_id in forgotten:
        await jobs.run_turn(message_id)
    if forgotten:
        log.info("sweep.turns", count=len(forgotten))
    return len(forgotten)


async def sweep_periodically(services: Services, jobs: Jobs, redis_url: str | None) -> None:
    """Every ``SWEEP_EVERY_SECONDS`` until cancelled; with Redis, only the worker that takes the lock."""
    redis = Redis.from_url(redis_url) if redis_url else None
    try:
        while True:
            await asyncio.sleep(SWEEP_EVERY_SECONDS)
            try:
                if redis is None:
                    await sweep_once(services, jobs)
                    continue
                lock = redis.lock(LOCK, timeout=SWEEP_EVERY_SECONDS, blocking=False)
                if await lock.acquire():
                    # Held until it expires: the other workers skip this period.
                    await sweep_once(services, jobs)
            except Exception as exc:  # the database or Redis is away: try again next period
                log.warning("sweep.failed", error=type(exc).__name__)
    finally:
        if redis is not None:
            await redis.aclose()

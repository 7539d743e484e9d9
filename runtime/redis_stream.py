"""taskiq-redis's stream broker, made to outlive a Redis that goes away: a worker waits and reads
again rather than dying, and a Redis that comes back empty (its stream and consumer group gone) gets
its group declared again. A job whose acknowledgement was lost is handed out again, and every job is
safe to run twice (see ``runtime.broker``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

import structlog
from redis.exceptions import RedisError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

log = structlog.get_logger(__name__)

FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS = 0.5, 5.0
"""Between tries to read again while Redis is away: doubling from the first to the longest."""


class ResilientStreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        wait = FIRST_WAIT_SECONDS
        while True:
            try:
                async for message in super().listen():
                    wait = FIRST_WAIT_SECONDS
                    yield message
            except RedisError as exc:  # away, or back without our group (NOGROUP)
                log.warning("jobs.redis_unavailable", error=type(exc).__name__, retry_in=wait)
                await asyncio.sleep(wait)
                wait = min(LONGEST_WAIT_SECONDS, wait * 2)
                try:
                    await self._declare_consumer_group()
                except RedisError:
                    continue
                log.info("jobs.redis_back")

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        ack = super()._ack_generator(id, queue_name)

        async def ack_if_redis_answers() -> None:
            try:
                await ack()
            except RedisError as exc:  # the job ran; unacknowledged, it may run again, harmlessly
                log.warning("jobs.ack_failed", error=type(exc).__name__)

        return ack_if_redis_answers

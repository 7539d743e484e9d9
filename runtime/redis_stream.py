"""taskiq-redis's stream broker, made to outlive a Redis that goes away: a worker waits and reads
again rather than dying, and a Redis that comes back empty (its stream and consumer group gone) gets
its group declared again. A job whose acknowledgement was lost is handed out again, and every job is
safe to run twice (see ``runtime.broker``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import structlog
from redis.exceptions import RedisError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

from runtime.redis_backoff import RedisBackoff

log = structlog.get_logger(__name__)


class ResilientStreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        backoff = RedisBackoff()
        while True:
            try:
                async for message in super().listen():
                    backoff.succeeded()
                    yield message
            except RedisError as exc:  # away, or back without our group (NOGROUP)
                await backoff.after("jobs.redis_unavailable", exc)
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

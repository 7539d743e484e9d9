"""taskiq-redis's stream broker, made to outlive a Redis that goes away: a worker waits and reads
again rather than dying, and a Redis that comes back empty (its stream and consumer group gone) gets
its group declared again. A job whose acknowledgement was lost is handed out again, and every job is
safe to run twice (see ``runtime.broker``).

An entry without a ``data`` field (XADDed by something else than a taskiq kicker) makes taskiq-redis's
loop raise ``KeyError``, leaving the entry pending, to be claimed again on every redelivery pass. The
broker then hands such entries on as ``NO_DATA``; the formatter (``runtime.job_failures``) makes each a
malformed job, kept and acknowledged once."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

from runtime.redis_backoff import RedisBackoff

log = structlog.get_logger(__name__)

NO_DATA = b"\x00atende: a stream entry with no data field"
"""What a stream entry without a ``data`` field is read as (no taskiq message starts with a NUL)."""


PENDING_BATCH = 100
"""How many of this consumer's pending entries are looked through for ones with no job."""


class ResilientStreamBroker(RedisStreamBroker):
    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        backoff = RedisBackoff()
        while True:
            try:
                async for message in super().listen():
                    backoff.succeeded()
                    yield message
            except KeyError:  # an entry with no data field stopped taskiq-redis's loop
                for message in await self._entries_without_data():
                    yield message
            except RedisError as exc:  # away, or back without our group (NOGROUP)
                await backoff.after("jobs.redis_unavailable", exc)
                try:
                    await self._declare_consumer_group()
                except RedisError:
                    continue
                log.info("jobs.redis_back")

    async def _entries_without_data(self) -> list[AckableMessage]:
        """After taskiq-redis's loop stopped on an entry with no ``data`` field: this consumer's pending
        entries that have none, each handed on as ``NO_DATA`` so it is kept and acknowledged once. The
        rest of that read stays pending and is claimed again after ``idle_timeout``, as any unfinished job."""
        found: list[AckableMessage] = []
        try:
            await self._find_entries_without_data(found)
        except RedisError as exc:  # away again: they stay pending, and stop the next read the same way
            log.warning("jobs.redis_unavailable", error=type(exc).__name__)
        return found

    async def _find_entries_without_data(self, found: list[AckableMessage]) -> None:
        async with Redis(connection_pool=self.connection_pool) as redis:
            for stream in [self.queue_name, *self.additional_streams]:
                pending: Any = await redis.xpending_range(
                    stream, self.consumer_group_name, "-", "+", PENDING_BATCH, consumername=self.consumer_name
                )
                for entry in pending:
                    entry_id = entry["message_id"]
                    fields: Any = await redis.xrange(stream, entry_id, entry_id)
                    if not fields or b"data" not in fields[0][1]:  # gone, or no job in it
                        found.append(AckableMessage(data=NO_DATA, ack=self._ack_generator(entry_id, stream)))

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        ack = super()._ack_generator(id, queue_name)

        async def ack_if_redis_answers() -> None:
            try:
                await ack()
            except RedisError as exc:  # the job ran; unacknowledged, it may run again, harmlessly
                log.warning("jobs.ack_failed", error=type(exc).__name__)

        return ack_if_redis_answers

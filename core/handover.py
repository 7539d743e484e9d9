"""Handing a job to the one process of the cluster that can do it: the one that holds a session.

A WhatsApp (neonize) session is a live connection in one process (``core.leader``), but the job that
sends a reply through it runs on whichever worker took it. That worker hands the job's id to the
session's holder over Redis pub/sub (``atende:handover:<holder>``, the holder named as its lease);
the holder follows that channel while it leads. Pub/sub keeps nothing, so it is only a wake-up: the
job itself stays in the outbox (``core.outbox``), the holder looks for what is due each time it
(re)subscribes, and the periodic sweep hands a job nobody took to a worker again, who hands it over
again. Without Redis there is one process, which holds every session: nothing is handed over.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)

CHANNEL_PREFIX = "atende:handover:"
LISTEN_SECONDS = 1.0
"""How long one read of the subscription waits before it looks again (cancellation is at once)."""
FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS = 0.5, 30.0
"""After Redis failed the subscription: the pauses before subscribing again, doubling."""
ANSWER_SECONDS = 10.0

OnRef = Callable[[uuid.UUID], None]
OnListening = Callable[[], Awaitable[None]]


class Handover(Protocol):
    async def hand_over(self, holder: str, ref_id: uuid.UUID) -> int:
        """Give ``ref_id`` to whoever follows ``holder``; how many processes heard it (0: nobody now)."""
        ...

    async def follow(self, holder: str, on_ref: OnRef, on_listening: OnListening) -> None:
        """Until cancelled: ``on_listening`` each time the subscription is (again) in place, then
        ``on_ref`` for every id handed over to ``holder``."""
        ...

    async def aclose(self) -> None: ...


class RedisHandover:
    """One client per process; each follower has a pub/sub connection of its own."""

    def __init__(self, redis_url: str) -> None:
        self._redis: Redis = Redis.from_url(
            redis_url,
            socket_connect_timeout=ANSWER_SECONDS,
            socket_timeout=ANSWER_SECONDS,
            health_check_interval=ANSWER_SECONDS,  # a silent, broken subscription is noticed
        )

    async def hand_over(self, holder: str, ref_id: uuid.UUID) -> int:
        return int(await self._redis.publish(CHANNEL_PREFIX + holder, str(ref_id)))

    async def follow(self, holder: str, on_ref: OnRef, on_listening: OnListening) -> None:
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                await self._follow_once(holder, on_ref, on_listening)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the database away: subscribe and look again later
                log.warning("handover.follow_failed", holder=holder, error=type(exc).__name__, retry_in=pause)
                await asyncio.sleep(pause)
                pause = min(LONGEST_PAUSE_SECONDS, pause * 2)

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _follow_once(self, holder: str, on_ref: OnRef, on_listening: OnListening) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(CHANNEL_PREFIX + holder)
            # Once Redis confirms, every later hand-over reaches us; what came before is in the outbox.
            while not _is_subscribed(await pubsub.get_message(timeout=LISTEN_SECONDS)):
                pass
            await on_listening()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_SECONDS)
                if message is not None and message.get("type") == "message":
                    ref_id = _ref_id(message.get("data"))
                    if ref_id is None:
                        log.warning("handover.unreadable", holder=holder)
                    else:
                        on_ref(ref_id)
        finally:
            await asyncio.shield(_close(pubsub))


def _is_subscribed(message: dict[str, Any] | None) -> bool:
    return message is not None and message.get("type") == "subscribe"


def _ref_id(data: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(data.decode() if isinstance(data, bytes) else str(data))
    except ValueError:
        return None


async def _close(pubsub: Any) -> None:
    try:
        await pubsub.aclose()
    except Exception as exc:  # the connection is gone already
        log.info("handover.close_failed", error=type(exc).__name__)


def handover(redis_url: str | None) -> Handover | None:
    """None on embedded defaults: one process holds every session, and sends through it itself."""
    return RedisHandover(redis_url) if redis_url else None

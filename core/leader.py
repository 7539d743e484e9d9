"""Work one process of the cluster does at a time: a Telegram bot's long polling, a WhatsApp session,
the periodic sweep. Two processes polling one bot would race for its updates; two WhatsApp clients on
one session replace each other.

On embedded defaults there is one process, and it always leads (``SoleLeader``). With Redis, a
process leads while it holds a lease named for the work (``atende:leader:<name>``, redis-py's Lock:
SET NX PX with a token of its own, renewed by a compare-and-set of that token). The leader renews
every third of the lease; the others try to take it as often. A leader that stops releases its lease,
so another takes over within a third of the lease; one that dies stops renewing, so another takes
over once the lease runs out. A leader that cannot renew (Redis away, or its lease taken) stops the
work before its lease can run out, so two processes never run it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError

log = structlog.get_logger(__name__)

Work = Callable[[], Coroutine[Any, Any, None]]
"""Runs until cancelled; made afresh each time the lease is taken (reading settings anew)."""
KEY_PREFIX = "atende:leader:"
RESTART_SECONDS = 5.0
"""After the work failed on its own: the pause before it starts again (the lease is kept meanwhile
by another process, or retaken by this one)."""


class Leadership(Protocol):
    async def lead(self, name: str, work: Work) -> None:
        """Run ``work`` whenever this process leads ``name``, until cancelled (or the work returns)."""
        ...

    async def step_down(self, name: str) -> None:
        """Whoever leads ``name`` stops (within a third of the lease), and the lease is taken anew: the
        work starts again with what changed (a channel's new token)."""
        ...

    async def aclose(self) -> None: ...


class SoleLeader:
    """One process, nobody to share with: the work runs here, restarted if it fails."""

    async def lead(self, name: str, work: Work) -> None:
        while True:
            try:
                await work()
                return
            except Exception:
                log.exception("leader.work_failed", name=name)
            await asyncio.sleep(RESTART_SECONDS)

    async def step_down(self, name: str) -> None:
        """Nothing: the caller restarts its own work."""

    async def aclose(self) -> None:
        """Nothing to close."""


class RedisLeadership:
    """Leases on Redis, ``lease_seconds`` long; one client per process, shared by every lease."""

    def __init__(self, redis_url: str, lease_seconds: float) -> None:
        self._lease = lease_seconds
        self._every = lease_seconds / 3
        self._redis: Redis = Redis.from_url(
            redis_url, socket_timeout=self._every, socket_connect_timeout=self._every
        )

    async def lead(self, name: str, work: Work) -> None:
        while True:
            lock = self._redis.lock(
                KEY_PREFIX + name, timeout=self._lease, blocking=False, thread_local=False
            )
            if not await self._take(lock, name):
                await asyncio.sleep(self._every)
                continue
            log.info("leader.took", name=name)
            try:
                outcome = await self._run_while_held(lock, name, work)
            finally:
                await self._release(lock)
            if outcome == "returned":
                return
            await asyncio.sleep(RESTART_SECONDS if outcome == "failed" else self._every)

    async def step_down(self, name: str) -> None:
        try:
            await self._redis.delete(KEY_PREFIX + name)
        except Exception as exc:  # Redis away: the leader loses its lease anyway, and rereads on retaking
            log.warning("leader.step_down_failed", name=name, error=type(exc).__name__)

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _take(self, lock: Lock, name: str) -> bool:
        try:
            return bool(await lock.acquire())
        except Exception as exc:  # Redis away: nobody can lead now; try again later
            log.warning("leader.unreachable", name=name, error=type(exc).__name__)
            return False

    async def _run_while_held(self, lock: Lock, name: str, work: Work) -> str:
        """``returned`` (the work ended on its own), ``failed`` (it raised) or ``lost`` (the lease)."""
        running = asyncio.create_task(work(), name=f"leader-{name}")
        renewed_at = time.monotonic()
        try:
            while True:
                done, _ = await asyncio.wait({running}, timeout=self._every)
                if done:
                    if exc := running.exception():
                        log.error("leader.work_failed", name=name, error=type(exc).__name__)
                        return "failed"
                    return "returned"
                asked_at = time.monotonic()
                renewed = await self._renew(lock, name)
                if renewed:
                    renewed_at = asked_at
                # Stop while the lease surely still holds, so that no other process runs it meanwhile.
                if renewed is False or time.monotonic() - renewed_at >= self._lease - self._every:
                    log.warning("leader.lost", name=name)
                    return "lost"
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    async def _renew(self, lock: Lock, name: str) -> bool | None:
        """True: renewed; False: another process holds it; None: Redis did not answer."""
        try:
            await lock.reacquire()
            return True
        except LockNotOwnedError:
            return False
        except Exception as exc:
            log.warning("leader.renew_failed", name=name, error=type(exc).__name__)
            return None

    async def _release(self, lock: Lock) -> None:
        """So that another process takes over at once; a lease already gone or Redis away is fine."""
        with contextlib.suppress(Exception):
            await lock.release()


def leadership(redis_url: str | None, lease_seconds: float) -> Leadership:
    return RedisLeadership(redis_url, lease_seconds) if redis_url else SoleLeader()

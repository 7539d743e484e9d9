"""Work one process of the cluster does at a time (``core.leader``) on a real Redis: one holder runs
it, another takes over when the first stops, and nobody runs it while Redis is away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.leader import RedisLeadership, SoleLeader, Work
from tests.runtime.conftest import RedisServer

LEASE_SECONDS = 1.5


class Running:
    """Which holders run the work right now, and every holder that ever ran it."""

    def __init__(self) -> None:
        self.now: set[str] = set()
        self.ever: list[str] = []
        self.changed = asyncio.Condition()

    def work(self, holder: str) -> Work:
        async def run() -> None:
            async with self.changed:
                self.now.add(holder)
                self.ever.append(holder)
                self.changed.notify_all()
            try:
                await asyncio.Event().wait()  # until the lease is lost or the holder stops
            finally:
                self.now.discard(holder)
                async with self.changed:
                    self.changed.notify_all()

        return run

    async def until(self, condition: Callable[[], bool], within: float = 20) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(condition), within)


async def test_one_holder_runs_the_work_and_another_takes_over_when_it_stops(
    redis_server: RedisServer,
) -> None:
    running = Running()
    first, second = (RedisLeadership(redis_server.url, LEASE_SECONDS) for _ in range(2))
    try:
        leading_first = asyncio.create_task(first.lead("telegram:bot", running.work("first")))
        await running.until(lambda: running.now == {"first"})
        leading_second = asyncio.create_task(second.lead("telegram:bot", running.work("second")))
        # The second tries every third of the lease; it never runs while the first holds it.
        for _ in range(6):
            await asyncio.sleep(LEASE_SECONDS / 3)
            assert running.now == {"first"}

        leading_first.cancel()  # the first process stops: it lets go of the lease
        await asyncio.gather(leading_first, return_exceptions=True)
        await running.until(lambda: running.now == {"second"})
        assert running.ever == ["first", "second"]
        leading_second.cancel()
        await asyncio.gather(leading_second, return_exceptions=True)
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_work_stops_while_redis_is_away_and_runs_once_again_when_it_is_back(
    redis_server: RedisServer,
) -> None:
    running = Running()
    holders = [RedisLeadership(redis_server.url, LEASE_SECONDS) for _ in range(2)]
    leading = [
        asyncio.create_task(holder.lead("sweep", running.work(f"holder-{n}")))
        for n, holder in enumerate(holders)
    ]
    try:
        await running.until(lambda: len(running.now) == 1)
        await asyncio.to_thread(redis_server.stop)
        # It cannot renew: it stops before its lease could have run out.
        await running.until(lambda: not running.now, within=LEASE_SECONDS * 3)
        await asyncio.to_thread(redis_server.start)
        await running.until(lambda: len(running.now) == 1)
        for _ in range(6):
            await asyncio.sleep(LEASE_SECONDS / 3)
            assert len(running.now) == 1
    finally:
        for task in leading:
            task.cancel()
        await asyncio.gather(*leading, return_exceptions=True)
        for holder in holders:
            await holder.aclose()


async def test_a_lease_taken_from_its_holder_stops_the_work_there(redis_server: RedisServer) -> None:
    """An admin changed the channel: whoever polls it stops, and it starts again with the new token."""
    running = Running()
    holder = RedisLeadership(redis_server.url, LEASE_SECONDS)
    leading = asyncio.create_task(holder.lead("telegram:bot", running.work("holder")))
    try:
        await running.until(lambda: running.ever == ["holder"])
        await holder.step_down("telegram:bot")
        await running.until(lambda: running.ever == ["holder", "holder"])
    finally:
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        await holder.aclose()


async def test_alone_the_work_runs_at_once_and_again_after_it_failed() -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the bot's first call failed")

    await asyncio.wait_for(SoleLeader().lead("telegram:bot", work), timeout=20)
    assert len(calls) == 2

"""The work a channel runs while the app runs (a bot's long polling, a WhatsApp session), one task per
channel, each doing its work only while this process leads that channel in the cluster
(``core.leader``): with several processes, one of them polls a bot, and another takes over when it
stops or dies."""

from __future__ import annotations

import asyncio
import uuid

from core.leader import Leadership, Work


def lease_name(channel_type: str, channel_id: uuid.UUID) -> str:
    """The name a channel's work is led by in the cluster (and its session's jobs are handed to)."""
    return f"{channel_type}:{channel_id}"


class LedTasks:
    """A channel type's tasks in this process, by channel id."""

    def __init__(self, channel_type: str, leadership: Leadership) -> None:
        self._type = channel_type
        self._leadership = leadership
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    def lease_name(self, channel_id: uuid.UUID) -> str:
        return lease_name(self._type, channel_id)

    def has(self, channel_id: uuid.UUID) -> bool:
        task = self._tasks.get(channel_id)
        return task is not None and not task.done()

    def run(self, channel_id: uuid.UUID, work: Work) -> None:
        """Run ``work`` whenever this process leads the channel, unless it already takes part."""
        if self.has(channel_id):
            return
        name = self.lease_name(channel_id)
        self._tasks[channel_id] = asyncio.create_task(self._leadership.lead(name, work), name=name)

    async def restart(self, channel_id: uuid.UUID, work: Work) -> None:
        """The channel changed: its work stops wherever it runs in the cluster, and starts afresh."""
        await self.cancel(channel_id)
        await self._leadership.step_down(self.lease_name(channel_id))
        self.run(channel_id, work)

    async def cancel(self, channel_id: uuid.UUID) -> None:
        task = self._tasks.pop(channel_id, None)
        if task:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

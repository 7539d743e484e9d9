"""The graph's PostgreSQL checkpointer, which reads what any Atende version checkpointed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agents.state import CHECKPOINTED, typed_value


class AgentCheckpointer(AsyncPostgresSaver):
    """``AsyncPostgresSaver`` whose serializer rebuilds the state's own types by name (no "unregistered
    type" warnings, nothing else imported on load), and whose checkpoints and pending writes come back
    in this version's types (``agents.state.typed_value``), so a turn resumes from an older one."""

    serde: SerializerProtocol = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINTED)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found = await super().aget_tuple(config)
        return _typed(found) if found else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for found in super().alist(config, filter=filter, before=before, limit=limit):
            yield _typed(found)


def _typed(found: CheckpointTuple) -> CheckpointTuple:
    values = {
        channel: typed_value(channel, value) for channel, value in found.checkpoint["channel_values"].items()
    }
    writes = [
        (task, channel, typed_value(channel, value)) for task, channel, value in found.pending_writes or []
    ]
    return found._replace(checkpoint={**found.checkpoint, "channel_values": values}, pending_writes=writes)

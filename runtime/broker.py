"""The one task broker: taskiq in process on embedded defaults (Redis arrives with issue #6/#7)."""

from __future__ import annotations

import uuid
from typing import Any

from taskiq import Context, InMemoryBroker, TaskiqDepends

from runtime.inbound import run_turn

broker = InMemoryBroker()


@broker.task(task_name="atende.run_turn")
async def run_turn_task(message_id: str, context: Context = TaskiqDepends()) -> dict[str, Any]:
    """The agent's turn for a stored inbound message, as a job."""
    result = await run_turn(context.state.services, uuid.UUID(message_id))
    return result.as_dict()

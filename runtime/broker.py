"""The one task broker: taskiq in process on embedded defaults (Redis arrives with issues #6 and #7)."""

from __future__ import annotations

import uuid
from typing import Any

from taskiq import Context, InMemoryBroker, TaskiqDepends
from taskiq.middlewares import SmartRetryMiddleware

from knowledge.uploads import process_upload
from runtime.delivery import deliver_message
from runtime.inbound import run_turn
from runtime.services import Services
from runtime.webhooks import deliver_webhook

broker = InMemoryBroker().with_middlewares(
    SmartRetryMiddleware(default_retry_count=3, default_delay=1, use_jitter=True, use_delay_exponent=True)
)


@broker.task(task_name="atende.run_turn", retry_on_error=True)
async def run_turn_task(message_id: str, context: Context = TaskiqDepends()) -> dict[str, Any]:
    """The agent's turn for a stored inbound message, as a job (retried with backoff on errors)."""
    services: Services = context.state.services
    async with services.turn_slots:
        result = await run_turn(services, uuid.UUID(message_id))
    return result.as_dict()


@broker.task(task_name="atende.deliver_message")
async def deliver_message_task(message_id: str, context: Context = TaskiqDepends()) -> str:
    """Hand an outbound message to its channel (the job retries within, then marks it failed)."""
    return await deliver_message(context.state.services, uuid.UUID(message_id))


@broker.task(task_name="atende.deliver_webhook")
async def deliver_webhook_task(delivery_id: str, context: Context = TaskiqDepends()) -> str:
    """POST one event to a webhook subscriber (the job retries within, then marks it failed)."""
    return await deliver_webhook(context.state.services, uuid.UUID(delivery_id))


@broker.task(task_name="atende.ingest_upload")
async def ingest_upload_task(tenant_id: str, document_id: str, context: Context = TaskiqDepends()) -> str:
    """Parse and embed an uploaded document."""
    services = context.state.services
    return await process_upload(
        services.database.sessionmaker,
        services.embedder,
        uuid.UUID(tenant_id),
        uuid.UUID(document_id),
        services.settings.uploads_dir,
    )

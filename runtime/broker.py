"""The one task broker: taskiq in process on embedded defaults; ``BrokerJobs`` is how the pipeline enqueues."""

from __future__ import annotations

import uuid
from typing import Any

from taskiq import Context, InMemoryBroker, TaskiqDepends
from taskiq.middlewares import SmartRetryMiddleware

from conversations.delivery import deliver_message
from conversations.services import Services
from conversations.turn import run_turn
from integrations.webhooks import deliver_webhook
from knowledge.uploads import process_upload

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
    """Hand an outbound message to its channel through its outbox job (claimed, sent with nothing
    locked, retried after short waits; the sweep takes longer ones; then failed and dead)."""
    return await deliver_message(context.state.services, uuid.UUID(message_id))


@broker.task(task_name="atende.deliver_webhook")
async def deliver_webhook_task(delivery_id: str, context: Context = TaskiqDepends()) -> str:
    """POST one event to a webhook subscriber through its outbox job (as ``deliver_message_task``)."""
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


class BrokerJobs:
    """The pipeline's jobs (``conversations.jobs.Jobs``) as tasks on this broker."""

    async def run_turn(self, message_id: uuid.UUID) -> None:
        await run_turn_task.kiq(str(message_id))

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        await deliver_message_task.kiq(str(message_id))

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        await deliver_webhook_task.kiq(str(delivery_id))

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await ingest_upload_task.kiq(str(tenant_id), str(document_id))

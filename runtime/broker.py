"""The one task broker, and ``BrokerJobs``, how the pipeline enqueues.

On embedded defaults, taskiq's in-process broker: jobs run inside ``atende serve``. With
ATENDE_REDIS_URL, a Redis stream (taskiq-redis's ``RedisStreamBroker``): ``atende serve`` only
enqueues, and any number of ``atende worker`` processes take the jobs. A job is acknowledged only
after it ran, so one whose worker died is handed to another worker once it has been idle for
ATENDE_JOB_REDELIVER_SECONDS (Redis's XAUTOCLAIM); every job is safe to run twice (a turn's lease and its
message's ``processed`` flag, the deliveries' claims), so a job redelivered while slow still runs once.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, Context, InMemoryBroker, TaskiqDepends
from taskiq.exceptions import SendTaskError
from taskiq.middlewares import SmartRetryMiddleware

from conversations.delivery import deliver_message
from conversations.services import Services
from conversations.turn import run_turn
from core.settings import get_settings
from integrations.webhooks import deliver_webhook
from knowledge.uploads import process_upload
from runtime.redis_stream import ResilientStreamBroker

log = structlog.get_logger(__name__)

JOBS_AT_ONCE = 1000
"""Jobs one process runs at once: they mostly wait (an LLM, a channel), and turns are bounded apart
(``Services.turn_slots``); taskiq's default of 30 would queue a burst of customers behind each other."""
QUEUE = "atende:jobs"
REDIS_CONNECT_SECONDS, REDIS_ANSWER_SECONDS = 5, 10
"""A Redis that does not answer fails a call after this long (longer than a read's 2 s block)."""


def make_broker(redis_url: str | None, redeliver_seconds: float) -> AsyncBroker:
    """``redeliver_seconds``: a job taken but not acknowledged for this long goes to another worker.
    (taskiq-redis looks for such jobs after each read that brought new ones; the periodic sweep of
    unanswered messages, ``runtime.sweeps``, is the backstop for a quiet queue.)"""
    retries = SmartRetryMiddleware(
        default_retry_count=3, default_delay=1, use_jitter=True, use_delay_exponent=True
    )
    if redis_url:
        return ResilientStreamBroker(
            redis_url,
            queue_name=QUEUE,
            consumer_id="0",  # a group declared again (Redis came back empty) reads what came meanwhile
            idle_timeout=int(redeliver_seconds * 1000),
            unacknowledged_lock_timeout=30,
            socket_connect_timeout=REDIS_CONNECT_SECONDS,
            socket_timeout=REDIS_ANSWER_SECONDS,
        ).with_middlewares(retries)
    return InMemoryBroker(max_async_tasks=JOBS_AT_ONCE).with_middlewares(retries)


broker = make_broker(get_settings().redis_url, get_settings().job_redeliver_seconds)


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
    """The pipeline's jobs (``conversations.jobs.Jobs``) as tasks on this broker.

    A turn, a delivery or a webhook event that cannot be enqueued (Redis is away) is only logged: what
    it is for is stored already (the customer's message, the outbox job), and the periodic sweep
    (``runtime.sweeps``) enqueues it again, so the caller (a customer's POST) does not fail."""

    async def run_turn(self, message_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(run_turn_task, str(message_id))

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(deliver_message_task, str(message_id))

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(deliver_webhook_task, str(delivery_id))

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await ingest_upload_task.kiq(str(tenant_id), str(document_id))


async def _enqueue_or_leave_to_sweep(task: AsyncTaskiqDecoratedTask[..., Any], ref_id: str) -> None:
    try:
        await task.kiq(ref_id)
    except SendTaskError as exc:
        log.warning(
            "job.enqueue_failed", job=task.task_name, ref_id=ref_id, error=type(exc.__cause__).__name__
        )

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
from collections.abc import Sequence
from typing import Any

import structlog
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, Context, InMemoryBroker, TaskiqDepends
from taskiq.exceptions import SendTaskError

from conversations.dead_letters import give_up_ingest, give_up_turn, record_malformed
from conversations.delivery import deliver_message
from conversations.services import Services
from conversations.turn import run_turn
from core.settings import get_settings
from core.tracing import continued_trace, trace_carrier
from integrations.webhooks import deliver_webhook
from knowledge.uploads import process_upload
from runtime.job_failures import UNDECODABLE_TASK, DeadLetters, GiveUp, Retries, TolerantFormatter, job_id
from runtime.redis_stream import ResilientStreamBroker

log = structlog.get_logger(__name__)

JOBS_AT_ONCE = 1000
"""Jobs one process runs at once: they mostly wait (an LLM, a channel), and turns are bounded apart
(``Services.turn_slots``); taskiq's default of 30 would queue a burst of customers behind each other."""
QUEUE = "atende:jobs"
TRIES = 3
"""A turn's tries (the first and two retries) before it is a dead letter and goes to a human."""
RUN_TURN, INGEST_UPLOAD = "atende.run_turn", "atende.ingest_upload"
REDIS_CONNECT_SECONDS, REDIS_ANSWER_SECONDS = 5, 10
"""A Redis that does not answer fails a call after this long (longer than a read's 2 s block)."""


async def _give_up_turn(services: Services, task: str, args: Sequence[Any], error: str, tries: int) -> None:
    if len(args) != 1:
        await record_malformed(services, task, args, f"takes one message_id, got {len(args)} arguments")
        return
    await give_up_turn(services, task, job_id("message_id", args[0]), error, tries)


async def _give_up_ingest(services: Services, task: str, args: Sequence[Any], error: str, tries: int) -> None:
    if len(args) != 2:
        await record_malformed(
            services, task, args, f"takes tenant_id and document_id, got {len(args)} arguments"
        )
        return
    tenant_id, document_id = job_id("tenant_id", args[0]), job_id("document_id", args[1])
    await give_up_ingest(services, task, tenant_id, document_id, error, tries)


GIVE_UPS: dict[str, GiveUp] = {RUN_TURN: _give_up_turn, INGEST_UPLOAD: _give_up_ingest}
"""What a job given up on leads to, by task; deliveries have the outbox (``core.outbox``) for that."""


def make_broker(redis_url: str | None, redeliver_seconds: float) -> AsyncBroker:
    """``redeliver_seconds``: a job taken but not acknowledged for this long goes to another worker.
    (taskiq-redis looks for such jobs after each read that brought new ones; the periodic sweep of
    unanswered messages, ``runtime.sweeps``, is the backstop for a quiet queue.)"""
    retries = Retries(default_retry_count=TRIES, default_delay=1, use_jitter=True, use_delay_exponent=True)
    dead_letters = DeadLetters(TRIES, GIVE_UPS)
    made: AsyncBroker
    if redis_url:
        made = ResilientStreamBroker(
            redis_url,
            queue_name=QUEUE,
            consumer_id="0",  # a group declared again (Redis came back empty) reads what came meanwhile
            idle_timeout=int(redeliver_seconds * 1000),
            unacknowledged_lock_timeout=30,
            socket_connect_timeout=REDIS_CONNECT_SECONDS,
            socket_timeout=REDIS_ANSWER_SECONDS,
        )
    else:
        made = InMemoryBroker(max_async_tasks=JOBS_AT_ONCE)
    return made.with_middlewares(retries, dead_letters).with_formatter(TolerantFormatter(made))


broker = make_broker(get_settings().redis_url, get_settings().job_redeliver_seconds)


@broker.task(task_name=RUN_TURN, retry_on_error=True)
async def run_turn_task(message_id: str, context: Context = TaskiqDepends()) -> dict[str, Any]:
    """The agent's turn for a stored inbound message, as a job (retried with backoff on errors; after
    the last try, a dead letter and the message handed to a human); its spans continue the trace of
    the request that received the message (``traceparent`` label)."""
    message = job_id("message_id", message_id)
    services: Services = context.state.services
    with continued_trace(context.message.labels):
        async with services.turn_slots:
            result = await run_turn(services, message)
    return result.as_dict()


@broker.task(task_name="atende.deliver_message")
async def deliver_message_task(message_id: str, context: Context = TaskiqDepends()) -> str:
    """Hand an outbound message to its channel through its outbox job (claimed, sent with nothing
    locked, retried after short waits; the sweep takes longer ones; then failed and dead)."""
    return await deliver_message(context.state.services, job_id("message_id", message_id))


@broker.task(task_name="atende.deliver_webhook")
async def deliver_webhook_task(delivery_id: str, context: Context = TaskiqDepends()) -> str:
    """POST one event to a webhook subscriber through its outbox job (as ``deliver_message_task``)."""
    return await deliver_webhook(context.state.services, job_id("delivery_id", delivery_id))


@broker.task(task_name=INGEST_UPLOAD)
async def ingest_upload_task(tenant_id: str, document_id: str, context: Context = TaskiqDepends()) -> str:
    """Parse and embed an uploaded document (a crash is a dead letter, the document shown failed)."""
    tenant, document = job_id("tenant_id", tenant_id), job_id("document_id", document_id)
    services = context.state.services
    return await process_upload(
        services.database.sessionmaker,
        services.embedder,
        tenant,
        document,
        services.settings.uploads_dir,
        services.settings.parse_limits,
    )


@broker.task(task_name=UNDECODABLE_TASK)
async def undecodable_task(task_name: str, reason: str, context: Context = TaskiqDepends()) -> str:
    """A queue entry that was no job we know (see ``TolerantFormatter``): kept as malformed, and done."""
    await record_malformed(context.state.services, task_name or "(unreadable)", [], reason)
    return "malformed"


class BrokerJobs:
    """The pipeline's jobs (``conversations.jobs.Jobs``) as tasks on this broker.

    A job that cannot be enqueued (Redis is away) is only logged: what it is for is stored already (the
    customer's message, the outbox job, the queued upload), and the periodic sweep (``runtime.sweeps``)
    enqueues it again, so the caller (a customer's POST, an upload) does not fail."""

    async def run_turn(self, message_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(run_turn_task, str(message_id), labels=trace_carrier())

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(deliver_message_task, str(message_id))

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(deliver_webhook_task, str(delivery_id))

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        await _enqueue_or_leave_to_sweep(ingest_upload_task, str(tenant_id), str(document_id))


async def _enqueue_or_leave_to_sweep(
    task: AsyncTaskiqDecoratedTask[..., Any], *ids: str, labels: dict[str, str] | None = None
) -> None:
    """``ids``: the job's arguments, the thing it is for last; ``labels``: what the job carries besides
    (a turn: the trace it continues)."""
    try:
        await task.kicker().with_labels(**(labels or {})).kiq(*ids)
    except SendTaskError as exc:
        log.warning(
            "job.enqueue_failed", job=task.task_name, ref_id=ids[-1], error=type(exc.__cause__).__name__
        )

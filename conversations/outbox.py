"""The outbox's jobs by kind: handing due ones to workers, and trying dead ones again.

``core.outbox`` keeps the jobs; this module knows what each kind is (an outbound message,
``conversations.delivery``; a webhook delivery, ``integrations.webhooks``), so a job tried again
takes the status people see with it: the message is pending again in the inbox, the delivery in the
admin's list. ``retry_jobs`` is the one way a dead job is tried again: ``atende jobs retry``, the
inbox's resend and the admin's webhook redeliver all use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.models import DeliveryStatus, Message
from conversations.jobs import Jobs
from core import outbox
from core.errors import ConflictError
from integrations.webhooks import WebhookDelivery, WebhookStatus

log = structlog.get_logger(__name__)


async def retry_jobs(session: AsyncSession, job_ids: Sequence[uuid.UUID] | None) -> list[outbox.OutboxJob]:
    """Dead jobs pending again (``None``: every dead job), and what they send with them: the message
    ``pending`` without its error, the webhook delivery ``pending`` with a fresh count of tries. In the
    caller's transaction; after its commit, ``enqueue_jobs`` (or the server's sweep) sends them."""
    jobs = await outbox.retry(session, job_ids)
    messages = [job.ref_id for job in jobs if job.kind == outbox.JobKind.MESSAGE]
    deliveries = [job.ref_id for job in jobs if job.kind == outbox.JobKind.WEBHOOK]
    if messages:
        await session.execute(
            update(Message)
            .where(Message.id.in_(messages))
            .values(delivery_status=DeliveryStatus.PENDING, delivery_error=None)
        )
    if deliveries:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(deliveries))
            .values(status=WebhookStatus.PENDING, attempts=0)
        )
    return jobs


async def retry_job_of(session: AsyncSession, kind: str, ref_id: uuid.UUID) -> outbox.OutboxJob:
    """``retry_jobs`` for the job that sends this message or webhook delivery."""
    job = await outbox.job_of(session, kind, ref_id)
    if job is None:
        raise ConflictError(f"{kind} {ref_id} has nothing to send again")
    return (await retry_jobs(session, [job.id]))[0]


async def enqueue_jobs(jobs: Jobs, due: Iterable[tuple[str, uuid.UUID]]) -> None:
    """A worker for each job (a job already taken, or not due, is left alone by the worker)."""
    for kind, ref_id in due:
        if kind == outbox.JobKind.MESSAGE:
            await jobs.deliver_message(ref_id)
        elif kind == outbox.JobKind.WEBHOOK:
            await jobs.deliver_webhook(ref_id)
        else:
            log.error("outbox.unknown_kind", kind=kind, ref_id=str(ref_id))


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: Jobs, *, overdue_seconds: float = 0
) -> int:
    """Hand to workers the jobs nobody is working on (see ``core.outbox.due``); how many."""
    due = await outbox.due(sessionmaker, overdue_seconds=overdue_seconds)
    await enqueue_jobs(jobs, due)
    return len(due)

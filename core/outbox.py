"""The one transactional outbox: every outbound message and webhook event leaves through a row here.

A job is written in the same transaction as the thing it sends (a message, a webhook delivery), so
nothing is sent that was not committed and nothing committed is lost. ``(kind, ref_id)`` is unique:
enqueueing the same thing twice makes one job, and a job handed to two workers is sent once.

Sending is three steps, none holding a lock or a transaction across the network or a wait:

1. ``claim``: a short transaction marks a due job ``sending`` with a lease (``claimed_until``) and
   counts the attempt. Due means ``pending`` and past ``next_attempt_at``, or ``sending`` with the
   lease run out (the process that claimed it died mid-send).
2. the send, by the job's kind (``conversations.delivery``, ``integrations.webhooks``), with no
   transaction open.
3. ``finish``, in the caller's short transaction that also moves the domain's status: ``done``;
   ``pending`` again after a doubling wait (or what the receiver asked for); or, after the last
   attempt or a failure not worth repeating, ``dead`` with its error, for an admin to list
   (``atende jobs failed``) and try again (``retry``, what ``atende jobs retry``, the inbox's resend
   and the webhook redeliver all come down to).

A finish only counts for the claim it answers (same attempt, still ``sending``): a worker whose lease
ran out and was taken over changes nothing. The errors kept are bounded, with addresses and personal
data masked: they say why, never what was sent.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.errors import ConflictError, NotFoundError
from core.metrics import DELIVERIES
from core.pii import mask_personal_data

log = structlog.get_logger(__name__)

MAX_ERROR_LENGTH = 500
INLINE_WAIT_SECONDS = 60.0
"""A worker waits (holding nothing) for a next attempt this close; later ones are left to the sweep."""


class JobKind:
    MESSAGE = "message"
    """``ref_id`` is a ``messages.id``: an outbound message for its channel."""
    WEBHOOK = "webhook"
    """``ref_id`` is a ``webhook_deliveries.id``: one event for one subscriber."""


class JobStatus:
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    DEAD = "dead"


class OutboxJob(UUIDv7AuditBase):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_outbox_kind_ref_id"),
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_leased", "claimed_until", postgresql_where=text("status = 'sending'")),
        Index("ix_outbox_dead", "updated_at", postgresql_where=text("status = 'dead'")),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(
        DateTimeUTC(timezone=True), server_default=func.now()
    )
    """The database's clock decides when a job is due, whichever process asks."""
    claimed_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def bounded_error(error: str) -> str:
    """What is kept of an error: addresses (which can carry tokens) and personal data masked, one line,
    at most ``MAX_ERROR_LENGTH`` characters."""
    masked = mask_personal_data(_URL.sub("[url]", " ".join(error.split())))
    return masked if len(masked) <= MAX_ERROR_LENGTH else masked[: MAX_ERROR_LENGTH - 1] + "…"


def send_limit(lease_seconds: float) -> float:
    """How long one send may take: well inside the lease, so no one else takes the job meanwhile."""
    return lease_seconds * 0.75


def new_job(tenant_id: uuid.UUID, kind: str, ref_id: uuid.UUID) -> OutboxJob:
    """A job to add to the session that writes what it sends (one new row: nothing to collide with)."""
    return OutboxJob(tenant_id=tenant_id, kind=kind, ref_id=ref_id, status=JobStatus.PENDING, attempts=0)


async def enqueue(
    session: AsyncSession, tenant_id: uuid.UUID, kind: str, ref_ids: Sequence[uuid.UUID]
) -> None:
    """Jobs for these refs in the caller's transaction; a ref that already has one keeps it."""
    if not ref_ids:
        return
    await session.execute(
        insert(OutboxJob)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant_id,
                    "kind": kind,
                    "ref_id": ref_id,
                    "status": JobStatus.PENDING,
                    "attempts": 0,
                    "created_at": func.now(),
                    "updated_at": func.now(),
                }
                for ref_id in ref_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["kind", "ref_id"])
    )


@dataclass(frozen=True)
class Claim:
    """A job taken for one attempt (its number is ``attempts``) until ``claimed_until``."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    ref_id: uuid.UUID
    attempts: int


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed, as kept (see ``bounded_error``); ``retry_after``: what the receiver asked."""

    error: str
    retryable: bool = True
    retry_after: float | None = None


@dataclass(frozen=True)
class Backoff:
    """How many attempts, and the waits between them: ``first``, doubling, at most ``longest`` (unless the
    receiver asks for longer)."""

    attempts: int
    first: float
    longest: float

    def wait(self, attempt: int, asked: float | None = None) -> float:
        doubling = min(self.longest, self.first * 2 ** max(0, attempt - 1))
        return float(max(asked or 0.0, doubling))


@dataclass(frozen=True)
class Finished:
    """Where an attempt left its job; ``wait``: seconds until the next one (pending only)."""

    status: str
    wait: float | None = None


def due_now() -> ColumnElement[bool]:
    """A job that may be claimed now: pending and past its next attempt, or sending on a lease run out."""
    return or_(
        and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.next_attempt_at <= func.now()),
        and_(OutboxJob.status == JobStatus.SENDING, OutboxJob.claimed_until < func.now()),
    )


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], kind: str, ref_id: uuid.UUID, lease_seconds: float
) -> Claim | None:
    """Take the job of this ref if it is due, in its own short transaction; None when it is not (done,
    dead, waiting for its next attempt, or being sent by someone whose lease still runs)."""
    async with sessionmaker.begin() as session:
        row = (
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.kind == kind, OutboxJob.ref_id == ref_id, due_now())
                .values(
                    status=JobStatus.SENDING,
                    claimed_until=func.now() + datetime.timedelta(seconds=lease_seconds),
                    attempts=OutboxJob.attempts + 1,
                    updated_at=func.now(),
                )
                .returning(OutboxJob.id, OutboxJob.tenant_id, OutboxJob.attempts)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
    if row is None:
        return None
    return Claim(row.id, row.tenant_id, kind, ref_id, row.attempts)


async def finish(
    session: AsyncSession, claim: Claim, failure: Failure | None, backoff: Backoff
) -> Finished | None:
    """Record how the claimed attempt went, in the caller's transaction (which moves the domain's status
    with it); None when the claim was lost (its lease ran out and another worker took the job)."""
    values: dict[str, object]
    if failure is None:
        finished = Finished(JobStatus.DONE)
        values = {"status": JobStatus.DONE, "last_error": None}
    elif not failure.retryable or claim.attempts >= max(1, backoff.attempts):
        finished = Finished(JobStatus.DEAD)
        values = {"status": JobStatus.DEAD, "last_error": bounded_error(failure.error)}
    else:
        wait = backoff.wait(claim.attempts, failure.retry_after)
        finished = Finished(JobStatus.PENDING, wait)
        values = {
            "status": JobStatus.PENDING,
            "last_error": bounded_error(failure.error),
            "next_attempt_at": func.now() + datetime.timedelta(seconds=wait),
        }
    updated = await session.scalar(
        update(OutboxJob)
        .where(
            OutboxJob.id == claim.id,
            OutboxJob.status == JobStatus.SENDING,
            OutboxJob.attempts == claim.attempts,
        )
        .values(claimed_until=None, updated_at=func.now(), **values)
        .returning(OutboxJob.id)
        .execution_options(synchronize_session=False)
    )
    if updated is None:
        log.warning("outbox.claim_lost", job_id=str(claim.id), kind=claim.kind, attempt=claim.attempts)
        DELIVERIES.labels(claim.kind, "lost").inc()
        return None
    DELIVERIES.labels(claim.kind, _SHOWN_AS[finished.status]).inc()
    return finished


_SHOWN_AS = {JobStatus.DONE: "sent", JobStatus.PENDING: "retrying", JobStatus.DEAD: "dead"}
"""How an attempt's end is counted (``core.metrics.DELIVERIES``)."""


async def work(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: str,
    ref_id: uuid.UUID,
    lease_seconds: float,
    attempt: Callable[[Claim], Awaitable[Finished | None]],
) -> str:
    """Claim the job and make attempts while it stays due soon: between two, the worker sleeps holding
    nothing; a longer wait is left to the sweep (``due``). Returns the status it was left in, or
    ``not due`` when there was nothing to take."""
    status = "not due"
    while (claimed := await claim(sessionmaker, kind, ref_id, lease_seconds)) is not None:
        finished = await attempt(claimed)
        if finished is None:
            return "lost"
        status = finished.status
        if finished.wait is None or finished.wait > INLINE_WAIT_SECONDS:
            break
        await asyncio.sleep(finished.wait)
    return status


async def due(
    sessionmaker: async_sessionmaker[AsyncSession], *, overdue_seconds: float = 0, limit: int = 1000
) -> list[tuple[str, uuid.UUID]]:
    """Jobs nobody is working on: pending and due for ``overdue_seconds`` already (a fresh one has its
    worker queued), or sending on a lease run out. The sweep hands them to workers."""
    overdue = func.now() - datetime.timedelta(seconds=overdue_seconds)
    async with sessionmaker() as session:
        rows = await session.execute(
            select(OutboxJob.kind, OutboxJob.ref_id)
            .where(
                or_(
                    and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.next_attempt_at <= overdue),
                    and_(OutboxJob.status == JobStatus.SENDING, OutboxJob.claimed_until < func.now()),
                )
            )
            .order_by(OutboxJob.next_attempt_at)
            .limit(limit)
        )
        return [(kind, ref_id) for kind, ref_id in rows.tuples()]


async def job_of(session: AsyncSession, kind: str, ref_id: uuid.UUID) -> OutboxJob | None:
    return await session.scalar(select(OutboxJob).where(OutboxJob.kind == kind, OutboxJob.ref_id == ref_id))


async def dead_jobs(
    session: AsyncSession, tenant_id: uuid.UUID | None = None, limit: int = 1000
) -> list[OutboxJob]:
    """The jobs given up on (of one tenant, or all), the latest first."""
    query = select(OutboxJob).where(OutboxJob.status == JobStatus.DEAD)
    if tenant_id is not None:
        query = query.where(OutboxJob.tenant_id == tenant_id)
    return list(await session.scalars(query.order_by(OutboxJob.updated_at.desc()).limit(limit)))


async def retry(session: AsyncSession, job_ids: Sequence[uuid.UUID] | None) -> list[OutboxJob]:
    """Dead jobs pending again, due now, with a fresh count of attempts (``None``: every dead job). A job
    that does not exist, or is not dead, is refused naming it (``id``); nothing is changed then."""
    query = update(OutboxJob).where(OutboxJob.status == JobStatus.DEAD)
    if job_ids is not None:
        found = dict(
            (
                await session.execute(
                    select(OutboxJob.id, OutboxJob.status).where(OutboxJob.id.in_(job_ids)).with_for_update()
                )
            )
            .tuples()
            .all()
        )
        for job_id in job_ids:
            if job_id not in found:
                raise NotFoundError(f"no job {job_id}", field="id")
            if found[job_id] != JobStatus.DEAD:
                raise ConflictError(
                    f"job {job_id} is {found[job_id]}: only dead jobs are tried again", field="id"
                )
        query = query.where(OutboxJob.id.in_(job_ids))
    retried = await session.scalars(
        query.values(
            status=JobStatus.PENDING,
            attempts=0,
            next_attempt_at=func.now(),
            claimed_until=None,
            last_error=None,
            updated_at=func.now(),
        )
        .returning(OutboxJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    jobs = list(retried)
    log.info("outbox.retried", jobs=len(jobs))
    return jobs


async def mark_dead(session: AsyncSession, kind: str, ref_id: uuid.UUID, error: str) -> None:
    """The receiver reported, after taking it, that a sent job failed (a WhatsApp message that never
    arrived): dead like one given up on, so it can be tried again the same way."""
    await session.execute(
        update(OutboxJob)
        .where(OutboxJob.kind == kind, OutboxJob.ref_id == ref_id, OutboxJob.status == JobStatus.DONE)
        .values(status=JobStatus.DEAD, last_error=bounded_error(error), updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def forget(session: AsyncSession, kind: str, ref_ids: Sequence[uuid.UUID]) -> None:
    """The jobs of refs that are being deleted (a webhook subscription's deliveries)."""
    if ref_ids:
        await session.execute(
            delete(OutboxJob)
            .where(OutboxJob.kind == kind, OutboxJob.ref_id.in_(ref_ids))
            .execution_options(synchronize_session=False)
        )

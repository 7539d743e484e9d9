"""Jobs given up on, whatever kept them: what happens when a job dies, one list of them, and the one
way to replay them.

Outbound messages and webhook events die in the outbox (``core.outbox``); turns and ingests in the
dead letters (``core.dead_letters``). A turn given up on is not a silent drop: the message goes to a
human (``turn.escalate_turn``), and the sweep leaves it alone until an admin replays it. ``atende jobs
failed`` / ``retry`` and the admin's page list and replay both through ``failed_jobs`` and ``replay``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.models import Message
from conversations.jobs import Jobs
from conversations.outbox import enqueue_jobs, retry_jobs
from conversations.services import Services
from conversations.turn import escalate_turn
from core import dead_letters, outbox
from core.dead_letters import DeadLetter, LetterKind, LetterStatus, job_error
from knowledge.uploads import give_up_upload, requeue_upload

log = structlog.get_logger(__name__)


async def give_up_turn(
    services: Services, task_name: str, message_id: uuid.UUID, error: str, attempts: int
) -> None:
    """The turn's last try failed: a dead letter, then the message to a human. If handing off fails
    too (the fault is in what both write), the letter still keeps the sweep away until a replay."""
    async with services.database.sessionmaker() as session:
        tenant_id = await session.scalar(select(Message.tenant_id).where(Message.id == message_id))
    if tenant_id is None:
        await record_malformed(services, task_name, [message_id], f"message_id: no message {message_id}")
        return
    await dead_letters.record(
        services.database.sessionmaker,
        kind=LetterKind.TURN,
        task_name=task_name,
        args=[message_id],
        error=error,
        attempts=attempts,
        tenant_id=tenant_id,
        ref_id=message_id,
    )
    try:
        await escalate_turn(services, message_id, f"the bot failed {attempts} times: {error}")
    except Exception as exc:
        log.error("turn.escalation_failed", message_id=str(message_id), error=job_error(exc))


async def give_up_ingest(
    services: Services,
    task_name: str,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    error: str,
    attempts: int,
) -> None:
    """The ingest crashed: a dead letter, and the document shown failed with why."""
    await dead_letters.record(
        services.database.sessionmaker,
        kind=LetterKind.INGEST,
        task_name=task_name,
        args=[tenant_id, document_id],
        error=error,
        attempts=attempts,
        tenant_id=tenant_id,
        ref_id=document_id,
    )
    await give_up_upload(services.database.sessionmaker, tenant_id, document_id, error)


async def record_malformed(services: Services, task_name: str, args: Sequence[object], error: str) -> None:
    """A job whose payload cannot be read: kept (ids cut short, no body) for the operator to see."""
    await dead_letters.record(
        services.database.sessionmaker,
        kind=LetterKind.MALFORMED,
        task_name=task_name,
        args=args,
        error=error,
        attempts=1,
    )


@dataclass(frozen=True)
class FailedJob:
    """One job given up on, from the outbox or the dead letters."""

    id: uuid.UUID
    kind: str
    """message, webhook (the outbox); turn, ingest, malformed (the dead letters)."""
    ref_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    attempts: int
    error: str | None
    created_at: datetime.datetime
    failed_at: datetime.datetime
    replayable: bool = True
    replaying: bool = False
    """Asked for again, not yet handed to a worker."""

    @classmethod
    def of_outbox(cls, job: outbox.OutboxJob) -> FailedJob:
        return cls(
            job.id,
            job.kind,
            job.ref_id,
            job.tenant_id,
            job.attempts,
            job.last_error,
            job.created_at,
            job.updated_at,
        )

    @classmethod
    def of_letter(cls, letter: DeadLetter) -> FailedJob:
        return cls(
            letter.id,
            letter.kind,
            letter.ref_id,
            letter.tenant_id,
            letter.attempts,
            letter.error,
            letter.created_at,
            letter.updated_at,
            replayable=letter.replayable,
            replaying=letter.status == LetterStatus.REPLAY,
        )


async def failed_jobs(
    session: AsyncSession, tenant_id: uuid.UUID | None = None, limit: int = 1000
) -> list[FailedJob]:
    """Every job given up on (of one tenant, or all), the latest failure first."""
    jobs = [FailedJob.of_outbox(job) for job in await outbox.dead_jobs(session, tenant_id, limit)]
    jobs += [
        FailedJob.of_letter(letter) for letter in await dead_letters.dead_letters(session, tenant_id, limit)
    ]
    return sorted(jobs, key=lambda job: job.failed_at, reverse=True)[:limit]


@dataclass
class Replayed:
    """What a replay changed: ids of the jobs, and the outbox's to hand to workers after the commit."""

    ids: list[uuid.UUID] = field(default_factory=list)
    outbox_due: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)


async def replay(
    session: AsyncSession, job_ids: Sequence[uuid.UUID] | None, tenant_id: uuid.UUID | None = None
) -> Replayed:
    """Try failed jobs again, in the caller's transaction (``None``: all of them, of the tenant when one
    is given, malformed ones excepted). A job that is missing (or another tenant's), not dead, or
    malformed is refused naming it (``id``). After the commit, ``hand_out`` gives them to workers; a
    process that cannot enqueue leaves them to the sweep."""
    query = select(outbox.OutboxJob.id).where(outbox.OutboxJob.status == outbox.JobStatus.DEAD)
    if tenant_id is not None:
        query = query.where(outbox.OutboxJob.tenant_id == tenant_id)
    if job_ids is not None:
        owned = select(outbox.OutboxJob.id).where(outbox.OutboxJob.id.in_(job_ids))
        if tenant_id is not None:
            owned = owned.where(outbox.OutboxJob.tenant_id == tenant_id)
        in_outbox = set(await session.scalars(owned))
        outbox_ids = [job_id for job_id in job_ids if job_id in in_outbox]
        letter_ids: list[uuid.UUID] | None = [job_id for job_id in job_ids if job_id not in in_outbox]
    else:
        outbox_ids, letter_ids = list(await session.scalars(query)), None
    retried = await retry_jobs(session, outbox_ids) if outbox_ids else []
    letters = await dead_letters.request_replay(session, letter_ids, tenant_id) if letter_ids != [] else []
    replayed = Replayed(
        ids=[job.id for job in retried] + [letter.id for letter in letters],
        outbox_due=[(job.kind, job.ref_id) for job in retried],
        letters=letters,
    )
    log.info("jobs.replayed", outbox=len(retried), letters=len(letters))
    return replayed


async def hand_out(sessionmaker: async_sessionmaker[AsyncSession], jobs: Jobs, replayed: Replayed) -> None:
    """After a replay's commit, in a process that can enqueue: a worker for each job at once."""
    await enqueue_jobs(jobs, replayed.outbox_due)
    await _hand_out_letters(sessionmaker, jobs, replayed.letters)


async def hand_out_replays(sessionmaker: async_sessionmaker[AsyncSession], jobs: Jobs) -> int:
    """The sweep's part: the dead letters an admin asked to replay that no process handed out yet (the
    command line cannot enqueue). How many."""
    return await _hand_out_letters(sessionmaker, jobs, await dead_letters.to_replay(sessionmaker))


async def _hand_out_letters(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: Jobs, letters: Sequence[DeadLetter]
) -> int:
    """Enqueue the letters' jobs, then forget the letters (a replay that fails again is a new letter;
    one handed out twice meanwhile runs once, as every job may)."""
    handed: list[uuid.UUID] = []
    for letter in letters:
        if letter.ref_id is None:
            continue
        if letter.kind == LetterKind.TURN:
            await jobs.run_turn(letter.ref_id)
        elif letter.kind == LetterKind.INGEST and letter.tenant_id is not None:
            await requeue_upload(sessionmaker, letter.tenant_id, letter.ref_id)
            await jobs.ingest_upload(letter.tenant_id, letter.ref_id)
        else:
            log.error("dead_letters.unknown_kind", kind=letter.kind, letter_id=str(letter.id))
            continue
        handed.append(letter.id)
    await dead_letters.forget(sessionmaker, handed)
    return len(handed)

"""Dead letters: the broker's jobs given up on, kept with why, for an admin to list and replay.

The outbox (``core.outbox``) keeps its own dead jobs; this table keeps the other jobs a worker runs
(a customer message's turn, an upload's ingest) once their last try failed, and jobs whose payload
could not be read at all. A row names the task, its arguments (ids, bounded: never a message's text),
the error (bounded, addresses and personal data masked), how many tries, and the tenant when known.

One row per task and thing (``task_name``, ``ref_id``): a job given up on twice is one letter. A
replay marks the row ``replay``; whoever can enqueue (the server that was asked, or the periodic
sweep) hands it to a worker and then forgets the row, so a replay that fails again is a new letter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import (
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.errors import ConflictError, NotFoundError
from core.outbox import bounded_error

log = structlog.get_logger(__name__)

MAX_ARGS, MAX_ARG_LENGTH = 4, 64


class LetterKind:
    TURN = "turn"
    """``ref_id`` is a customer message (``messages.id``) whose turn failed on every try."""
    INGEST = "ingest"
    """``ref_id`` is an uploaded document (``documents.id``) whose ingest failed."""
    MALFORMED = "malformed"
    """A job whose payload could not be read (not a taskiq message, an unknown task, a bad id)."""


class LetterStatus:
    DEAD = "dead"
    REPLAY = "replay"
    """An admin asked for it again: the next hand-out enqueues it and forgets the row."""


class DeadLetter(UUIDv7AuditBase):
    __tablename__ = "dead_letters"
    __table_args__ = (
        UniqueConstraint("task_name", "ref_id", name="uq_dead_letters_task_name_ref_id"),
        Index("ix_dead_letters_updated_at", "updated_at"),
        Index("ix_dead_letters_replay", "created_at", postgresql_where=text("status = 'replay'")),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    task_name: Mapped[str] = mapped_column(String(100))
    ref_id: Mapped[uuid.UUID | None] = mapped_column()
    args: Mapped[list[str]] = mapped_column(JSONB, default=list)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=LetterStatus.DEAD)

    @property
    def replayable(self) -> bool:
        """A malformed job would fail the same way again: it is listed, never replayed."""
        return self.kind != LetterKind.MALFORMED and self.ref_id is not None


def job_error(exc: BaseException) -> str:
    """What is kept of a job's exception: its type and the first line of its message, bounded. A
    database error keeps the driver's message only, never the statement's parameters (texts)."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        exc = exc.orig
    first_line = next(iter(str(exc).splitlines()), "").strip()
    return bounded_error(f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__)


def bounded_args(args: Sequence[object]) -> list[str]:
    """A job's arguments as kept: a few, each cut short (they are ids; anything else is not kept whole)."""
    kept = [str(arg) for arg in args[:MAX_ARGS]]
    return [arg if len(arg) <= MAX_ARG_LENGTH else arg[: MAX_ARG_LENGTH - 1] + "…" for arg in kept]


async def record(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    kind: str,
    task_name: str,
    args: Sequence[object],
    error: str,
    attempts: int,
    tenant_id: uuid.UUID | None = None,
    ref_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Keep a job given up on, in its own short transaction; the same task and thing again updates its
    letter (dead again, the newest error and tries). Returns the letter's id."""
    values = {
        "tenant_id": tenant_id,
        "kind": kind,
        "task_name": task_name[:100],
        "ref_id": ref_id,
        "args": bounded_args(args),
        "error": bounded_error(error),
        "attempts": attempts,
        "status": LetterStatus.DEAD,
    }
    statement = insert(DeadLetter).values(
        id=uuid.uuid4(), created_at=func.now(), updated_at=func.now(), **values
    )
    async with sessionmaker.begin() as session:
        letter_id = await session.scalar(
            statement.on_conflict_do_update(
                constraint="uq_dead_letters_task_name_ref_id",
                set_={
                    "error": statement.excluded.error,
                    "attempts": statement.excluded.attempts,
                    "status": LetterStatus.DEAD,
                    "updated_at": func.now(),
                },
            ).returning(DeadLetter.id)
        )
    assert isinstance(letter_id, uuid.UUID)
    log.warning("job.dead", kind=kind, task=task_name, attempts=attempts, letter_id=str(letter_id))
    return letter_id


async def dead_letters(
    session: AsyncSession, tenant_id: uuid.UUID | None = None, limit: int = 1000
) -> list[DeadLetter]:
    """The letters (of one tenant, or all), the latest first."""
    query = select(DeadLetter)
    if tenant_id is not None:
        query = query.where(DeadLetter.tenant_id == tenant_id)
    return list(await session.scalars(query.order_by(DeadLetter.updated_at.desc()).limit(limit)))


async def find(
    session: AsyncSession, letter_ids: Sequence[uuid.UUID], tenant_id: uuid.UUID | None = None
) -> list[DeadLetter]:
    """The letters of these ids that exist (and are the tenant's, when one is given)."""
    query = select(DeadLetter).where(DeadLetter.id.in_(letter_ids))
    if tenant_id is not None:
        query = query.where(DeadLetter.tenant_id == tenant_id)
    return list(await session.scalars(query))


async def request_replay(
    session: AsyncSession, letter_ids: Sequence[uuid.UUID] | None, tenant_id: uuid.UUID | None = None
) -> list[DeadLetter]:
    """Mark letters to be replayed, in the caller's transaction (``None``: every replayable letter,
    of the tenant when one is given). A letter that is missing, or malformed, is refused naming it
    (``id``); nothing is changed then."""
    query = update(DeadLetter).where(DeadLetter.kind != LetterKind.MALFORMED, DeadLetter.ref_id.is_not(None))
    if tenant_id is not None:
        query = query.where(DeadLetter.tenant_id == tenant_id)
    if letter_ids is not None:
        found = {letter.id: letter for letter in await find(session, letter_ids, tenant_id)}
        for letter_id in letter_ids:
            if letter_id not in found:
                raise NotFoundError(f"no job {letter_id}", field="id")
            if not found[letter_id].replayable:
                raise ConflictError(
                    f"job {letter_id} is malformed: it would fail the same way again", field="id"
                )
        query = query.where(DeadLetter.id.in_(letter_ids))
    marked = await session.scalars(
        query.values(status=LetterStatus.REPLAY, updated_at=func.now())
        .returning(DeadLetter)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list(marked)


async def to_replay(sessionmaker: async_sessionmaker[AsyncSession], limit: int = 1000) -> list[DeadLetter]:
    """The letters an admin asked to replay that nobody has handed to a worker yet, oldest first."""
    async with sessionmaker() as session:
        return list(
            await session.scalars(
                select(DeadLetter)
                .where(DeadLetter.status == LetterStatus.REPLAY)
                .order_by(DeadLetter.created_at)
                .limit(limit)
            )
        )


async def forget(sessionmaker: async_sessionmaker[AsyncSession], letter_ids: Sequence[uuid.UUID]) -> None:
    """Letters handed to a worker again: if the job fails again, it is a new letter."""
    if letter_ids:
        async with sessionmaker.begin() as session:
            await session.execute(
                delete(DeadLetter)
                .where(DeadLetter.id.in_(letter_ids), DeadLetter.status == LetterStatus.REPLAY)
                .execution_options(synchronize_session=False)
            )


def given_up(kind: str) -> Select[uuid.UUID | None]:
    """The refs of a kind's letters, for queries that must leave them alone (the sweep's)."""
    return select(DeadLetter.ref_id).where(DeadLetter.kind == kind, DeadLetter.ref_id.is_not(None))

"""What is waiting: customer messages no turn has handled yet, and outbox jobs not sent yet.

*Unanswered* is defined once (``conversations.unanswered``), for the sweep that hands lost turns to
workers and for the gauges ``GET /metrics`` reads at each scrape (``refresh_backlog``).
The gauges are read from the database, not counted by a process, so every web process reports the
same cluster-wide numbers: take their max, not their sum. Like the sweep, these queries span tenants.
"""

from __future__ import annotations

import datetime

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.models import Message
from conversations.unanswered import unanswered
from core.dead_letters import DeadLetter, LetterKind, LetterStatus
from core.outbox import JobKind, JobStatus, OutboxJob

BACKLOG = CollectorRegistry(auto_describe=True)
"""Apart from the default registry: only the web's /metrics refreshes and serves these."""

UNANSWERED = Gauge(
    "atende_unanswered_messages",
    "Customer messages no turn has handled yet (queued or lost)",
    registry=BACKLOG,
)
UNANSWERED_OLDEST = Gauge(
    "atende_unanswered_oldest_seconds",
    "How long the oldest unanswered customer message has waited (0 when none waits)",
    registry=BACKLOG,
)
OUTBOX_PENDING = Gauge(
    "atende_outbox_pending_jobs",
    "Outbox jobs not sent yet (waiting for an attempt, or in one), by kind",
    ["kind"],
    registry=BACKLOG,
)
OUTBOX_OLDEST = Gauge(
    "atende_outbox_oldest_pending_seconds",
    "How long the oldest outbox job not sent yet has waited since it was written, by kind (0 when none)",
    ["kind"],
    registry=BACKLOG,
)
OUTBOX_DEAD = Gauge(
    "atende_outbox_dead_jobs",
    "Outbox jobs given up on, by kind: listed by atende jobs failed, tried again by atende jobs retry",
    ["kind"],
    registry=BACKLOG,
)
DEAD_LETTERS = Gauge(
    "atende_dead_letters",
    "Broker jobs given up on (turns, ingests, malformed payloads), by kind: the admin's Failed jobs page",
    ["kind"],
    registry=BACKLOG,
)
KINDS = (JobKind.MESSAGE, JobKind.WEBHOOK)
DEAD_LETTER_KINDS = (LetterKind.TURN, LetterKind.INGEST, LetterKind.MALFORMED)
_NOT_SENT = (JobStatus.PENDING, JobStatus.SENDING)


def _age(oldest: ColumnElement[datetime.datetime]) -> ColumnElement[float]:
    """Seconds since ``oldest`` by the database's clock (the one that wrote it); 0 when there is none."""
    return func.coalesce(func.extract("epoch", func.now() - oldest), 0)


async def refresh_backlog(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Set the gauges from the database: two small queries on partial indexes, in one short session."""
    async with sessionmaker() as session:
        waiting, oldest = (
            await session.execute(
                select(func.count(), _age(func.min(Message.created_at))).where(unanswered())
            )
        ).one()
        not_sent = OutboxJob.status.in_(_NOT_SENT)
        by_kind = await session.execute(
            select(
                OutboxJob.kind,
                func.count().filter(not_sent),
                _age(func.min(OutboxJob.created_at).filter(not_sent)),
                func.count().filter(OutboxJob.status == JobStatus.DEAD),
            )
            .where(OutboxJob.status.in_((*_NOT_SENT, JobStatus.DEAD)))
            .group_by(OutboxJob.kind)
        )
        outbox = {kind: (pending, age, dead) for kind, pending, age, dead in by_kind.tuples()}
        letters = await session.execute(
            select(DeadLetter.kind, func.count())
            .where(DeadLetter.status == LetterStatus.DEAD)
            .group_by(DeadLetter.kind)
        )
        dead_letters = dict(letters.tuples().all())  # a Result has keys(): dict() would misread it
    UNANSWERED.set(waiting)
    UNANSWERED_OLDEST.set(float(oldest))
    for kind in {*KINDS, *outbox}:
        pending, age, dead = outbox.get(kind, (0, 0.0, 0))
        OUTBOX_PENDING.labels(kind).set(pending)
        OUTBOX_OLDEST.labels(kind).set(float(age))
        OUTBOX_DEAD.labels(kind).set(dead)
    for kind in {*DEAD_LETTER_KINDS, *dead_letters}:
        DEAD_LETTERS.labels(kind).set(dead_letters.get(kind, 0))

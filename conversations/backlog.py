"""What is waiting: customer messages no turn has handled yet, and outbox jobs not sent yet.

One definition of *unanswered* (an inbound message not ``processed``; the partial index
``ix_messages_unanswered`` covers it) serves the sweep that hands lost turns to workers
(``unanswered_messages``) and the gauges ``GET /metrics`` reads at each scrape (``refresh_backlog``).
The gauges are read from the database, not counted by a process, so every web process reports the
same cluster-wide numbers: take their max, not their sum. Like the sweep, these queries span tenants.
"""

from __future__ import annotations

import datetime
import uuid

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.models import Conversation, Direction, Message
from conversations.services import Services
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
KINDS = (JobKind.MESSAGE, JobKind.WEBHOOK)
_NOT_SENT = (JobStatus.PENDING, JobStatus.SENDING)


def _unanswered() -> ColumnElement[bool]:
    return and_(Message.direction == Direction.INBOUND, Message.processed.is_(False))


def _age(oldest: ColumnElement[datetime.datetime]) -> ColumnElement[float]:
    """Seconds since ``oldest`` by the database's clock (the one that wrote it); 0 when there is none."""
    return func.coalesce(func.extract("epoch", func.now() - oldest), 0)


async def unanswered_messages(
    services: Services, older_than: datetime.timedelta = datetime.timedelta(0)
) -> list[uuid.UUID]:
    """Customer messages stored but never handled, oldest first: their process stopped mid-turn, or
    their job was lost. With ``older_than``, only those that old whose conversation no turn holds (a
    periodic sweep must not enqueue again what is merely waiting in the queue).

    A system sweep across tenants, run when the app starts and periodically (see runtime.sweeps).
    """
    query = select(Message.id).where(_unanswered())
    if older_than:
        query = query.where(
            Message.created_at < func.now() - older_than,
            ~exists().where(
                Conversation.id == Message.conversation_id, Conversation.turn_until >= func.now()
            ),
        )
    async with services.database.sessionmaker() as session:
        return list(await session.scalars(query.order_by(Message.created_at)))


async def refresh_backlog(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Set the gauges from the database: two small queries on partial indexes, in one short session."""
    async with sessionmaker() as session:
        waiting, oldest = (
            await session.execute(
                select(func.count(), _age(func.min(Message.created_at))).where(_unanswered())
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
    UNANSWERED.set(waiting)
    UNANSWERED_OLDEST.set(float(oldest))
    for kind in {*KINDS, *outbox}:
        pending, age, dead = outbox.get(kind, (0, 0.0, 0))
        OUTBOX_PENDING.labels(kind).set(pending)
        OUTBOX_OLDEST.labels(kind).set(float(age))
        OUTBOX_DEAD.labels(kind).set(dead)

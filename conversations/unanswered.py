"""Customer messages nobody answered: what the start-up and periodic sweeps hand to workers again, and
what ``GET /metrics`` counts as waiting (``conversations.backlog``). One definition serves both."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import ColumnElement, and_, exists, func, select

from channels.models import Conversation, Direction, Message
from conversations.services import Services
from core.dead_letters import LetterKind, given_up


def unanswered() -> ColumnElement[bool]:
    """An inbound message no turn has handled (the partial index ``ix_messages_unanswered`` covers it),
    and whose turn was not given up on (a dead letter waits for an admin's replay)."""
    return and_(
        Message.direction == Direction.INBOUND,
        Message.processed.is_(False),
        Message.id.not_in(given_up(LetterKind.TURN)),
    )


async def unanswered_messages(
    services: Services, older_than: datetime.timedelta = datetime.timedelta(0)
) -> list[uuid.UUID]:
    """Customer messages stored but never handled, oldest first: their process stopped mid-turn, or
    their job was lost. With ``older_than``, only those that old whose conversation no turn holds (a
    periodic sweep must not enqueue again what is merely waiting in the queue). A message whose turn
    failed on every try is a dead letter, left to an admin's replay: never swept again and again.

    A system sweep across tenants, run when the app starts and periodically (see runtime.sweeps).
    """
    query = select(Message.id).where(unanswered())
    if older_than:
        query = query.where(
            Message.created_at < func.now() - older_than,
            ~exists().where(
                Conversation.id == Message.conversation_id, Conversation.turn_until >= func.now()
            ),
        )
    async with services.database.sessionmaker() as session:
        return list(await session.scalars(query.order_by(Message.created_at)))

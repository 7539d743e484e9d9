"""Who runs a conversation's turns right now: a lease on the conversation's row, with a fencing token.

Turns of one conversation run one at a time and in order, across every worker process, without a
transaction or a row lock held while the bot waits on an LLM. A turn takes the lease in one short
statement and renews it while it runs; the transaction that stores its reply proves, under the row's
lock, that the lease is still its own (``still_held``). A worker that dies stops renewing, its lease
runs out, and the next turn takes over. Within one process, turns of a conversation queue on a lock
instead of asking the database again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy import func, or_, select, update

from channels.models import Conversation, ConversationMode
from core.database import Database

log = structlog.get_logger(__name__)

LEASE = datetime.timedelta(seconds=30)
"""How long a lease lasts unless renewed: longer than a pause in a healthy process, short enough that a
dead worker's conversations are taken over soon."""
RENEW_EVERY_SECONDS = LEASE.total_seconds() / 3
FIRST_WAIT_SECONDS, LONGEST_WAIT_SECONDS = 0.05, 1.0
"""Between tries to take a lease another process holds: doubling from the first to the longest."""


class LeaseLostError(Exception):
    """The turn's lease ran out and another turn took the conversation: this turn must store nothing."""


@dataclass(frozen=True)
class TurnLease:
    conversation_id: uuid.UUID
    token: uuid.UUID

    def still_held(self, conversation: Conversation) -> None:
        """Call on the conversation read ``FOR UPDATE`` in the transaction about to store the turn."""
        if conversation.turn_token != self.token:
            raise LeaseLostError(str(self.conversation_id))


class _LocalQueues:
    """One asyncio lock per conversation with turns waiting in this process, dropped when unused."""

    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: uuid.UUID) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


_local = _LocalQueues()


async def _take(database: Database, conversation_id: uuid.UUID, token: uuid.UUID) -> bool:
    async with database.sessionmaker.begin() as session:
        taken = await session.scalar(
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                or_(Conversation.turn_until.is_(None), Conversation.turn_until < func.now()),
            )
            .values(turn_token=token, turn_until=func.now() + LEASE)
            .returning(Conversation.id)
        )
    return taken is not None


async def _renew(database: Database, lease: TurnLease) -> None:
    """Every third of the lease, until cancelled; a lease found taken is left alone (the commit will see)."""
    while True:
        await asyncio.sleep(RENEW_EVERY_SECONDS)
        try:
            async with database.sessionmaker.begin() as session:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == lease.conversation_id, Conversation.turn_token == lease.token)
                    .values(turn_until=func.now() + LEASE)
                )
        except Exception as exc:  # the database is away: try again at the next beat
            log.warning("turn_lease.renew_failed", error=type(exc).__name__)


async def _release(database: Database, lease: TurnLease) -> None:
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == lease.conversation_id, Conversation.turn_token == lease.token)
            .values(turn_token=None, turn_until=None)
        )


@contextlib.asynccontextmanager
async def conversation_turns(database: Database, conversation_id: uuid.UUID) -> AsyncIterator[TurnLease]:
    """Hold the conversation's lease for the block: waits while another turn, here or elsewhere, has it."""
    async with _local.hold(conversation_id):
        lease = TurnLease(conversation_id, uuid.uuid4())
        wait = FIRST_WAIT_SECONDS
        while not await _take(database, conversation_id, lease.token):
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)
        renewing = asyncio.create_task(_renew(database, lease))
        try:
            yield lease
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            try:
                await _release(database, lease)
            except Exception as exc:  # the lease runs out by itself
                log.warning("turn_lease.release_failed", error=type(exc).__name__)


class BotOwnership:
    """Whether the bot still owns the conversation, for each piece of a streamed reply: asked of the
    database at most every ``RECHECK_SECONDS``, so a human who takes over stops the stream within that."""

    RECHECK_SECONDS = 0.5

    def __init__(self, database: Database, conversation_id: uuid.UUID) -> None:
        self._database = database
        self._conversation_id = conversation_id
        self._owned = True
        self._checked_at = -self.RECHECK_SECONDS

    async def still_bot(self) -> bool:
        now = time.monotonic()
        if self._owned and now - self._checked_at >= self.RECHECK_SECONDS:
            self._checked_at = now
            async with self._database.reads() as session:
                mode = await session.scalar(
                    select(Conversation.mode).where(Conversation.id == self._conversation_id)
                )
            self._owned = mode == ConversationMode.BOT
        return self._owned

"""Turns given up on (conversations.dead_letters): the message goes to a human, the letter keeps the
sweep away until an admin replays it, and replays stay within the admin's tenant.

The services run in this process against the session's embedded PostgreSQL; the jobs a replay asks for
are noted, not run.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from taskiq import InMemoryBroker, TaskiqMessage, TaskiqResult

from channels.base import InboundMessage
from channels.models import Author, Message
from conversations.dead_letters import (
    failed_jobs,
    give_up_turn,
    hand_out,
    hand_out_replays,
    record_malformed,
    replay,
)
from conversations.receive import accept_on_default_channel
from conversations.services import Services
from conversations.unanswered import unanswered_messages
from core import dead_letters
from core.accounts import Tenant
from core.database import open_database
from core.errors import ConflictError, NotFoundError
from core.settings import Settings
from handoff.models import Ticket
from runtime.broker import GIVE_UPS, RUN_TURN, TRIES
from runtime.job_failures import DeadLetters
from tests.conftest import MakeTenant


class NotedJobs:
    """The pipeline's jobs, noted instead of run."""

    def __init__(self) -> None:
        self.turns: list[uuid.UUID] = []

    async def run_turn(self, message_id: uuid.UUID) -> None:
        self.turns.append(message_id)

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        raise AssertionError("no message is delivered here")

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        raise AssertionError("no webhook is delivered here")

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        raise AssertionError("nothing is ingested here")


async def _customer_message(services: Services, tenant: Tenant, text: str) -> uuid.UUID:
    received = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage(uuid.uuid4().hex, text, uuid.uuid4().hex)
    )
    return received.message_id


async def _letter_of(services: Services, message_id: uuid.UUID) -> uuid.UUID:
    """A turn's dead letter as the broker keeps it when handing off is refused too."""
    async with services.database.sessionmaker() as session:
        tenant_id = await session.scalar(select(Message.tenant_id).where(Message.id == message_id))
    return await dead_letters.record(
        services.database.sessionmaker,
        kind=dead_letters.LetterKind.TURN,
        task_name="atende.run_turn",
        args=[message_id],
        error="RuntimeError: boom",
        attempts=3,
        tenant_id=tenant_id,
        ref_id=message_id,
    )


async def test_a_turn_given_up_on_goes_to_a_human_and_is_listed(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    message_id = await _customer_message(services, tenant, "Meu pedido não chegou")
    await give_up_turn(services, "atende.run_turn", message_id, "RuntimeError: the model host is down", 3)

    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, message_id)
        reply = await session.scalar(select(Message).where(Message.reply_to_id == message_id))
        ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == message.conversation_id))
        [failed] = await failed_jobs(session, tenant.id)
    assert message.processed and message.decision and message.decision["rule"] == "job_failed"
    assert reply is not None and reply.author == Author.BOT, "the customer is told a human will answer"
    assert ticket is not None and "failed 3 times" in ticket.reason
    assert (failed.kind, failed.ref_id, failed.attempts) == ("turn", message_id, 3)
    assert failed.error == "RuntimeError: the model host is down" and failed.replayable
    assert message_id not in await unanswered_messages(services)


async def test_a_dead_turn_is_left_alone_by_the_sweep_until_it_is_replayed(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    message_id = await _customer_message(services, tenant, "Oi, preciso de ajuda")
    letter_id = await _letter_of(services, message_id)
    assert message_id not in await unanswered_messages(services), "not swept again and again"

    jobs = NotedJobs()
    async with services.database.sessionmaker.begin() as session:
        replayed = await replay(session, [letter_id], tenant.id)
    assert replayed.ids == [letter_id]
    await hand_out(services.database.sessionmaker, jobs, replayed)
    assert jobs.turns == [message_id]
    async with services.database.sessionmaker() as session:
        assert await failed_jobs(session, tenant.id) == []
    assert message_id in await unanswered_messages(services)


async def test_replays_stay_within_the_tenant_and_malformed_jobs_are_not_replayed(
    services: Services, make_tenant: MakeTenant
) -> None:
    ours, theirs = await make_tenant(with_kb=False), await make_tenant(with_kb=False)
    our_letter = await _letter_of(services, await _customer_message(services, ours, "um"))
    their_message = await _customer_message(services, theirs, "dois")
    their_letter = await _letter_of(services, their_message)
    await record_malformed(
        services, "atende.run_turn", ["not-an-id"], "message_id: 'not-an-id' is not a UUID"
    )

    async with services.database.sessionmaker.begin() as session:
        with pytest.raises(NotFoundError) as missing:
            await replay(session, [their_letter], ours.id)
    assert missing.value.field == "id"
    async with services.database.sessionmaker() as session:
        [malformed] = [j for j in await failed_jobs(session) if j.error and "not-an-id" in j.error]
    assert not malformed.replayable and malformed.tenant_id is None
    async with services.database.sessionmaker.begin() as session:
        with pytest.raises(ConflictError, match="malformed"):
            await replay(session, [malformed.id], None)

    async with services.database.sessionmaker.begin() as session:
        replayed = await replay(session, None, ours.id)
    assert replayed.ids == [our_letter], "all of our tenant's, none of theirs"
    async with services.database.sessionmaker() as session:
        [still_dead] = await failed_jobs(session, theirs.id)
    assert still_dead.id == their_letter and not still_dead.replaying

    jobs = NotedJobs()
    assert await hand_out_replays(services.database.sessionmaker, jobs) >= 1  # the sweep's part
    assert their_message not in jobs.turns


async def _database_away(tmp_path: Path) -> Exception:
    """What a query raises when nothing listens where the database should be."""
    nowhere = Settings(data_dir=tmp_path, database_url="postgresql://atende@127.0.0.1:9/atende")
    try:
        async with open_database(nowhere) as database, database.reads() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    raise AssertionError("a database answered on port 9")


async def test_a_turn_whose_last_try_met_the_database_away_is_no_dead_letter_and_is_swept_again(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    message_id = await _customer_message(services, tenant, "Vocês entregam no sábado?")
    broker = InMemoryBroker()
    broker.state.services = services
    dead_letters_middleware = DeadLetters(TRIES, GIVE_UPS)
    dead_letters_middleware.set_broker(broker)
    last_try = TaskiqMessage(
        task_id=uuid.uuid4().hex,
        task_name=RUN_TURN,
        labels={"retry_on_error": "True", "_retries": str(TRIES - 1)},
        args=[str(message_id)],
        kwargs={},
    )
    outage = await _database_away(tmp_path)

    failed = TaskiqResult(is_err=True, return_value=None, execution_time=0.1, error=outage)
    await dead_letters_middleware.on_error(last_try, failed, outage)

    async with services.database.sessionmaker() as session:
        assert await failed_jobs(session, tenant.id) == []
        assert not (await session.get_one(Message, message_id)).processed, "not handed to a human"
    assert message_id in await unanswered_messages(services), "the sweep answers it once the database is back"

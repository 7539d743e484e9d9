"""The transactional outbox (core.outbox): outbound messages and webhook events sent with no lock
held, given up on into a dead letter an admin lists and tries again, sent once however often they are
enqueued, and taken up again when the process that claimed them died.

The services run in this process against the session's embedded PostgreSQL; the channel is the real
Telegram adapter talking to a loopback Bot API, the webhook subscriber a loopback HTTP server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text, update

from channels.base import InboundMessage
from channels.models import Channel, Contact, Conversation, Message
from channels.registry import add_channel
from channels.service import add_bot_message
from channels.views import MessageView
from conversations.delivery import deliver_message
from conversations.notify import Outgoing
from conversations.outbox import sweep
from conversations.receive import receive
from conversations.services import Services
from core import outbox
from core.accounts import Tenant
from handoff.events import MessageUpdated
from integrations.webhooks import (
    WebhookDelivery,
    create_subscription,
    deliver_webhook,
    queue_webhooks,
)
from tests.conftest import MakeTenant, run_cli
from tests.fakes._loopback import HTTPRequest, LoopbackServer, Response
from tests.fakes.telegram_api import FakeTelegram, TelegramError


class RecordingJobs:
    """The pipeline's jobs, noted instead of run: the tests run the workers themselves."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, uuid.UUID]] = []

    async def run_turn(self, message_id: uuid.UUID) -> None:
        self.calls.append(("run_turn", message_id))

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        self.calls.append(("deliver_message", message_id))

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        self.calls.append(("deliver_webhook", delivery_id))

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        self.calls.append(("ingest_upload", document_id))


class GatedTelegram(FakeTelegram):
    """A Bot API whose sendMessage waits for the test to open the gate (a slow receiver)."""

    def __init__(self) -> None:
        super().__init__(token="555000111:AAE-outbox-test-token")
        self.gated = False
        self.entered = threading.Event()
        self.gate = threading.Event()

    def respond(self, request: HTTPRequest) -> Response:
        if self.gated and request.path.lower().endswith("/sendmessage"):
            self.entered.set()
            self.gate.wait(30)
        return super().respond(request)


@pytest.fixture
def telegram() -> Iterator[GatedTelegram]:
    with GatedTelegram() as fake:
        yield fake


@pytest.fixture
def quick(services: Services) -> Services:
    """Three tries, 10 ms apart, and jobs only noted."""
    settings = dataclasses.replace(
        services.settings, delivery_attempts=3, delivery_backoff_seconds=0.01, allow_private_networks=True
    )
    return dataclasses.replace(services, settings=settings, jobs=RecordingJobs())


async def _telegram_channel(services: Services, tenant: Tenant, telegram: FakeTelegram) -> Channel:
    raw = {"type": "telegram", "token": telegram.token, "webhook_secret": "s", "api_base": telegram.base_url}
    async with services.database.sessionmaker.begin() as session:
        return await add_channel(session, tenant.id, raw, services.settings.resolved_secret_key())


async def _reply_to_customer(services: Services, channel: Channel, text_: str) -> uuid.UUID:
    """A customer writes on the channel; a reply to them is stored, with its outbox job, as a turn does."""
    chat = str(uuid.uuid4().int % 10**9 + 10**9)
    received = await receive(services, channel, InboundMessage(chat, "oi", channel_message_id=f"m-{chat}"))
    async with services.database.sessionmaker.begin() as session:
        asked = await session.get_one(Message, received.message_id)
        conversation = await session.get_one(Conversation, asked.conversation_id)
        contact = await session.get_one(Contact, conversation.contact_id)
        reply = add_bot_message(session, conversation, text_, reply_to=asked)
        await session.flush()
        Outgoing.of(reply, channel.type, contact.external_id)
        return reply.id


async def _job(services: Services, kind: str, ref_id: uuid.UUID) -> outbox.OutboxJob:
    async with services.database.sessionmaker() as session:
        job = await outbox.job_of(session, kind, ref_id)
        assert job is not None
        return job


async def _message(services: Services, message_id: uuid.UUID) -> Message:
    async with services.database.sessionmaker() as session:
        return await session.get_one(Message, message_id)


def _cli(services: Services, *args: str) -> tuple[int, str, str]:
    done = run_cli(services.settings.data_dir, "jobs", *args)
    return done.returncode, done.stdout, done.stderr


async def test_a_delivery_failing_every_try_is_dead_listed_and_sent_once_when_retried(
    quick: Services, make_tenant: MakeTenant, telegram: GatedTelegram
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _telegram_channel(quick, tenant, telegram)
    message_id = await _reply_to_customer(quick, channel, "Seu pedido saiu para entrega.")
    telegram.script("sendMessage", *[TelegramError.server_error()] * 3)

    assert await deliver_message(quick, message_id) == outbox.JobStatus.DEAD
    assert len(telegram.calls("sendMessage")) == 3, "three tries, then given up on"
    message = await _message(quick, message_id)
    assert message.delivery_status == "failed" and message.delivery_error
    job = await _job(quick, outbox.JobKind.MESSAGE, message_id)
    assert (job.status, job.attempts) == (outbox.JobStatus.DEAD, 3)
    assert job.last_error and "Internal Server Error" in job.last_error
    assert telegram.token not in job.last_error

    code, out, err = await asyncio.to_thread(_cli, quick, "failed", "--tenant", tenant.slug, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(row["id"], row["kind"], row["tenant"], row["attempts"]) for row in listed] == [
        (str(job.id), "message", tenant.slug, 3)
    ]
    assert "Internal Server Error" in listed[0]["error"] and listed[0]["age_seconds"] >= 0

    code, out, err = await asyncio.to_thread(_cli, quick, "retry", str(job.id), "--json")
    assert code == 0, err
    assert json.loads(out) == {"retried": [str(job.id)]}
    assert (await _message(quick, message_id)).delivery_status == "pending"
    assert await deliver_message(quick, message_id) == outbox.JobStatus.DONE
    assert await deliver_message(quick, message_id) == "not due", "a second worker finds nothing to do"
    assert len(telegram.calls("sendMessage")) == 4, "sent once after the retry"
    message = await _message(quick, message_id)
    assert (message.delivery_status, message.delivery_error) == ("sent", None)
    assert message.delivered_as
    code, out, _ = await asyncio.to_thread(_cli, quick, "failed", "--tenant", tenant.slug, "--json")
    assert json.loads(out) == []


async def test_retrying_a_job_that_is_unknown_malformed_or_not_dead_names_the_id(
    quick: Services, make_tenant: MakeTenant, telegram: GatedTelegram
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _telegram_channel(quick, tenant, telegram)
    message_id = await _reply_to_customer(quick, channel, "Olá!")
    pending = await _job(quick, outbox.JobKind.MESSAGE, message_id)

    code, _, err = await asyncio.to_thread(_cli, quick, "retry", "not-a-job")
    assert code != 0 and "ID" in err and "'not-a-job' is not a job id" in err
    unknown = uuid.uuid4()
    code, _, err = await asyncio.to_thread(_cli, quick, "retry", str(unknown))
    assert code != 0 and "ID" in err and f"no job {unknown}" in err
    code, _, err = await asyncio.to_thread(_cli, quick, "retry", str(pending.id))
    assert code != 0 and "ID" in err and "is pending: only dead jobs" in err
    code, _, err = await asyncio.to_thread(_cli, quick, "retry")
    assert code != 0 and "give one job ID, or --all" in err


async def test_the_same_delivery_enqueued_twice_is_one_job_and_sent_once(
    quick: Services, make_tenant: MakeTenant, telegram: GatedTelegram
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _telegram_channel(quick, tenant, telegram)
    message_id = await _reply_to_customer(quick, channel, "Uma vez só.")
    async with quick.database.sessionmaker.begin() as session:
        await outbox.enqueue(session, tenant.id, outbox.JobKind.MESSAGE, [message_id])
    async with quick.database.sessionmaker.begin() as session:
        await outbox.enqueue(session, tenant.id, outbox.JobKind.MESSAGE, [message_id, message_id])
        jobs = await session.scalar(
            select(func.count()).select_from(outbox.OutboxJob).where(outbox.OutboxJob.ref_id == message_id)
        )
    assert jobs == 1

    # Two workers handed the same job at once (a repeated enqueue, the sweep): one sends.
    ends = await asyncio.gather(deliver_message(quick, message_id), deliver_message(quick, message_id))
    assert sorted(ends) == ["done", "not due"]
    assert await deliver_message(quick, message_id) == "not due"
    assert [c.params["text"] for c in telegram.calls("sendMessage")] == ["Uma vez só."]


async def test_while_a_message_is_being_sent_its_rows_are_not_locked(
    quick: Services, make_tenant: MakeTenant, telegram: GatedTelegram
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _telegram_channel(quick, tenant, telegram)
    message_id = await _reply_to_customer(quick, channel, "Devagar.")
    telegram.gated = True
    sending = asyncio.create_task(deliver_message(quick, message_id))
    try:
        assert await asyncio.to_thread(telegram.entered.wait, 30), "the send started"
        async with quick.database.sessionmaker.begin() as session:
            locked = await session.scalar(
                text("SELECT id FROM messages WHERE id = :id FOR UPDATE NOWAIT"), {"id": message_id}
            )
            assert locked == message_id
            job = await session.scalar(
                text("SELECT status FROM outbox WHERE ref_id = :id FOR UPDATE NOWAIT"), {"id": message_id}
            )
            assert job == outbox.JobStatus.SENDING
            idle_in_transaction = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                )
            )
            assert idle_in_transaction == 0, "no transaction is held open across the send"
    finally:
        telegram.gate.set()
    assert await sending == outbox.JobStatus.DONE
    assert (await _message(quick, message_id)).delivery_status == "sent"


async def test_a_job_whose_worker_died_mid_send_is_taken_up_again_once_its_lease_runs_out(
    quick: Services, make_tenant: MakeTenant, telegram: GatedTelegram
) -> None:
    tenant = await make_tenant(with_kb=False)
    channel = await _telegram_channel(quick, tenant, telegram)
    message_id = await _reply_to_customer(quick, channel, "De novo, depois da queda.")
    sessionmaker = quick.database.sessionmaker
    died = await outbox.claim(sessionmaker, outbox.JobKind.MESSAGE, message_id, lease_seconds=600)
    assert died is not None and died.attempts == 1  # …and that process is gone

    assert await deliver_message(quick, message_id) == "not due", "its lease still runs"
    jobs = RecordingJobs()
    await sweep(sessionmaker, jobs)
    assert ("deliver_message", message_id) not in jobs.calls

    async with sessionmaker.begin() as session:
        await session.execute(
            update(outbox.OutboxJob)
            .where(outbox.OutboxJob.id == died.id)
            .values(claimed_until=func.now() - datetime.timedelta(seconds=1))
        )
    await sweep(sessionmaker, jobs)
    assert ("deliver_message", message_id) in jobs.calls
    assert await deliver_message(quick, message_id) == outbox.JobStatus.DONE
    assert len(telegram.calls("sendMessage")) == 1
    job = await _job(quick, outbox.JobKind.MESSAGE, message_id)
    assert (job.status, job.attempts) == (outbox.JobStatus.DONE, 2)

    # The first worker, were it only slow, finds its claim taken: it changes nothing.
    backoff = outbox.Backoff(3, 0.01, 1)
    async with sessionmaker.begin() as session:
        assert await outbox.finish(session, died, outbox.Failure("late"), backoff) is None
    assert (await _job(quick, outbox.JobKind.MESSAGE, message_id)).status == outbox.JobStatus.DONE


class SlowSubscriber(LoopbackServer):
    """A webhook receiver that answers 500 until told otherwise, and can be held mid-request."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 500
        self.received: list[str] = []
        self.gated = False
        self.entered = threading.Event()
        self.gate = threading.Event()

    def respond(self, request: HTTPRequest) -> Response:
        self.received.append(request.headers.get("x-atende-delivery", ""))
        if self.gated:
            self.entered.set()
            self.gate.wait(30)
        return Response.of_json(self.status, {})


async def test_a_webhook_event_goes_dead_is_retried_once_and_is_not_locked_while_posted(
    quick: Services, make_tenant: MakeTenant
) -> None:
    quick = dataclasses.replace(
        quick, settings=dataclasses.replace(quick.settings, webhook_attempts=2, webhook_backoff_seconds=0.01)
    )
    tenant = await make_tenant(with_kb=False)
    with SlowSubscriber() as subscriber:
        async with quick.database.sessionmaker.begin() as session:
            await create_subscription(
                session,
                tenant.id,
                f"{subscriber.origin}/hook",
                ["message.updated"],
                None,
                quick.settings.resolved_secret_key(),
                allow_private=True,
            )
        event = _an_event()
        [delivery_id] = await queue_webhooks(quick, tenant.id, event)
        assert await queue_webhooks(quick, tenant.id, event) != [delivery_id], "a second event is its own"

        assert await deliver_webhook(quick, delivery_id) == outbox.JobStatus.DEAD
        async with quick.database.sessionmaker() as session:
            delivery = await session.get_one(WebhookDelivery, delivery_id)
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 500)
            [dead] = await outbox.dead_jobs(session, tenant.id)
        assert (dead.kind, dead.ref_id, dead.last_error) == (
            "webhook",
            delivery_id,
            "HTTP 500: Internal Server Error",
        )

        code, out, err = await asyncio.to_thread(_cli, quick, "retry", "--all", "--json")
        assert code == 0, err
        assert str(dead.id) in json.loads(out)["retried"]
        subscriber.status, subscriber.gated = 200, True
        posting = asyncio.create_task(deliver_webhook(quick, delivery_id))
        try:
            assert await asyncio.to_thread(subscriber.entered.wait, 30)
            async with quick.database.sessionmaker.begin() as session:
                locked = await session.scalar(
                    text("SELECT status FROM webhook_deliveries WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": delivery_id},
                )
                assert locked == "pending"
        finally:
            subscriber.gate.set()
        assert await posting == outbox.JobStatus.DONE
        assert subscriber.received.count(str(delivery_id)) == 3, "two tries, then one after the retry"
        async with quick.database.sessionmaker() as session:
            delivery = await session.get_one(WebhookDelivery, delivery_id)
            assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, None)


def _an_event() -> MessageUpdated:
    """An event as the inbox hears it (only its shape matters here)."""
    ids = str(uuid.uuid4())
    view = MessageView(ids, str(uuid.uuid4()), "outbound", "bot", "Olá", "2025-01-01T00:00:00+00:00")
    return MessageUpdated(view.conversation_id, view)


def test_a_kept_error_is_one_bounded_line_without_addresses_or_personal_data() -> None:
    error = (
        "ClientResponseError: 500, message='Internal Server Error',\n url='https://api.telegram.org/"
        "bot555000111:AAE-secret/sendMessage' for ana@example.com " + "x" * 1000
    )
    kept = outbox.bounded_error(error)
    assert len(kept) == outbox.MAX_ERROR_LENGTH and "\n" not in kept
    assert kept.startswith(
        "ClientResponseError: 500, message='Internal Server Error', url='[url] for [email] x"
    )
    assert "AAE-secret" not in kept and "ana@example.com" not in kept

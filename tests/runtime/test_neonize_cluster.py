"""WhatsApp by QR code (neonize) in a cluster: the web process that leads the channel holds its session,
a worker runs the turns and takes the delivery jobs, and the replies still go out through the session,
once each; when that process stops, the one that takes over sends what was left pending.

Each process of the cluster is its own services here (own lease holder, own hand-over client, own
neonize adapter) on one real Redis and the session's real PostgreSQL; jobs run on the worker's
services as the in-process broker would. Below the adapter, a stand-in for neonize's client
(``tests.fakes.neonize_client``): there is no WhatsApp server to talk to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from channels.leading import lease_name
from channels.models import Author, Channel, Conversation, DeliveryStatus, Message
from channels.service import add_bot_message, get_or_create_channel
from channels.whatsapp_neonize import NeonizeAdapter, NeonizeSessions
from conversations.channel_host import PipelineHost
from conversations.delivery import HANDED_OVER, deliver_message
from conversations.notify import Outgoing
from conversations.services import Services
from conversations.turn import run_turn
from core import outbox
from core.accounts import Tenant
from core.handover import CHANNEL_PREFIX, RedisHandover
from core.leader import RedisLeadership
from tests.conftest import MakeTenant
from tests.fakes.neonize_client import FakeWhatsApp
from tests.runtime.conftest import RedisServer
from tests.waiting import QUIET_SECONDS

LEASE_SECONDS = 1.5
CUSTOMER = "5511987654321"
QUESTION = "Como tiro a segunda via do boleto?"


class WorkerJobs:
    """The in-process broker of a cluster with one worker: every process's jobs run on the worker."""

    def __init__(self) -> None:
        self.worker: Services | None = None
        self.deliveries: list[str] = []
        self._running: set[asyncio.Task[None]] = set()

    async def run_turn(self, message_id: uuid.UUID) -> None:
        self._spawn(self._turn(message_id))

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        self._spawn(self._deliver(message_id))

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        """No subscribers here."""

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        raise AssertionError("no uploads here")

    async def _turn(self, message_id: uuid.UUID) -> None:
        assert self.worker is not None
        await run_turn(self.worker, message_id)

    async def _deliver(self, message_id: uuid.UUID) -> None:
        assert self.worker is not None
        self.deliveries.append(await deliver_message(self.worker, message_id))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        await asyncio.gather(*self._running, return_exceptions=True)


@dataclass
class Process:
    """One process of the cluster: its services, its WhatsApp clients, its sessions (web only)."""

    services: Services
    whatsapp: FakeWhatsApp
    sessions: NeonizeSessions | None = None
    stopped: bool = False

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.sessions is not None:
            await self.sessions.stop()  # its leases released: another process takes over at once
        await self.services.leadership.aclose()
        if self.services.handover is not None:
            await self.services.handover.aclose()


class Cluster:
    """A worker and web processes on one Redis and one database."""

    def __init__(self, base: Services, redis_url: str, home: Path) -> None:
        self._base, self._redis_url, self._home = base, redis_url, home
        self._processes: list[Process] = []
        self._redis: Redis = Redis.from_url(redis_url)
        self.jobs = WorkerJobs()
        self.worker = self.process("worker", web=False)
        self.jobs.worker = self.worker.services

    def process(self, name: str, *, web: bool = True) -> Process:
        whatsapp = FakeWhatsApp()
        adapter = NeonizeAdapter(self._home / name, self._base.media, make_client=whatsapp)
        services = dataclasses.replace(
            self._base,
            adapters={**self._base.adapters, adapter.type: adapter},
            leadership=RedisLeadership(self._redis_url, LEASE_SECONDS),
            handover=RedisHandover(self._redis_url),
            jobs=self.jobs,
        )
        sessions = NeonizeSessions(PipelineHost(services), adapter) if web else None
        made = Process(services, whatsapp, sessions)
        self._processes.append(made)
        return made

    async def holders(self, channel: Channel) -> int:
        """How many processes follow the hand-overs of the channel's session (Redis's own count)."""
        [(_, count)] = await self._redis.pubsub_numsub(CHANNEL_PREFIX + lease_name(channel.type, channel.id))
        return int(count)

    async def stop(self) -> None:
        await self.jobs.drain()
        for process in self._processes:
            await process.stop()
        await self._redis.aclose()


@pytest.fixture
async def cluster(services: Services, redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Cluster]:
    made = Cluster(services, redis_server.url, tmp_path)
    try:
        yield made
    finally:
        await made.stop()


async def _until(condition: Callable[[], object], what: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _until_async(check: Callable[[], Awaitable[object]], what: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _stays(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        assert condition(), f"no longer true during the quiet period: {what}"
        await asyncio.sleep(0.1)


async def _whatsapp_channel(services: Services, tenant: Tenant) -> Channel:
    async with services.database.sessionmaker.begin() as session:
        return await get_or_create_channel(session, tenant.id, "whatsapp-neonize", "loja")


async def _bot_messages(services: Services, tenant: Tenant) -> list[Message]:
    async with services.database.sessionmaker() as session:
        found = await session.scalars(
            select(Message)
            .where(Message.tenant_id == tenant.id, Message.author == Author.BOT)
            .order_by(Message.created_at, Message.id)
        )
        return list(found)


async def _pending_reply(services: Services, tenant: Tenant, text: str) -> uuid.UUID:
    """A reply to the customer stored with its outbox job, as an agent's reply from the inbox is."""
    async with services.database.sessionmaker.begin() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.tenant_id == tenant.id))
        assert conversation is not None
        reply = add_bot_message(session, conversation, text)
        await session.flush()
        Outgoing.of(reply, "whatsapp-neonize", CUSTOMER)
        return reply.id


async def test_replies_go_out_through_the_session_holder_once_and_the_next_holder_sends_what_was_left(
    cluster: Cluster, services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    channel = await _whatsapp_channel(services, tenant)
    first, second = cluster.process("web-1"), cluster.process("web-2")
    assert first.sessions is not None and second.sessions is not None
    first.sessions.ask_for_pairing(channel)
    await _until_async(lambda: cluster.holders(channel), "the first web process to hold the session")
    second.sessions.ask_for_pairing(channel)  # takes part, while the first leads

    # A customer writes; the worker runs the turn and takes the reply's delivery job: it hands the
    # job to the first web process, whose session sends it.
    client = first.whatsapp.connected
    assert client is not None
    await client.customer_writes(CUSTOMER, QUESTION)
    await _until(lambda: len(first.whatsapp.sent) == 1, "the reply sent through the session")
    [reply] = await _bot_messages(services, tenant)
    [sent] = first.whatsapp.sent
    assert sent.to == CUSTOMER and reply.text[:40] in sent.text
    await _until(lambda: cluster.jobs.deliveries == [HANDED_OVER], "the worker to hand the job over")
    await _stays(
        lambda: (
            len(first.whatsapp.sent) == 1 and not second.whatsapp.sent and not cluster.worker.whatsapp.clients
        ),
        "the reply goes out once, from the session's holder only",
    )
    [reply] = await _bot_messages(services, tenant)
    assert (reply.delivery_status, reply.delivered_as) == (DeliveryStatus.SENT, sent.id)

    # A reply whose hand-over nobody heard waits in the outbox; the first process stops, and the
    # second, taking over the session, sends it.
    left = await _pending_reply(services, tenant, "Seu boleto foi reenviado por e-mail.")
    await first.stop()
    await _until(lambda: len(second.whatsapp.sent) == 1, "the next holder to send what was left")
    assert second.whatsapp.sent[0].text.startswith("Seu boleto foi reenviado por e-mail.")

    # Later replies are handed to the new holder.
    newer = await _pending_reply(services, tenant, "Posso ajudar em algo mais?")
    await cluster.jobs.deliver_message(newer)
    await _until(lambda: len(second.whatsapp.sent) == 2, "the new holder to send a handed-over reply")
    await _stays(
        lambda: len(first.whatsapp.sent) == 1 and len(second.whatsapp.sent) == 2,
        "each reply goes out once",
    )
    async with services.database.sessionmaker() as session:
        for message_id in (left, newer):
            message = await session.get_one(Message, message_id)
            assert message.delivery_status == DeliveryStatus.SENT
            job = await outbox.job_of(session, outbox.JobKind.MESSAGE, message_id)
            assert job is not None and (job.status, job.attempts) == (outbox.JobStatus.DONE, 1)


async def test_alone_a_neonize_reply_is_sent_by_the_one_process_as_before(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    """Embedded defaults: no Redis, nothing handed over; the delivery job sends through the session
    this same process runs."""
    tenant = await make_tenant()
    channel = await _whatsapp_channel(services, tenant)
    whatsapp, jobs = FakeWhatsApp(), WorkerJobs()
    adapter = NeonizeAdapter(tmp_path, services.media, make_client=whatsapp)
    alone = dataclasses.replace(services, adapters={**services.adapters, adapter.type: adapter}, jobs=jobs)
    jobs.worker = alone
    assert alone.handover is None
    sessions = NeonizeSessions(PipelineHost(alone), adapter)
    sessions.ask_for_pairing(channel)
    try:
        await _until(lambda: whatsapp.connected is not None, "the session to connect")
        client = whatsapp.connected
        assert client is not None
        await client.customer_writes(CUSTOMER, QUESTION)
        await _until(lambda: jobs.deliveries == [outbox.JobStatus.DONE], "the reply's delivery job")
        [reply] = await _bot_messages(services, tenant)
        [sent] = whatsapp.sent
        assert sent.to == CUSTOMER and reply.text[:40] in sent.text
        assert (reply.delivery_status, reply.delivered_as) == (DeliveryStatus.SENT, sent.id)
    finally:
        await jobs.drain()
        await sessions.stop()

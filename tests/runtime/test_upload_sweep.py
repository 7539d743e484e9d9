"""Uploads the sweep takes up again (runtime.sweeps.sweep_uploads): one queued that no worker took is
enqueued again, once per period; one whose worker died while parsing is queued again until three
workers took it, then shown failed with why and kept as a dead letter, which an admin's replay ingests.

The services run in this process against the session's embedded PostgreSQL; the jobs the sweep asks
for are noted, and run here when the test says so.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from conversations.dead_letters import failed_jobs, hand_out, replay
from conversations.services import Services
from knowledge.embeddings import Embedder
from knowledge.models import Document
from knowledge.uploads import accept_upload, process_upload
from runtime.sweeps import sweep_uploads
from tests.conftest import MakeTenant

NOW, LONG_AGO = datetime.timedelta(0), datetime.timedelta(hours=1)
ARTICLE = b"# Trocas\n\nTrocas em ate 30 dias com a nota fiscal, em qualquer loja da rede.\n"


class NotedJobs:
    """The ingests asked for, noted instead of run."""

    def __init__(self) -> None:
        self.ingests: list[tuple[uuid.UUID, uuid.UUID]] = []

    async def run_turn(self, message_id: uuid.UUID) -> None:
        raise AssertionError("no turn is run here")

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        raise AssertionError("no message is delivered here")

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        raise AssertionError("no webhook is delivered here")

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        self.ingests.append((tenant_id, document_id))


class DyingEmbedder(Embedder):
    """The real model's tokenizer for chunking, and an encoding that never ends: its worker dies then."""

    def __init__(self, real: Embedder) -> None:
        self.__dict__.update(real.__dict__)
        self.encoding = asyncio.Event()

    async def aencode(self, texts: list[str]) -> NDArray[np.float32]:
        self.encoding.set()
        await asyncio.Event().wait()
        raise AssertionError("never reached")


async def _upload(services: Services, tenant_id: uuid.UUID) -> uuid.UUID:
    async with services.database.sessionmaker.begin() as session:
        outcome = await accept_upload(
            session,
            tenant_id,
            "default",
            f"trocas-{uuid.uuid4().hex[:6]}.md",
            ARTICLE,
            services.settings.uploads_dir,
            10**6,
        )
    assert outcome.status == "queued" and outcome.document_id
    return uuid.UUID(outcome.document_id)


async def _document(services: Services, document_id: uuid.UUID) -> Document:
    async with services.database.sessionmaker() as session:
        found = await session.scalar(select(Document).where(Document.id == document_id))
    assert found is not None
    return found


async def _worker_dies_parsing(services: Services, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
    embedder = DyingEmbedder(services.embedder)
    job = asyncio.create_task(
        process_upload(
            services.database.sessionmaker, embedder, tenant_id, document_id, services.settings.uploads_dir
        )
    )
    await embedder.encoding.wait()
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    assert (await _document(services, document_id)).status == "parsing"


async def test_an_upload_no_worker_took_is_enqueued_again_once_per_period(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    document_id = await _upload(services, tenant.id)  # its job was never enqueued: Redis was away
    jobs = NotedJobs()

    await sweep_uploads(services, jobs, forgotten_after=NOW, stalled_after=LONG_AGO)
    assert (tenant.id, document_id) in jobs.ingests
    jobs.ingests.clear()
    await sweep_uploads(services, jobs, forgotten_after=LONG_AGO, stalled_after=LONG_AGO)
    assert (tenant.id, document_id) not in jobs.ingests, "handed out just now: not again this period"

    await process_upload(
        services.database.sessionmaker,
        services.embedder,
        tenant.id,
        document_id,
        services.settings.uploads_dir,
    )
    assert (await _document(services, document_id)).status == "embedded"


async def test_an_upload_whose_workers_die_is_retried_then_failed_and_a_replay_ingests_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    document_id = await _upload(services, tenant.id)
    jobs = NotedJobs()

    for tries in (1, 2, 3):
        await _worker_dies_parsing(services, tenant.id, document_id)
        assert (await _document(services, document_id)).ingest_tries == tries
        await sweep_uploads(services, jobs, forgotten_after=LONG_AGO, stalled_after=LONG_AGO)
        assert (await _document(services, document_id)).status == "parsing", "its worker may still be at it"
        await sweep_uploads(services, jobs, forgotten_after=LONG_AGO, stalled_after=NOW)
        if tries < 3:
            assert (await _document(services, document_id)).status == "queued"
            assert jobs.ingests.count((tenant.id, document_id)) == tries

    document = await _document(services, document_id)
    assert document.status == "failed"
    assert document.error is not None and "taken 3 times and never finished" in document.error
    assert jobs.ingests.count((tenant.id, document_id)) == 2, "no fourth try"
    async with services.database.sessionmaker() as session:
        [letter] = [j for j in await failed_jobs(session, tenant.id) if j.ref_id == document_id]
    assert letter.kind == "ingest" and letter.attempts == 3 and letter.replayable

    async with services.database.sessionmaker.begin() as session:
        replayed = await replay(session, [letter.id], tenant.id)
    await hand_out(services.database.sessionmaker, jobs, replayed)
    document = await _document(services, document_id)
    assert document.status == "queued" and document.ingest_tries == 0, "its tries counted afresh"
    await process_upload(
        services.database.sessionmaker,
        services.embedder,
        tenant.id,
        document_id,
        services.settings.uploads_dir,
    )
    assert (await _document(services, document_id)).status == "embedded"

"""``atende worker``: runs the jobs ``atende serve`` enqueues on Redis (turns, deliveries, webhooks,
ingests), and the periodic sweeps, once per cluster."""

from __future__ import annotations

import asyncio

import click
import structlog
from taskiq.api import run_receiver_task

from core.realtime import BackendPublisher
from core.settings import get_settings
from runtime.cli._run import run_async
from runtime.redis_channels import ResilientPubSubBackend
from runtime.redis_check import require_redis, shown

log = structlog.get_logger(__name__)


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Jobs this worker runs at once; most of a turn is waiting on an LLM, so hundreds are fine.",
)
def worker(concurrency: int) -> None:
    """Take jobs from Redis (ATENDE_REDIS_URL) until stopped; run as many workers as you like."""
    settings = get_settings()
    if not settings.redis_url:
        raise click.UsageError("a worker takes its jobs from Redis: set ATENDE_REDIS_URL")
    _work(settings.redis_url, concurrency)


@run_async
async def _work(redis_url: str, concurrency: int) -> None:
    await require_redis(redis_url)
    from conversations.services import open_services
    from runtime.broker import BrokerJobs, broker
    from runtime.sweeps import sweep_periodically

    settings = get_settings()
    publisher = BackendPublisher(ResilientPubSubBackend(redis_url))
    jobs = BrokerJobs()
    async with open_services(settings, publisher, jobs) as services:
        broker.state.services = services
        broker.is_worker_process = True
        await broker.startup()
        sweeps = asyncio.create_task(sweep_periodically(services, jobs))
        log.info("worker.ready", redis=shown(redis_url), concurrency=concurrency)
        try:
            await run_receiver_task(broker, max_async_tasks=concurrency)
        finally:
            sweeps.cancel()  # and its lease released, so that another worker sweeps at once
            await asyncio.gather(sweeps, return_exceptions=True)
            await broker.shutdown()

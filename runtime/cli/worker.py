"""``atende worker``: runs the jobs ``atende serve`` enqueues on Redis (turns, deliveries, webhooks,
ingests), and the periodic sweeps, once per cluster; with ``--metrics-port``, serves its Prometheus
metrics (``core.metrics``: turns, LLM calls, deliveries) for scraping."""

from __future__ import annotations

import asyncio
import errno
import socket

import click
import structlog
from prometheus_client import start_http_server
from taskiq.api import run_receiver_task

from core.realtime import BackendPublisher
from core.settings import get_settings
from core.tracing import configure_tracing
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
@click.option(
    "--metrics-port",
    type=click.IntRange(min=1, max=65535),
    default=None,
    help="Serve this worker's Prometheus metrics on this port (off unless given).",
)
@click.option(
    "--metrics-address",
    default="127.0.0.1",
    show_default=True,
    help="The address the metrics port listens on; they carry no login, so keep it private.",
)
def worker(concurrency: int, metrics_port: int | None, metrics_address: str) -> None:
    """Take jobs from Redis (ATENDE_REDIS_URL) until stopped; run as many workers as you like."""
    settings = get_settings()
    if not settings.redis_url:
        raise click.UsageError("a worker takes its jobs from Redis: set ATENDE_REDIS_URL")
    if metrics_port is not None:
        _serve_metrics(metrics_address, metrics_port)
    _work(settings.redis_url, concurrency)


def _serve_metrics(address: str, port: int) -> None:
    """prometheus-client's own HTTP server, in a thread: the default registry, at any path."""
    try:
        start_http_server(port, addr=address)
    except OSError as exc:  # the port is taken, or the address is unknown or not this machine's
        reason = exc.strerror or str(exc)
        unknown_address = isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL
        raise click.BadParameter(
            f"cannot listen on {address}:{port}: {reason}",
            param_hint="--metrics-address" if unknown_address else "--metrics-port",
        ) from exc
    log.info("worker.metrics", address=address, port=port)


@run_async
async def _work(redis_url: str, concurrency: int) -> None:
    await require_redis(redis_url)
    from conversations.services import open_services
    from runtime.broker import BrokerJobs, broker
    from runtime.sweeps import sweep_periodically

    settings = get_settings()
    configure_tracing(settings, "atende-worker")
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

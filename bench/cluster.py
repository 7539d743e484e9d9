"""Start Atende as a benchmark needs it: one ``atende demo``, or a cluster on a Redis of its own.

With ``workers=0`` this is the embedded default (one process, in-process jobs). With workers, it
starts a throw-away ``redis-server`` on a free port, ``atende demo`` (which seeds the demo tenant and
serves the web app, only enqueueing), ``webs - 1`` more ``atende serve`` processes on the same data
dir's database, and ``workers`` ``atende worker`` processes that run the turns. Every process logs
to a file in the data dir; ``rss_mib`` reads each one's resident memory from /proc.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ATENDE = str(Path(sys.executable).parent / "atende")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    data_dir: Path
    urls: list[str] = field(default_factory=list)
    """The web processes' base URLs; the first is the demo's."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.urls[0]

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each Atende process (not Redis or PostgreSQL), in MiB."""
        sizes: dict[str, float] = {}
        for name, process in self.processes.items():
            if name == "redis" or process.poll() is not None:
                continue
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[name] = round(int(line.split()[1]) / 1024, 1)
        return sizes


BENCH_WEBCHAT_LIMITS = {
    "ATENDE_WEBCHAT_POSTS_PER_MINUTE": "1000000",
    "ATENDE_WEBCHAT_ADDRESS_POSTS_PER_MINUTE": "1000000",
    "ATENDE_WEBCHAT_ADDRESS_SESSIONS_PER_MINUTE": "1000000",
}
"""A bench's customers all write from 127.0.0.1, faster than people: the web chat's limits are lifted."""


def _environment(data_dir: Path, redis_url: str | None) -> dict[str, str]:
    env = {**os.environ, **BENCH_WEBCHAT_LIMITS, "ATENDE_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("ATENDE_DATABASE_URL", None)
    env.pop("ATENDE_REDIS_URL", None)
    if redis_url:
        env["ATENDE_REDIS_URL"] = redis_url
    return env


def _spawn(cluster: Cluster, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    with (cluster.data_dir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    cluster.processes[name] = process
    return process


def _wait(cluster: Cluster, name: str, ready: str | None, url: str | None, until: float) -> None:
    """Until the process's log says ``ready``, or ``url``/healthz answers 200."""
    process, log_path = cluster.processes[name], cluster.data_dir / f"{name}.log"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}); see {log_path}")
        if ready is not None and ready in log_path.read_text(errors="replace"):
            return
        if url is not None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return
        if time.monotonic() > until:
            raise RuntimeError(f"{name} was not ready in time; see {log_path}")
        time.sleep(0.3)


def _start_redis(cluster: Cluster) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: run `make redis`")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    _spawn(cluster, "redis", [*argv, "--dir", str(cluster.data_dir)], dict(os.environ))
    _wait(cluster, "redis", "Ready to accept connections", None, time.monotonic() + 30)
    return f"redis://127.0.0.1:{port}/0"


def stop(cluster: Cluster) -> None:
    """Ctrl-C to every process, workers first; then the embedded PostgreSQL if it was left running."""
    order = sorted(cluster.processes, key=lambda name: (name == "redis", name.startswith("web")))
    for name in order:
        process = cluster.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    pid_file = cluster.data_dir / "pg" / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
            for _ in range(50):
                if not pid_file.exists():
                    break
                time.sleep(0.1)


@contextlib.contextmanager
def running(
    data_dir: Path, *, webs: int = 1, workers: int = 0, startup_timeout: float = 300
) -> Iterator[Cluster]:
    """Atende with ``webs`` web processes and ``workers`` workers (0: everything in one process)."""
    if workers == 0 and webs != 1:
        raise ValueError("several web processes need workers (and Redis) to share the jobs")
    cluster = Cluster(data_dir)
    until = time.monotonic() + startup_timeout
    try:
        redis_url = _start_redis(cluster) if workers else None
        env = _environment(data_dir, redis_url)
        for number in range(webs):
            port = free_port()
            command = "demo" if number == 0 else "serve"
            _spawn(cluster, f"web{number}", [ATENDE, command, "--port", str(port)], env)
            cluster.urls.append(f"http://127.0.0.1:{port}")
            _wait(cluster, f"web{number}", None, cluster.urls[-1], until)
        for number in range(workers):
            _spawn(cluster, f"worker{number}", [ATENDE, "worker"], env)
        for number in range(workers):
            _wait(cluster, f"worker{number}", "worker.ready", None, until)
        yield cluster
    finally:
        stop(cluster)

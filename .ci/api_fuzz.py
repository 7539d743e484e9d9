"""Schemathesis against a running ``atende demo``: generated requests, valid and not, on every operation
of /schema/openapi.json, as the demo tenant's admin (the public API with an API key of theirs). Fails
on any 5xx, any status code, content type or body the document does not describe, an invalid request
accepted, a request without credentials accepted, or a wrong answer to an undeclared method. Bounded
(examples per operation, one seed) so CI stays short and repeatable.

Left out: ``positive_data_acceptance``. A few admin settings bodies (escalation policy, LLM, queues,
channels) are open maps whose keys and values are checked by rules the schema does not carry yet, so
a schema-valid map of made-up keys is refused with a 422 naming the key, which is the right answer.
And ``/api/v1/auth/logout``, which would end the session the run uses. Per-operation settings are in
``.ci/schemathesis.toml``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
EXAMPLES = "10"
SEED = "20261203"
CHECKS_LEFT_OUT = "positive_data_acceptance"
ADMIN = re.compile(r"^\s*(admin@\S+)\s+password:\s+(\S+)", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_admin(log: Path, url: str, process: subprocess.Popen[bytes]) -> tuple[str, str]:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"atende demo exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        found = ADMIN.search(log.read_text())
        try:
            if found and httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return found.group(1), found.group(2)
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise SystemExit("atende demo did not become ready in 15 minutes")


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(scratch) / "demo.log"
        env = {**os.environ, "ATENDE_DATA_DIR": str(Path(scratch) / "data")}
        with log.open("wb") as out:
            server = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [str(BIN / "atende"), "demo", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            email, password = _wait_for_admin(log, url, server)
            login = httpx.post(
                f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=60
            )
            login.raise_for_status()
            token = login.json()["token"]
            staff = {"Authorization": f"Bearer {token}"}
            made = httpx.post(
                f"{url}/api/v1/admin/api-keys", json={"name": "fuzz"}, headers=staff, timeout=60
            )
            made.raise_for_status()  # the public API's calls take the key (X-API-Key wins over the token)
            command = [str(BIN / "schemathesis"), "--no-color", "--config-file", str(CONFIG), "run"]
            command += [f"{url}/schema/openapi.json"]
            command += [
                "--header",
                f"Authorization: Bearer {token}",
                "--header",
                f"X-API-Key: {made.json()['key']}",
            ]
            command += ["--exclude-checks", CHECKS_LEFT_OUT]
            command += ["--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1"]
            command += ["--exclude-path", "/api/v1/auth/logout"]  # it would end the session the run uses
            return subprocess.run(command, check=False).returncode  # noqa: S603 - fixed arguments
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())

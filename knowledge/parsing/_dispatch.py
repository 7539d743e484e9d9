"""Pick the parser by file type; every failure is an UnreadableDocumentError naming the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from knowledge.errors import UnreadableDocumentError
from knowledge.parsing import _markdown, _office
from knowledge.parsing._types import ParsedDocument


def _text(parser: Callable[[str], ParsedDocument]) -> Callable[[bytes], ParsedDocument]:
    def parse(data: bytes) -> ParsedDocument:
        try:
            decoded = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableDocumentError("not UTF-8 text") from exc
        if not decoded.strip():
            raise UnreadableDocumentError("empty file")
        return parser(decoded)

    return parse


_PARSERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    ".md": _text(_markdown.parse_markdown),
    ".markdown": _text(_markdown.parse_markdown),
    ".txt": _text(_markdown.parse_text),
    ".text": _text(_markdown.parse_text),
    ".html": _text(_office.parse_html),
    ".htm": _text(_office.parse_html),
    ".csv": _text(_office.parse_csv),
    ".pdf": _office.parse_pdf,
    ".docx": _office.parse_docx,
    ".xlsx": _office.parse_xlsx,
}
SUPPORTED_SUFFIXES = frozenset(_PARSERS)


def parse_document(name: str, data: bytes) -> ParsedDocument:
    suffix = PurePath(name).suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        raise UnreadableDocumentError(f"unsupported file type {suffix or '(none)'}")
    if not data:
        raise UnreadableDocumentError("empty file")
    parsed = parser(data)
    if not any(block.text.strip() for block in parsed.blocks if block.kind != "heading"):
        raise UnreadableDocumentError("no text found in the file")
    return parsed

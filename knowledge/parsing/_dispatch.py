"""Pick the parser by file type; every failure is an UnreadableDocumentError naming the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from core.settings import ParseLimits
from knowledge.errors import UnreadableDocumentError
from knowledge.parsing import _markdown, _office
from knowledge.parsing._types import ParsedDocument

Parser = Callable[[bytes, ParseLimits], ParsedDocument]


def _text(parser: Callable[[str, ParseLimits], ParsedDocument]) -> Parser:
    def parse(data: bytes, limits: ParseLimits) -> ParsedDocument:
        try:
            decoded = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableDocumentError("not UTF-8 text") from exc
        if not decoded.strip():
            raise UnreadableDocumentError("empty file")
        return parser(decoded, limits)

    return parse


def _unlimited(parser: Callable[[str], ParsedDocument]) -> Callable[[str, ParseLimits], ParsedDocument]:
    """A parser whose work only the file's size bounds (and the child process's time and memory)."""
    return lambda text, _: parser(text)


_PARSERS: dict[str, Parser] = {
    ".md": _text(_unlimited(_markdown.parse_markdown)),
    ".markdown": _text(_unlimited(_markdown.parse_markdown)),
    ".txt": _text(_unlimited(_markdown.parse_text)),
    ".text": _text(_unlimited(_markdown.parse_text)),
    ".html": _text(_unlimited(_office.parse_html)),
    ".htm": _text(_unlimited(_office.parse_html)),
    ".csv": _text(_office.parse_csv),
    ".pdf": _office.parse_pdf,
    ".docx": _office.parse_docx,
    ".xlsx": _office.parse_xlsx,
}
SUPPORTED_SUFFIXES = frozenset(_PARSERS)


def parse_document(name: str, data: bytes, limits: ParseLimits = ParseLimits()) -> ParsedDocument:
    """Parse here, in this process (the ingest parses in a child process: ``knowledge.parse_apart``)."""
    suffix = PurePath(name).suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        raise UnreadableDocumentError(f"unsupported file type {suffix or '(none)'}")
    if not data:
        raise UnreadableDocumentError("empty file")
    parsed = parser(data, limits)
    if not any(block.text.strip() for block in parsed.blocks if block.kind != "heading"):
        raise UnreadableDocumentError("no text found in the file")
    return parsed

"""Markdown and plain text: headings, paragraphs, and lists and tables kept whole."""

from __future__ import annotations

import re

from knowledge.parsing._types import Block, ParsedDocument

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def markdown_blocks(text: str, page: int | None = None) -> list[Block]:
    blocks: list[Block] = []
    current: list[str] = []
    kind = "text"

    def flush() -> None:
        nonlocal current, kind
        if current:
            blocks.append(
                Block("\n".join(current).strip(), kind="table" if kind == "table" else "text", page=page)
            )
        current, kind = [], "text"

    for raw in text.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line.strip())
        if heading:
            flush()
            blocks.append(
                Block(heading.group(2).strip(), kind="heading", level=len(heading.group(1)), page=page)
            )
            continue
        if not line.strip():
            # A blank line ends a paragraph, but not a list or table that continues after it.
            if kind == "text":
                flush()
            continue
        line_kind = "table" if line.lstrip().startswith("|") else "list" if _LIST_ITEM.match(line) else "text"
        if current and line_kind != kind and not (kind == "list" and line.startswith((" ", "\t"))):
            flush()
        kind = line_kind if not current else kind
        current.append(line)
    flush()
    return [b for b in blocks if b.text]


def parse_markdown(data: str) -> ParsedDocument:
    blocks = markdown_blocks(data)
    title = next((b.text for b in blocks if b.kind == "heading"), None)
    return ParsedDocument(format="markdown", blocks=blocks, title=title)


def parse_text(data: str) -> ParsedDocument:
    return ParsedDocument(format="text", blocks=markdown_blocks(data))

"""Split Markdown and text along headings and paragraphs into chunks that fit the embedding model."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHUNK_WORDS = 160
"""all-MiniLM-L6-v2 reads 256 word pieces; ~160 words stays inside that for Portuguese and English."""

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class TextChunk:
    heading_path: str
    text: str


def document_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            return match.group(2).strip()
    return fallback


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _split_long(paragraph: str) -> list[str]:
    """Cut a paragraph longer than the limit at sentence ends."""
    words = paragraph.split()
    if len(words) <= MAX_CHUNK_WORDS:
        return [paragraph]
    pieces: list[str] = []
    current: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
        if current and len(" ".join(current).split()) + len(sentence.split()) > MAX_CHUNK_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    # A single sentence longer than the limit is cut by words.
    result = []
    for piece in pieces:
        piece_words = piece.split()
        for start in range(0, len(piece_words), MAX_CHUNK_WORDS):
            result.append(" ".join(piece_words[start : start + MAX_CHUNK_WORDS]))
    return result


def chunk_markdown(text: str) -> list[TextChunk]:
    """Sections by heading; paragraphs of a section packed together up to the word limit."""
    sections: list[tuple[list[str], list[str]]] = []
    path: list[str] = []
    body: list[str] = []
    for line in text.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            sections.append((list(path), body))
            level = len(match.group(1))
            path = [*path[: level - 1], match.group(2).strip()]
            body = []
        else:
            body.append(line)
    sections.append((list(path), body))

    chunks: list[TextChunk] = []
    for heading, lines in sections:
        heading_path = " › ".join(h for h in heading if h)
        packed: list[str] = []
        for paragraph in (p for para in _paragraphs(lines) for p in _split_long(para)):
            if packed and len(" ".join(packed).split()) + len(paragraph.split()) > MAX_CHUNK_WORDS:
                chunks.append(TextChunk(heading_path, "\n\n".join(packed)))
                packed = []
            packed.append(paragraph)
        if packed:
            chunks.append(TextChunk(heading_path, "\n\n".join(packed)))
    return chunks

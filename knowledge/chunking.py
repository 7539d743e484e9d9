"""Chunks that follow the document's structure and fit the embedding model.

Headings give every chunk its path ("Returns › Refund times"); paragraphs of a section are packed
together up to the token budget; tables and lists stay whole where they fit; a long section is cut
at sentence ends with one sentence of overlap; each FAQ pair is a chunk of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from knowledge.errors import UnreadableDocumentError
from knowledge.parsing import Block

TokenCounter = Callable[[str], int]
DEFAULT_MAX_TOKENS = 200
"""all-MiniLM-L6-v2 reads 256 word pieces; the rest is left for the title and heading path."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def approximate_tokens(text: str) -> int:
    """Word pieces per word run about 1.3 in Portuguese and English; used when no tokenizer is given."""
    return int(len(text.split()) * 1.3) + 1


@dataclass(frozen=True)
class TextChunk:
    heading_path: str
    text: str
    page: int | None = None


def _split_oversized(block: Block, count: TokenCounter, max_tokens: int) -> Iterator[str]:
    """Cut a block that alone exceeds the budget: tables by rows, text by sentences, then by words."""
    units = block.text.splitlines() if block.kind == "table" else _SENTENCE_END.split(block.text)
    current: list[str] = []
    joiner = "\n" if block.kind == "table" else " "
    for unit in units:
        if count(unit) > max_tokens:
            words = unit.split()
            step = max(1, int(max_tokens / 1.5))
            units_of_words = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        else:
            units_of_words = [unit]
        for part in units_of_words:
            if current and count(joiner.join([*current, part])) > max_tokens:
                yield joiner.join(current)
                # One sentence of overlap keeps the thread between two pieces of a paragraph.
                overlap = (
                    current[-1] if block.kind != "table" and count(current[-1]) < max_tokens // 4 else None
                )
                current = [overlap] if overlap else []
            current.append(part)
    if current:
        yield joiner.join(current)


def _last_sentence(block: Block, count: TokenCounter, max_tokens: int) -> Block | None:
    """The closing sentence of a paragraph, carried into the next chunk as a small overlap."""
    if block.kind != "text":
        return None
    sentence = _SENTENCE_END.split(block.text)[-1]
    if sentence == block.text or count(sentence) >= max_tokens // 4:
        return None
    return Block(sentence, page=block.page)


def chunk_blocks(
    blocks: list[Block],
    count: TokenCounter = approximate_tokens,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_chunks: int | None = None,
) -> list[TextChunk]:
    """The document's chunks; more than ``max_chunks`` stops the work at once and refuses the document."""
    chunks: list[TextChunk] = []
    path: list[str] = []
    packed: list[Block] = []

    def add(chunk: TextChunk) -> None:
        if max_chunks is not None and len(chunks) >= max_chunks:
            raise UnreadableDocumentError(
                f"the document makes over {max_chunks} chunks, the limit per file (ATENDE_PARSE_MAX_CHUNKS)"
            )
        chunks.append(chunk)

    def heading_path() -> str:
        return " › ".join(path)

    def flush() -> None:
        if packed:
            add(TextChunk(heading_path(), "\n\n".join(b.text for b in packed), packed[0].page))
            packed.clear()

    for block in blocks:
        if block.kind == "heading":
            flush()
            path[:] = [*path[: max(block.level - 1, 0)], block.text]
            continue
        if block.kind == "qa":
            flush()
            question = block.text.split("\n", 1)[0]
            add(TextChunk(" › ".join([*path, question]), block.text, block.page))
            continue
        size = count(block.text)
        if size > max_tokens:
            flush()
            for piece in _split_oversized(block, count, max_tokens):
                add(TextChunk(heading_path(), piece, block.page))
            continue
        # A new page starts a new chunk, so a citation's page is exact.
        if packed and block.page != packed[0].page:
            flush()
        elif packed and count("\n\n".join([*(b.text for b in packed), block.text])) > max_tokens:
            overlap = _last_sentence(packed[-1], count, max_tokens)
            flush()
            if overlap and count(f"{overlap.text}\n\n{block.text}") <= max_tokens:
                packed.append(overlap)
        packed.append(block)
    flush()
    return chunks


def document_title(blocks: list[Block], fallback: str) -> str:
    return next((b.text for b in blocks if b.kind == "heading"), fallback)


def embedding_text(title: str, heading_path: str, text: str) -> str:
    """What gets embedded for a chunk: where it sits in the document, then its text."""
    where = heading_path if heading_path.startswith(title) else f"{title} › {heading_path}"
    return f"{where.rstrip(' ›')}\n{text}"

"""Chunks follow the document's structure and stay within the model's reach."""

from __future__ import annotations

import itertools

from knowledge.chunking import DEFAULT_MAX_TOKENS, TextChunk, approximate_tokens, chunk_blocks
from knowledge.parsing import Block
from knowledge.parsing._markdown import markdown_blocks


def chunk_markdown(text: str, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[TextChunk]:
    return chunk_blocks(markdown_blocks(text), approximate_tokens, max_tokens)


def test_chunks_keep_their_heading_path() -> None:
    text = (
        "# Returns\n\nIntro line.\n\n## Refund times\n\nRefunds take 10 days.\n\n### Pix\n\nPix is instant.\n"
    )
    assert [(c.heading_path, c.text) for c in chunk_markdown(text)] == [
        ("Returns", "Intro line."),
        ("Returns › Refund times", "Refunds take 10 days."),
        ("Returns › Refund times › Pix", "Pix is instant."),
    ]


def test_long_sections_are_cut_at_sentences_with_one_sentence_of_overlap() -> None:
    sentences = [f"Frase número {i} explica uma regra diferente da loja." for i in range(60)]
    chunks = chunk_markdown("# Longo\n\n" + " ".join(sentences), max_tokens=60)
    assert len(chunks) >= 5
    assert all(approximate_tokens(c.text) <= 60 for c in chunks)
    for previous, following in itertools.pairwise(chunks):
        assert following.text.split(". ")[0].rstrip(".") in previous.text  # the overlap
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_lists_and_tables_stay_whole() -> None:
    text = (
        "# Prazos\n\nEntregamos em todo o Brasil:\n\n- Sudeste: 2 a 4 dias.\n- Sul: 3 a 6 dias.\n\n"
        "| região | prazo |\n| --- | --- |\n| Norte | 7 a 12 dias |\n"
    )
    [chunk] = chunk_markdown(text)
    assert "- Sudeste: 2 a 4 dias.\n- Sul: 3 a 6 dias." in chunk.text
    assert "| Norte | 7 a 12 dias |" in chunk.text


def test_each_faq_pair_is_its_own_chunk_and_pages_are_kept() -> None:
    blocks = [
        Block("Posso trocar?\nSim, em 7 dias.", kind="qa"),
        Block("Aceitam Pix?\nSim, com 5% de desconto.", kind="qa"),
        Block("Texto da página dois.", page=2),
    ]
    chunks = chunk_blocks(blocks)
    assert [(c.heading_path, c.page) for c in chunks] == [
        ("Posso trocar?", None),
        ("Aceitam Pix?", None),
        ("", 2),
    ]


def test_consecutive_chunks_of_a_section_share_one_sentence() -> None:
    paragraphs = [f"Parágrafo {i} fala do prazo. Ele termina com a frase de número {i}." for i in range(12)]
    chunks = chunk_markdown("# Seção\n\n" + "\n\n".join(paragraphs), max_tokens=60)
    assert len(chunks) > 2
    for previous, following in itertools.pairwise(chunks):
        closing = previous.text.rsplit(". ", 1)[-1]
        assert following.text.startswith(closing)

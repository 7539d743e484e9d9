"""Chunks follow the document's headings and stay within the model's reach."""

from __future__ import annotations

from knowledge.chunking import MAX_CHUNK_WORDS, chunk_markdown, document_title


def test_chunks_keep_their_heading_path() -> None:
    text = (
        "# Returns\n\nIntro line.\n\n## Refund times\n\nRefunds take 10 days.\n\n### Pix\n\nPix is instant.\n"
    )
    chunks = chunk_markdown(text)
    assert [(c.heading_path, c.text) for c in chunks] == [
        ("Returns", "Intro line."),
        ("Returns › Refund times", "Refunds take 10 days."),
        ("Returns › Refund times › Pix", "Pix is instant."),
    ]
    assert document_title(text, "fallback") == "Returns"


def test_long_sections_are_split_under_the_word_limit() -> None:
    sentence = "Esta frase tem exatamente dez palavras para contar o limite. "
    text = "# Longo\n\n" + sentence * 60
    chunks = chunk_markdown(text)
    assert len(chunks) >= 4
    assert all(len(c.text.split()) <= MAX_CHUNK_WORDS for c in chunks)
    assert " ".join(c.text for c in chunks).split() == (sentence * 60).split()

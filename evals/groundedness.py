"""Is each sentence of a reply supported by a passage the reply cites? Offline: an embedding check.

A reply sentence is supported when a sentence of a cited passage contains it (the offline answerer
quotes) or means nearly the same (cosine similarity of sentence embeddings at or above
``SUPPORTED_AT``). This is a proxy for entailment, honest about what it is: a paraphrase that adds a
number the passage does not give can still pass; an LLM judge catches that.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.answerer import split_sentences
from knowledge.embeddings import Embedder
from knowledge.text import normalize

SUPPORTED_AT = 0.8


def _plain(text: str) -> str:
    return " ".join(normalize(text).split()).strip(" .!?")


async def groundedness(reply: str, passages: Sequence[str], embedder: Embedder) -> float | None:
    """Share of the reply's sentences supported by the passages; None when there is nothing to check."""
    sentences = split_sentences(reply)
    evidence = [s for passage in passages for s in split_sentences(passage)]
    if not sentences or not evidence:
        return None
    whole = [_plain(p) for p in passages]
    unsupported = [s for s in sentences if not any(_plain(s) in text for text in whole)]
    if unsupported:
        vectors = await embedder.aencode([*unsupported, *evidence])
        similarity = vectors[: len(unsupported)] @ vectors[len(unsupported) :].T
        still = int((similarity.max(axis=1) < SUPPORTED_AT).sum())
    else:
        still = 0
    return (len(sentences) - still) / len(sentences)
